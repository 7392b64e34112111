import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../server/demo.ts';
import { checkPage, openBrowser, type TestBrowser } from '../support/browser.ts';
import { startServer, type TestServer } from '../support/server.ts';

/** Passkeys and sessions through the web app, with a virtual authenticator on `localhost`. */
describe('sign-in and security page in a browser', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    server = await startServer('pglite', { publicHost: 'localhost' });
    await seedDemo(server.ctx);
    browser = await openBrowser({ passkeys: true });
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const passkeys = () => page.getByRole('region', { name: 'Nycklar (passkeys)' });
  const sessions = () => page.getByRole('region', { name: 'Var du är inloggad' });

  it('creates, lists and renames a passkey', async () => {
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Anna Andersson' }).click();
    await page.getByRole('heading', { name: 'Mina fullmakter' }).waitFor();
    await page.getByRole('link', { name: 'Inloggning' }).click();
    await passkeys().getByText('Du har ingen nyckel ännu.').waitFor();

    await page.getByLabel('Namn på nyckeln').fill('Min telefon');
    await page.getByRole('button', { name: 'Skapa en nyckel' }).click();
    await page.getByText('Nyckeln är skapad.').waitFor();
    await passkeys().getByText('Min telefon', { exact: true }).waitFor();
    await sessions().getByText('Den här enheten').waitFor();
    await checkPage(page, 'security-passkey');

    await page.getByRole('button', { name: 'Byt namn på Min telefon' }).click();
    await page.getByLabel('Nytt namn på Min telefon').fill('Telefonen');
    await page.getByRole('button', { name: 'Spara' }).click();
    await page.getByText('Namnet är ändrat.').waitFor();
    await passkeys().getByText('Telefonen', { exact: true }).waitFor();
  });

  it('signs in with the passkey from the start page', async () => {
    await page.getByRole('button', { name: 'Logga ut', exact: true }).click();
    await page.getByRole('button', { name: 'Logga in med nyckel (passkey)' }).click();
    await page.getByRole('heading', { name: 'Mina fullmakter' }).waitFor();
    await page.getByRole('link', { name: 'Inloggning' }).click();
    await sessions().getByText('Inloggad med nyckel').waitFor();
    expect(await passkeys().getByText(/Senast använd/).count()).toBe(1);
  });

  it('offers the passkey when a change needs a recent strong sign-in, and the change then goes through', async () => {
    // The sign-in is no longer recent: as if the step-up window had passed.
    await server.ctx.database.db.updateTable('sessions').set({ strong_at: null }).execute();
    await page.getByRole('link', { name: 'Mina fullmakter' }).click();
    await page.getByRole('link', { name: 'Visa allt om fullmakten' }).first().click();
    await page.locator('#end-button').click();
    await page.locator('#confirm-end').click();
    await page.getByText('Du behöver logga in igen för att göra det här.', { exact: false }).waitFor();
    await checkPage(page, 'security-step-up');
    await page.getByRole('button', { name: 'Logga in igen med nyckel (passkey)' }).click();
    await page.getByText('Du är inloggad igen. Försök en gång till.').waitFor();
    await page.getByText('Inloggad som Anna Andersson').waitFor();
    await page.locator('#confirm-end').click();
    await page.getByText('Fullmakten är återkallad.').waitFor();
    await page.getByRole('link', { name: 'Inloggning' }).click();
  });

  it('removes the passkey and signs out everywhere', async () => {
    await page.getByRole('button', { name: 'Ta bort nyckeln Telefonen' }).click();
    await page.getByText('Nyckeln är borttagen.').waitFor();
    await passkeys().getByText('Du har ingen nyckel ännu.').waitFor();
    await page.getByRole('button', { name: 'Logga ut överallt' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
    expect(browser.problems).toEqual([]);
  });
});
