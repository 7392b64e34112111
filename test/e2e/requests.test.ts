import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../server/demo.ts';
import { checkPage, devSignIn, openBrowser, tabTo, type TestBrowser } from '../support/browser.ts';
import { startServer, type TestServer } from '../support/server.ts';

/** Erik asks Anna for a power of attorney in the browser; she gives less than he asked for. */
describe('requests in a browser', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let requestId: string;

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
  const requestsLink = () => page.getByRole('navigation', { name: 'Huvudmeny' }).getByRole('link', { name: /^Förfrågningar/ });

  async function signOut() {
    await page.getByRole('button', { name: 'Logga ut' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
  }

  /** Fills the form the quick way, for the requests the story needs besides the first. */
  async function ask(personalNumber: string, permission: string) {
    await page.goto(`${server.url}/requests/new`);
    await page.getByLabel('Personnummer till den du vill företräda').fill(personalNumber);
    await page.getByLabel(permission).check();
    await page.getByRole('button', { name: 'Skicka förfrågan' }).click();
  }

  it('asks a person for a power of attorney, with the number checked as it is typed', async () => {
    await devSignIn(page, server.url, 'Erik Lindqvist');
    await requestsLink().click();
    await expect.poll(() => heading().textContent()).toBe('Förfrågningar');
    await page.getByText('Ingen väntar på svar från dig.').waitFor();
    await page.getByRole('link', { name: 'Som jag har skickat' }).click();
    await page.getByRole('link', { name: 'Be någon om en fullmakt' }).click();
    await expect.poll(() => heading().textContent()).toBe('Be om en fullmakt');
    expect(await page.evaluate('document.activeElement?.tagName')).toBe('H1');

    await tabTo(page, '#principal');
    await page.keyboard.type('19400321-2381');
    await page.getByText('Sista siffran stämmer inte').waitFor();
    await page.keyboard.press('Backspace');
    await page.keyboard.type('0');
    await page.getByText('Personnumret ser rätt ut.').waitFor();

    // Sending with nothing chosen says what is missing, beside the list of services.
    await page.getByRole('button', { name: 'Skicka förfrågan' }).click();
    await page.getByText('Välj minst en sak som ombudet får göra.').waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('scopes-error');

    await page.getByLabel('Sök bland tjänsterna').fill('deklaration');
    await page.getByLabel('Se deklarationen').check();
    await page.getByLabel('Lämna deklarationen').check();
    expect(await page.locator('#until').inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await page.getByLabel('Meddelande (om du vill)').fill('Hej Anna! Jag hjälper dig gärna med deklarationen. <b>inte fet</b>');
    await page.getByText('934 tecken kvar.').waitFor();
    await checkPage(page, 'requests-01-ask');
    await page.getByRole('button', { name: 'Skicka förfrågan' }).click();

    await page.getByText('Förfrågan är skickad.', { exact: false }).waitFor();
    const open = page.getByRole('region', { name: 'Väntar på svar' });
    await open.getByText(/^Du ber om att få se deklarationen och lämna deklarationen \(Skatteverket\) åt Anna Andersson till och med \d{1,2} \w+ \d{4}\.$/).waitFor();
    await open.locator('.status').getByText('Väntar på svar').waitFor();
    await checkPage(page, 'requests-02-sent');
  });

  it('explains each refusal: a second request to the same person, and a lock-out with its end', async () => {
    await ask('194003212380', 'Se skattekontot');
    await page.getByRole('alert').getByText('Du har redan en obesvarad förfrågan till den här personen.', { exact: false }).waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('send-problem');
    await checkPage(page, 'requests-03-already-open');

    await page.route(
      (url) => url.pathname === '/api/requests',
      (route) =>
        route.fulfill({
          status: 429,
          contentType: 'application/problem+json',
          body: JSON.stringify({ status: 429, code: 'requests-locked-out', detail: 'Locked out.', retryAfter: '2027-01-15T10:00:00.000Z' }),
        }),
      { times: 1 },
    );
    await page.getByRole('button', { name: 'Skicka förfrågan' }).click();
    await page.getByRole('alert').getByText(/Du kan fråga igen tidigast 15 januari 2027 (kl\. )?11:00\./).waitFor();

    await page.route(
      (url) => url.pathname === '/api/requests',
      (route) =>
        route.fulfill({
          status: 429,
          contentType: 'application/problem+json',
          body: JSON.stringify({ status: 429, code: 'too-many-open-requests', detail: 'Too many.', maxOpen: 20 }),
        }),
      { times: 1 },
    );
    await page.getByRole('button', { name: 'Skicka förfrågan' }).click();
    await page.getByRole('alert').getByText('Du kan ha högst 20 obesvarade förfrågningar samtidigt.', { exact: false }).waitFor();
  });

  it('the person asked sees it in the menu and the list, with the message as plain text', async () => {
    await signOut();
    await devSignIn(page, server.url, 'Anna Andersson');
    await expect.poll(() => requestsLink().textContent()).toMatch(/Förfrågningar\s*1/);
    expect(await requestsLink().getAttribute('href')).toBe('/requests');
    await page.getByRole('link', { name: /^Förfrågningar\s*,\s*1 obesvarad$/ }).waitFor();

    await tabTo(page, 'nav a[href="/requests"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => heading().textContent()).toBe('Förfrågningar');
    expect(await page.evaluate('document.activeElement?.tagName')).toBe('H1');
    const open = page.getByRole('region', { name: 'Väntar på ditt svar' });
    await open.getByText(/^Erik Lindqvist ber om att få se deklarationen och lämna deklarationen \(Skatteverket\) åt dig till och med /).waitFor();
    await open.getByText('Hej Anna! Jag hjälper dig gärna med deklarationen. <b>inte fet</b>').waitFor();
    expect(await open.locator('blockquote b').count()).toBe(0);
    await checkPage(page, 'requests-04-incoming');
  });

  it('approves it narrowed, one permission fewer, with the keyboard, after signing in again when asked to', async () => {
    await tabTo(page, 'a[href^="/requests/"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => heading().textContent()).toBe('Förfrågan om fullmakt');
    requestId = new URL(page.url()).pathname.split('/').at(-1) as string;
    await checkPage(page, 'requests-05-answer');
    await page.setViewportSize({ width: 320, height: 720 });
    await checkPage(page, 'narrow-requests-answer');
    await page.setViewportSize({ width: 1024, height: 800 });

    await tabTo(page, '#give-skatteverket\\.income-tax-submit-return');
    await page.keyboard.press('Space');
    expect(await page.locator('#give-skatteverket\\.income-tax-submit-return').isChecked()).toBe(false);

    // The server wants a fresh sign-in the first time: the page says so, as for a grant.
    let approveBody: unknown;
    await page.route(
      (url) => url.pathname.endsWith('/approve'),
      (route) =>
        route.fulfill({ status: 403, contentType: 'application/problem+json', body: JSON.stringify({ status: 403, code: 'step-up-required', detail: 'Sign in again.' }) }),
      { times: 1 },
    );
    await tabTo(page, '#approve-button');
    await page.keyboard.press('Enter');
    await page.getByText('Du behöver logga in igen för att göra det här.', { exact: false }).waitFor();
    await checkPage(page, 'requests-06-step-up');
    page.on('request', (req) => {
      if (req.url().endsWith('/approve')) approveBody = req.postDataJSON();
    });

    await tabTo(page, '#approve-button', { backwards: true });
    await page.keyboard.press('Enter');
    await page.getByText('Klart. Du har gett fullmakten.').waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('outcome-message');
    expect(approveBody).toEqual({ scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return'] }] });
    await page.getByText('Godkänd', { exact: true }).waitFor();
    await expect.poll(() => requestsLink().textContent()).toMatch(/^\s*Förfrågningar\s*$/);

    await page.getByRole('link', { name: 'Visa fullmakten' }).click();
    await page.getByText(/^Erik Lindqvist får se deklarationen \(Skatteverket\) åt dig till och med /).first().waitFor();
    await page.goto(`${server.url}/mandates`);
    await page.getByText(/^Erik Lindqvist får se deklarationen \(Skatteverket\) åt dig/).waitFor();
  });

  it('the requester sees the power of attorney with only what was given, and the request as approved', async () => {
    await signOut();
    await devSignIn(page, server.url, 'Erik Lindqvist');
    await page.getByRole('link', { name: 'Som jag har fått' }).click();
    await page.getByText(/^Du får se deklarationen \(Skatteverket\) åt Anna Andersson till och med /).waitFor();
    expect(await page.getByText('lämna deklarationen', { exact: false }).count()).toBe(0);

    await page.goto(`${server.url}/requests?tab=sent`);
    const answered = page.getByRole('region', { name: 'Besvarade och utgångna' });
    await answered.getByText('Godkänd', { exact: true }).waitFor();
  });

  it('a decline with its reason shows to the requester; the requester may withdraw an open one', async () => {
    await ask('191212121212', 'Se skattekontot');
    await page.getByText('Förfrågan är skickad.', { exact: false }).waitFor();
    await ask('196805144026', 'Se skattekontot');
    await page.getByText('Förfrågan är skickad.', { exact: false }).waitFor();

    await page.getByRole('button', { name: 'Dra tillbaka förfrågan till Karin Andersson' }).click();
    await page.getByText('Förfrågan är tillbakadragen.').waitFor();
    await page.getByRole('region', { name: 'Besvarade och utgångna' }).getByText('Tillbakadragen', { exact: true }).waitFor();

    await signOut();
    await devSignIn(page, server.url, 'Tolvan Tolvansson');
    await requestsLink().click();
    await page.getByRole('link', { name: 'Läs och svara' }).click();
    await page.getByRole('button', { name: 'Säg nej' }).click();
    await page.getByRole('heading', { name: /Vill du säga nej till förfrågan/ }).waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('decline-heading');
    await page.getByLabel('Skäl (om du vill)').fill('Jag känner dig inte.');
    await checkPage(page, 'requests-07-decline-confirm');
    await page.getByRole('button', { name: 'Ja, säg nej' }).click();
    await page.getByText('Du har sagt nej till förfrågan.').waitFor();

    await signOut();
    await devSignIn(page, server.url, 'Erik Lindqvist');
    await page.goto(`${server.url}/requests?tab=sent`);
    const answered = page.getByRole('region', { name: 'Besvarade och utgångna' });
    await answered.getByText('Avböjd', { exact: true }).waitFor();
    await answered.getByText(/åt Tolvan Tolvansson/).waitFor();
    await answered.locator('li', { hasText: 'Tolvan Tolvansson' }).getByRole('link', { name: 'Visa förfrågan' }).click();
    await page.getByText('Jag känner dig inte.').waitFor();
    await checkPage(page, 'requests-08-declined');
  });

  it('speaks English from the same catalogue', async () => {
    await page.goto(`${server.url}/requests?tab=sent`);
    await page.getByRole('button', { name: 'Change language to English' }).click();
    await expect.poll(() => heading().textContent()).toBe('Requests');
    await page.getByText('Declined', { exact: true }).waitFor();
    await page.getByText(/^You asked to view the tax return and file the tax return \(Swedish Tax Agency\) for Anna Andersson until /).waitFor();
    await checkPage(page, 'requests-09-english');
    await page.getByRole('button', { name: 'Byt språk till svenska' }).click();
    await expect.poll(() => heading().textContent()).toBe('Förfrågningar');
  });

  it('every requests page passes axe and fits 320 px without sideways scrolling', async () => {
    await page.setViewportSize({ width: 320, height: 720 });
    for (const [name, path] of [
      ['sent', '/requests?tab=sent'],
      ['incoming', '/requests'],
      ['ask', '/requests/new'],
      ['one', `/requests/${requestId}`],
      ['missing', '/requests/00000000-0000-4000-8000-000000000000'],
    ] as const) {
      await page.goto(`${server.url}${path}`);
      await heading().waitFor();
      await checkPage(page, `narrow-requests-${name}`);
    }
    await page.getByText('Vi hittar ingen sådan förfrågan bland dina.', { exact: false }).waitFor();
  });

  it('ran under the strict Content-Security-Policy without a violation or a script error', () => {
    expect(browser.problems).toEqual([]);
  });
});
