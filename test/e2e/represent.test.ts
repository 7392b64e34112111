import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_JOINT_COMPANY, DEMO_ORGANISATION, seedDemo } from '../../server/demo.ts';
import { checkPage, devSignIn, loaded, openBrowser, type TestBrowser } from '../support/browser.ts';
import { inDays, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';

/** Acting for someone by law as well as by mandate, and joint signatories approving in the browser. */
describe('representing others in a browser', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    server = await startServer('pglite');
    await seedDemo(server.ctx);
    browser = await openBrowser();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const heading = () => page.locator('main h1');
  const header = () => page.locator('header');
  const card = (name: string) => page.locator('li.card', { has: page.getByRole('heading', { name, exact: true }) });

  const signInAs = (name: string) => devSignIn(page, server.url, name);

  async function openActFor() {
    await page.getByRole('link', { name: 'Företräda någon' }).click();
    await expect.poll(() => heading().textContent()).toBe('Företräda någon');
    await loaded(page);
  }

  async function signOut() {
    await page.getByRole('button', { name: 'Logga ut' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
  }

  it('a guardian sees the child, and the company they sign for jointly', async () => {
    await signInAs('Erik Lindqvist');
    await openActFor();
    const maja = card('Maja Lindqvist');
    await maja.getByText(/^Du är vårdnadshavare, till och med \d+ \w+ \d{4}\.$/).waitFor();
    await maja.getByText('(Apoteket)', { exact: false }).first().waitFor();
    const company = card(DEMO_JOINT_COMPANY.name);
    await company.getByText('Du är firmatecknare och skriver under tillsammans med andra.').waitFor();
    await company.getByText('Organisationsnummer 559900-1129').waitFor();
    await checkPage(page, 'represent-01-guardian');

    await maja.getByRole('button', { name: 'Företräd Maja Lindqvist' }).click();
    await expect.poll(() => header().textContent()).toContain('Du företräder nu Maja Lindqvist.');
    await maja.getByText('Du företräder just nu den här personen eller organisationen.').waitFor();
    await header().getByRole('button', { name: 'Tillbaka till mig själv' }).click();
    await expect.poll(() => header().textContent()).toContain('Inloggad som Erik Lindqvist');
  });

  it('a trustee sees the person, the scope and the mandate from the same person together', async () => {
    await signOut();
    await signInAs('Karin Andersson');
    await openActFor();
    const anna = card('Anna Andersson');
    await anna.getByText('Du är god man eller förvaltare för ekonomi och egendom.').waitFor();
    await anna.getByText('Du har en fullmakt.').waitFor();
    await anna.getByText('(Skatteverket)', { exact: false }).first().waitFor();
    expect(await card('Maja Lindqvist').count()).toBe(0);
    await checkPage(page, 'represent-02-trustee');
  });

  it('a signatory who signs alone acts for the company, in Swedish and in English', async () => {
    await signOut();
    await signInAs('Tolvan Tolvansson');
    await openActFor();
    const company = card('Exempelbyrån AB');
    await company.getByText('Du är firmatecknare och får skriva under ensam.').waitFor();
    await company.getByText('(Exempelbanken)', { exact: false }).first().waitFor();
    await company.getByRole('button', { name: 'Företräd Exempelbyrån AB' }).click();
    await expect.poll(() => header().textContent()).toContain('Du företräder nu Exempelbyrån AB.');
    await checkPage(page, 'represent-03-signatory-acting');

    await page.getByRole('button', { name: 'Change language to English' }).click();
    await expect.poll(() => heading().textContent()).toBe('Act for someone');
    await company.getByText('You are an authorised signatory (firmatecknare) and may sign alone.').waitFor();
    await checkPage(page, 'represent-04-english');
    await page.getByRole('button', { name: 'Byt språk till svenska' }).click();
    await header().getByRole('button', { name: 'Tillbaka till mig själv' }).click();
    await expect.poll(() => header().textContent()).toContain('Inloggad som Tolvan Tolvansson');
  });

  it('a joint signatory sees who has approved and approves; the last approval makes it valid', async () => {
    const erik = await server.signIn(PEOPLE.erik);
    const granted = await erik.post('/api/mandates', {
      principal: { type: 'organisation', id: DEMO_JOINT_COMPANY.id },
      agents: [person(PEOPLE.anna)],
      scopes: [{ service: 'exempelbanken.accounts', permissions: ['view-accounts'] }],
      validTo: inDays(60),
    });
    expect(granted.status).toBe(201);
    expect(granted.body.status).toBe('pending');

    await signOut();
    await signInAs('Karin Andersson');
    await page.getByRole('link', { name: 'För företag jag tecknar' }).click();
    const waiting = page.getByText('Väntar på godkännande av dig.');
    await waiting.waitFor();
    await checkPage(page, 'represent-05-signatory-list');
    await page.locator('li.card', { has: waiting }).getByRole('link', { name: 'Visa allt om fullmakten' }).click();
    await page.getByRole('heading', { name: 'Godkännanden' }).waitFor();
    await page.getByText(/^Erik Lindqvist godkände den /).waitFor();
    await page.getByText('Du har inte godkänt ännu.').waitFor();
    await page.locator('main').getByText('Väntar på godkännande', { exact: true }).waitFor();
    await checkPage(page, 'represent-06-approve');

    await page.getByRole('button', { name: 'Godkänn' }).click();
    await page.getByText('Du har godkänt fullmakten.').waitFor();
    await page.getByText(/^Du godkände den /).waitFor();
    expect(await page.getByRole('button', { name: 'Godkänn' }).count()).toBe(0);
    await page.locator('main').getByText('Gäller', { exact: true }).waitFor();
    await checkPage(page, 'represent-07-approved');
    const after = await erik.get(`/api/mandates/${granted.body.id}`);
    expect(after.body.status).toBe('active');
  });

  it('an employee sees the client of the firm that lets them act for it', async () => {
    const firm = { type: 'organisation' as const, id: DEMO_ORGANISATION.id };
    const anna = await server.signIn(PEOPLE.anna);
    const tax = { service: 'skatteverket.income-tax', permissions: ['view-return'] };
    expect((await anna.post('/api/mandates', { agents: [firm], scopes: [tax], validTo: inDays(60) })).status).toBe(201);
    const tolvan = await server.signIn(PEOPLE.tolvan);
    expect((await tolvan.post('/api/mandates', { principal: firm, agents: [person(PEOPLE.erik)], scopes: [tax], validTo: inDays(30) })).status).toBe(201);

    await signOut();
    await signInAs('Erik Lindqvist');
    await openActFor();
    const client = card('Anna Andersson');
    await client.getByText('Exempelbyrån AB har en fullmakt och har låtit dig använda den.').waitFor();
    await client.getByText('Se deklarationen (Skatteverket)').waitFor();
    await checkPage(page, 'represent-08-through-firm');
  });

  it('ran under the strict Content-Security-Policy without a violation or a script error', () => {
    expect(browser.problems).toEqual([]);
  });
});
