import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage, openBrowser, type TestBrowser } from '../support/browser.ts';
import { LOA2, LOA3, startOidcProvider, type TestProvider } from '../support/identity.ts';
import { PEOPLE, startServer, type TestServer } from '../support/server.ts';

/** e-ID sign-in through a real OpenID provider, and the step-up a grant needs after a weak one. */
describe('e-ID sign-in and step-up in a browser', () => {
  let provider: TestProvider;
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    provider = await startOidcProvider();
    server = await startServer('pglite', {
      publicHost: 'localhost',
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.clientId,
        OIDC_CLIENT_SECRET: provider.clientSecret,
        OIDC_ACR_VALUES: `${LOA3} ${LOA2}`,
      },
    });
    provider.register(`${server.url}/auth/oidc/callback`);
    browser = await openBrowser();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await provider?.close();
  });

  it('signs in with e-ID from the start page', async () => {
    provider.account = { personalNumber: PEOPLE.tolvan, acr: LOA2, name: 'Tolvan Tolvansson' };
    await page.goto(server.url);
    await page.getByRole('link', { name: 'Logga in med e-legitimation' }).click();
    await page.getByRole('heading', { name: 'Mina fullmakter' }).waitFor();
    await page.getByText('Inloggad som Tolvan Tolvansson').waitFor();
  });

  it('asks for a stronger sign-in before granting, and keeps the wizard’s input through it', async () => {
    await page.getByRole('link', { name: 'Ge en fullmakt' }).click();
    await page.getByLabel('Ombudets personnummer').fill('196805144026');
    await page.getByRole('button', { name: 'Nästa' }).click();
    await page.getByLabel('Se recept').check();
    for (let step = 0; step < 3; step++) await page.getByRole('button', { name: 'Nästa' }).click();
    await page.getByRole('button', { name: 'Ge fullmakten' }).click();
    await page.getByText('Du behöver logga in igen för att göra det här.', { exact: false }).waitFor();
    await checkPage(page, 'grant-step-up');

    // This time the person uses a stronger e-ID; the provider forgets its earlier single sign-on.
    provider.account = { personalNumber: PEOPLE.tolvan, acr: LOA3, name: 'Tolvan Tolvansson' };
    await browser.context.clearCookies({ domain: new URL(provider.issuer).hostname });
    await page.getByRole('link', { name: 'Logga in igen med e-legitimation' }).click();
    await page.getByRole('heading', { name: 'Vem ska få fullmakten?' }).waitFor();
    expect(await page.getByLabel('Ombudets personnummer').inputValue()).toBe('196805144026');
    await page.getByRole('button', { name: 'Nästa' }).click();
    expect(await page.getByLabel('Se recept').isChecked()).toBe(true);
    for (let step = 0; step < 3; step++) await page.getByRole('button', { name: 'Nästa' }).click();
    await page.getByRole('button', { name: 'Ge fullmakten' }).click();
    await page.getByText('Klart. Fullmakten gäller nu.').waitFor();
    expect(browser.problems).toEqual([]);
  });
});
