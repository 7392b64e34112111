import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../server/demo.ts';
import { axeViolations, checkPage, devSignIn, horizontalOverflow, openBrowser, SCREENSHOTS, tabTo, type TestBrowser } from '../support/browser.ts';
import { PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

/** One story through the web app, in order: each step starts where the previous one ended. */
describe('web app in a browser', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let agency: TestAgency;
  let mandateId: string;

  beforeAll(async () => {
    server = await startServer('pglite');
    await seedDemo(server.ctx);
    agency = await server.agency('kollen', ['skatteverket.income-tax']);
    browser = await openBrowser();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const heading = () => page.locator('main h1');
  const header = () => page.locator('header');

  const signInAs = (name: string) => devSignIn(page, server.url, name);

  /** The agency asks, through the API, whether Erik may file Anna's tax return. */
  async function agencyDecision(): Promise<string> {
    const check = await agency.check({
      agent: person(PEOPLE.erik),
      principal: person(PEOPLE.anna),
      service: 'skatteverket.income-tax',
      permission: 'submit-return',
    });
    return check.body.decision;
  }

  async function signOut() {
    await page.getByRole('button', { name: 'Logga ut' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
  }

  it('the start page offers the sign-in methods the server has and, in development, one-click test people', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Testpersoner' }).waitFor();
    expect(await page.getByRole('button', { name: 'Logga in med nyckel (passkey)' }).isVisible()).toBe(true);
    // This server has no e-ID provider configured, so the page does not offer a sign-in that cannot work.
    expect(await page.getByRole('link', { name: 'Logga in med e-legitimation' }).count()).toBe(0);
    expect(await page.evaluate('document.documentElement.lang')).toBe('sv');
    await checkPage(page, '01-start');
  });

  it('signs in as a test person with one click', async () => {
    await signInAs('Anna Andersson');
    // The demo data: Anna has let Karin handle her tax return.
    await page.getByText('Karin Andersson får').waitFor();
    await checkPage(page, '02-mandates-given');
  });

  it('grants a power of attorney through the wizard with the keyboard alone, keeping what was typed', async () => {
    await tabTo(page, 'a[href="/grant"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => heading().textContent()).toBe('Ge en fullmakt');

    await tabTo(page, '#agent-0');
    await page.keyboard.type('19720908-3910');
    await page.getByText('Sista siffran stämmer inte').waitFor();
    expect(await page.locator('#agent-0').getAttribute('aria-invalid')).toBe('true');
    await checkPage(page, '03-grant-who-error');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('9');
    await page.getByText('Sista siffran stämmer inte').waitFor({ state: 'detached' });
    await page.getByText('Personnumret ser rätt ut.').waitFor();
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Vad får ombudet göra?' }).waitFor();
    await tabTo(page, '#search');
    await page.keyboard.type('deklaration');
    await page.getByRole('heading', { name: 'Försäkringskassan' }).waitFor({ state: 'detached' });
    await tabTo(page, '#perm-skatteverket\\.income-tax-submit-return');
    await page.keyboard.press('Space');
    await checkPage(page, '04-grant-what');

    // Back to step 1 and forward again: nothing typed or chosen is lost.
    await tabTo(page, '#back-button');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Vem ska få fullmakten?' }).waitFor();
    expect(await page.locator('#agent-0').inputValue()).toBe('19720908-3919');
    await tabTo(page, '#next-button');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Vad får ombudet göra?' }).waitFor();
    expect(await page.locator('#perm-skatteverket\\.income-tax-submit-return').isChecked()).toBe(true);
    await tabTo(page, '#next-button');
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Hur länge ska fullmakten gälla?' }).waitFor();
    expect(await page.locator('#until').inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await checkPage(page, '05-grant-when');
    await tabTo(page, '#next-button');
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Några val' }).waitFor();
    expect(await page.locator('#delegate-no').isChecked()).toBe(true);
    await checkPage(page, '06-grant-how');
    await tabTo(page, '#next-button');
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Läs igenom och bekräfta' }).waitFor();
    const sentence = await page.getByTestId('review-sentence').textContent();
    expect(sentence).toMatch(/^Personen med personnummer 19720908-3919 får lämna deklarationen \(Skatteverket\) åt dig till och med \d{1,2} \w+ \d{4}\.$/);
    await checkPage(page, '07-grant-review');
    await tabTo(page, '#next-button');
    await page.keyboard.press('Enter');

    await page.getByText('Klart. Fullmakten gäller nu.').waitFor();
    await page.getByRole('heading', { name: 'Fullmakt', exact: true }).waitFor();
    mandateId = new URL(page.url()).pathname.split('/').at(-1) as string;
    expect(await page.locator('.sentence').first().textContent()).toMatch(/^Erik Lindqvist får lämna deklarationen \(Skatteverket\) åt dig/);
  });

  it('grants to two agents together with a money limit, with each mistake explained beside its field', async () => {
    await page.goto(`${server.url}/grant`);
    await page.getByLabel('Ombudets personnummer').fill('196805144026');
    await page.getByRole('button', { name: 'Lägg till ett ombud till' }).click();
    await page.getByLabel('Personnummer för ombud 2').fill('19680514-4026');
    await page.getByRole('button', { name: 'Nästa' }).click();
    await page.getByText('Du har skrivit samma person två gånger.').waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('agent-1');
    await page.getByLabel('Personnummer för ombud 2').fill('191212121212');
    await page.getByRole('button', { name: 'Nästa' }).click();

    await page.getByRole('button', { name: 'Nästa' }).click();
    await page.getByText('Välj minst en sak som ombudet får göra.').waitFor();
    await page.getByLabel('Betala räkningar').check();
    await page.getByRole('button', { name: 'Nästa' }).click();
    await page.getByText('Skriv ett belopp mellan 1 och 100 000 kronor.').waitFor();
    await checkPage(page, '04b-grant-amount-error');
    await page.getByLabel('Högsta belopp per betalning, i kronor').fill('2000');
    await page.getByRole('button', { name: 'Nästa' }).click();

    await page.getByLabel('Sista dag som fullmakten gäller').fill('2001-01-01');
    await page.getByRole('button', { name: 'Nästa' }).click();
    await page.getByText(/^Välj en dag från i morgon till och med/).waitFor();
    await page.getByRole('button', { name: 'Tre månader' }).click();
    await page.getByRole('button', { name: 'Nästa' }).click();

    await page.getByLabel('De måste göra det tillsammans').check();
    await page.getByRole('button', { name: 'Nästa' }).click();
    const sentence = await page.getByTestId('review-sentence').textContent();
    expect(sentence).toMatch(
      /^Personen med personnummer 19680514-4026 och personen med personnummer 19121212-1212 får betala räkningar \(Exempelbanken, högst 2\s000 kronor per betalning\) åt dig till och med /,
    );
    await page.getByText('Ombuden måste göra det tillsammans.').waitFor();
    await page.getByRole('button', { name: 'Ge fullmakten' }).click();
    await page.getByText('Klart. Fullmakten gäller nu.').waitFor();
    await page.getByText('De måste göra det tillsammans').waitFor();
  });

  it('shows the new power of attorney to its principal, and a check an agency made about it', async () => {
    expect(await agencyDecision()).toBe('permit');

    await page.goto(`${server.url}/mandates`);
    await page.getByText('Erik Lindqvist får lämna deklarationen (Skatteverket) åt dig').waitFor();
    await page.goto(`${server.url}/mandates/${mandateId}`);
    await page.getByText('Agency kollen kontrollerade om Erik Lindqvist får lämna deklarationen åt dig.').waitFor();
    await page.getByText('Svar: ja, det är tillåtet').waitFor();
    await checkPage(page, '08-mandate-detail');
  });

  it('lists every event, filters by kind and period, and downloads them as CSV', async () => {
    await page.getByRole('link', { name: 'Händelser' }).click();
    await page.getByText('Agency kollen kontrollerade om Erik Lindqvist').waitFor();
    await page.getByText('Du gav en fullmakt.').first().waitFor();
    await checkPage(page, '09-activity');

    await page.getByLabel('Visa').selectOption('check');
    await page.getByText('Du gav en fullmakt.').first().waitFor({ state: 'detached' });
    await page.getByText('Agency kollen kontrollerade om Erik Lindqvist').waitFor();
    await page.getByLabel('Tid').selectOption('30');
    await page.getByText('Agency kollen kontrollerade om Erik Lindqvist').waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Ladda ner som fil (CSV)' }).click()]);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('\ufeff"Tid","Händelse","Vem","För vem","Tjänst","Behörighet","Svar"');
    expect(csv).toContain('"Erik Lindqvist","Anna Andersson","Inkomstdeklaration","lämna deklarationen","Tillåtet"');
  });

  it('follows the whole history a page at a time with the keyboard, and the file holds every event', async () => {
    // More checks than the list shows at once and than the file fetches in one request.
    for (let i = 0; i < 13; i++) expect(new Set(await Promise.all(Array.from({ length: 40 }, agencyDecision)))).toEqual(new Set(['permit']));
    const total = await page.evaluate(async () => {
      let count = 0;
      let before: number | undefined;
      do {
        const res = await fetch(`/api/audit?kind=check&limit=500${before === undefined ? '' : `&before=${before}`}`);
        const body = (await res.json()) as { items: unknown[]; nextBefore?: number };
        count += body.items.length;
        before = body.nextBefore;
      } while (before !== undefined);
      return count;
    });
    expect(total).toBe(521);

    await page.goto(`${server.url}/activity`);
    await page.getByLabel('Visa').selectOption('check');
    const items = page.locator('ol.events > li');
    const status = page.locator('.event-count');
    await expect.poll(() => status.textContent()).toBe('Visar 100 händelser. Det finns fler.');
    expect(await items.count()).toBe(100);
    await checkPage(page, '09b-activity-first-page');

    await tabTo(page, '.show-more', { limit: 150 });
    await page.keyboard.press('Enter');
    await expect.poll(() => status.textContent()).toBe('Visar 200 händelser. Det finns fler.');
    expect(await items.count()).toBe(200);
    // Reading goes on from the first event that came in.
    expect(await page.evaluate('document.activeElement.matches("ol.events > li:nth-child(101)")')).toBe(true);

    // A page that fails keeps what is shown, says so, and the same button tries again.
    await page.route((url) => url.pathname === '/api/audit', (route) => route.fulfill({ status: 503, contentType: 'application/problem+json', body: '{}' }), {
      times: 1,
    });
    await tabTo(page, '.show-more', { limit: 150 });
    await page.keyboard.press('Enter');
    await page.getByRole('alert').getByText('Det gick inte att hämta fler händelser.', { exact: false }).waitFor();
    expect(await items.count()).toBe(200);
    expect(await page.evaluate('document.activeElement.textContent.trim()')).toBe('Försök igen');
    await checkPage(page, '09c-activity-more-failed');
    await page.keyboard.press('Enter');
    await expect.poll(() => status.textContent()).toBe('Visar 300 händelser. Det finns fler.');
    expect(await page.getByRole('alert').count()).toBe(0);

    for (const shown of [400, 500]) {
      await page.locator('.show-more').click();
      await expect.poll(() => status.textContent()).toBe(`Visar ${shown} händelser. Det finns fler.`);
    }
    await page.locator('.show-more').click();
    await expect.poll(() => status.textContent()).toBe('Visar alla 521 händelser.');
    expect(await items.count()).toBe(521);
    expect(await page.locator('.show-more').count()).toBe(0);
    expect(await page.evaluate('document.activeElement.matches("ol.events > li:nth-child(501)")')).toBe(true);

    // The file is fetched whole, two requests of 500 and one of 21, whatever is on screen; it
    // shows how far it has come and can be stopped.
    let downloads = 0;
    page.on('download', () => downloads++);
    let release = () => {};
    await page.route(
      (url) => url.pathname === '/api/audit' && url.searchParams.get('limit') === '500' && url.searchParams.has('before'),
      async (route) => {
        await new Promise<void>((resolve) => (release = resolve));
        await route.continue().catch(() => undefined);
      },
      { times: 1 },
    );
    await page.getByRole('button', { name: 'Ladda ner som fil (CSV)' }).click();
    await page.locator('.export-status').getByText('Hämtar … 500 händelser').waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('cancel-export');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, '09d-activity-export-progress.png') });
    await page.setViewportSize({ width: 320, height: 720 });
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.locator('.export').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'narrow-activity-export-progress.png') });
    await page.setViewportSize({ width: 1024, height: 800 });
    await page.keyboard.press('Enter');
    await page.getByText('Nedladdningen är avbruten.').waitFor();
    release();
    expect(await page.evaluate('document.activeElement.id')).toBe('download');

    // Past the most one file holds, it says so and saves nothing.
    let fakePage = 0;
    await page.route(
      (url) => url.pathname === '/api/audit' && url.searchParams.get('limit') !== '100',
      (route) => {
        fakePage++;
        const items = Array.from({ length: 500 }, () => ({
          id: crypto.randomUUID(),
          at: new Date().toISOString(),
          action: 'check',
          actor: { type: 'agency', id: 'kollen', name: 'Agency kollen' },
        }));
        return route.fulfill({ contentType: 'application/json', body: JSON.stringify({ items, nextBefore: 1_000_000 - fakePage }) });
      },
    );
    await page.getByRole('button', { name: 'Ladda ner som fil (CSV)' }).click();
    await page.getByRole('alert').getByText('Det finns fler än 20 000 händelser.', { exact: false }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, '09e-activity-export-too-many.png') });
    await page.unrouteAll();
    expect(downloads).toBe(0);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Ladda ner som fil (CSV)' }).click()]);
    const rows = readFileSync((await download.path()) as string, 'utf8').split('\r\n').slice(1, -1);
    expect(rows).toHaveLength(521);
    expect(rows.every((row) => row.includes('"Erik Lindqvist","Anna Andersson","Inkomstdeklaration","lämna deklarationen","Tillåtet"'))).toBe(true);
    await page.getByText('Filen är nedladdad, med 521 händelser.').waitFor();
    expect(downloads).toBe(1);

    // A new filter starts over from the newest.
    await page.getByLabel('Visa').selectOption('');
    await expect.poll(() => status.textContent()).toBe('Visar 100 händelser. Det finns fler.');
  });

  it('shows the whole history of one power of attorney a page at a time', async () => {
    await page.goto(`${server.url}/mandates/${mandateId}`);
    const status = page.locator('.event-count');
    await expect.poll(() => status.textContent()).toBe('Visar 100 händelser. Det finns fler.');
    await checkPage(page, '08b-mandate-detail-first-page');
    // The checks and the grant: every event about it, then no button.
    for (let shown = 200; shown <= 500; shown += 100) {
      await page.locator('.show-more').click();
      await expect.poll(() => status.textContent()).toBe(`Visar ${shown} händelser. Det finns fler.`);
    }
    await page.locator('.show-more').click();
    await expect.poll(() => status.textContent()).toBe('Visar alla 522 händelser.');
    expect(await page.locator('.show-more').count()).toBe(0);
    await page.locator('ol.events > li').last().getByText('Du gav en fullmakt.').waitFor();
  });

  it('shows the power of attorney to the agent, and switches role to act for the principal and back', async () => {
    await signOut();
    await signInAs('Erik Lindqvist');
    await page.getByRole('link', { name: 'Som jag har fått' }).click();
    await page.getByText('Du får lämna deklarationen (Skatteverket) åt Anna Andersson').waitFor();
    await checkPage(page, '10-mandates-received');

    await page.getByRole('link', { name: 'Företräda någon' }).click();
    await page.getByRole('heading', { name: 'Anna Andersson' }).waitFor();
    await checkPage(page, '11-act-for');
    await page.getByRole('button', { name: 'Företräd Anna Andersson' }).click();
    await expect.poll(() => header().textContent()).toContain('Du företräder nu Anna Andersson.');
    await checkPage(page, '12-acting-for');
    await page.locator('header').getByRole('button', { name: 'Tillbaka till mig själv' }).click();
    await expect.poll(() => header().textContent()).toContain('Inloggad som Erik Lindqvist');
  });

  it('revokes with a confirmation and a reason, with the keyboard alone', async () => {
    await signOut();
    await signInAs('Anna Andersson');
    await page.goto(`${server.url}/mandates/${mandateId}`);
    await page.getByText('Erik Lindqvist får').first().waitFor();
    await tabTo(page, '#end-button');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Vill du återkalla fullmakten/ }).waitFor();
    await checkPage(page, '13-revoke-confirm');
    await tabTo(page, '#reason');
    await page.keyboard.type('Jag sköter det själv nu.');
    await tabTo(page, '#confirm-end');
    await page.keyboard.press('Enter');
    await page.getByText('Fullmakten är återkallad.').waitFor();
    await page.getByText('Jag sköter det själv nu.').waitFor();
    await page.getByText('Du återkallade en fullmakt.').waitFor();

    expect(await agencyDecision()).toBe('deny');

    await page.goto(`${server.url}/mandates`);
    const history = page.getByRole('region', { name: 'Avslutade fullmakter' });
    await history.getByText('Erik Lindqvist fick lämna deklarationen (Skatteverket) åt dig.').waitFor();
    await history.getByText('Återkallad').waitFor();
  });

  it('switches to English and back, with every word from the catalogue', async () => {
    await page.getByRole('button', { name: 'Change language to English' }).click();
    await expect.poll(() => heading().textContent()).toBe('My powers of attorney');
    expect(await page.evaluate('document.documentElement.lang')).toBe('en');
    await page.getByText('Karin Andersson may view the tax return and file the tax return (Swedish Tax Agency) for you').waitFor();
    await checkPage(page, '14-english');
    await page.reload();
    await expect.poll(() => heading().textContent()).toBe('My powers of attorney');
    await page.getByRole('link', { name: 'Activity' }).click();
    await expect.poll(() => page.locator('.event-count').textContent()).toBe('Showing 100 events. There are more.');
    await page.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => page.locator('.event-count').textContent()).toBe('Showing 200 events. There are more.');
    await page.getByRole('link', { name: 'My powers of attorney' }).click();
    await expect.poll(() => heading().textContent()).toBe('My powers of attorney');
    await page.getByRole('button', { name: 'Byt språk till svenska' }).click();
    await expect.poll(() => heading().textContent()).toBe('Mina fullmakter');
  });

  it('every page passes axe and fits 320 px without sideways scrolling', async () => {
    await page.setViewportSize({ width: 320, height: 720 });
    // The finished grant left no draft behind.
    await page.goto(`${server.url}/grant`);
    expect(await page.locator('#agent-0').inputValue()).toBe('');
    const pages = [
      '/mandates',
      '/mandates?tab=received',
      '/grant',
      `/mandates/${mandateId}`,
      '/activity',
      '/act-for',
      '/security',
      '/no-such-page',
      '/mandates/00000000-0000-4000-8000-000000000000',
    ];
    for (const [i, path] of pages.entries()) {
      await page.goto(`${server.url}${path}`);
      await heading().waitFor();
      await checkPage(page, `narrow-${String(i + 1).padStart(2, '0')}${path.replace(/[0-9a-f-]{36}/, 'id').replace(/[^a-z]+/g, '-')}`);
    }
    await page.getByText('Vi hittar ingen sådan fullmakt bland dina.', { exact: false }).waitFor();
    await signOut();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await checkPage(page, 'narrow-start');
  });

  it('ran under the strict Content-Security-Policy without a violation or a script error', () => {
    expect(browser.problems).toEqual([]);
  });
});
