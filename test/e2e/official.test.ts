import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_OFFICIALS } from '../../server/demo-people.ts';
import { seedDemo } from '../../server/demo.ts';
import { checkPage, devSignIn, openBrowser, tabTo, type TestBrowser } from '../support/browser.ts';
import { PEOPLE, startServer, type TestServer } from '../support/server.ts';

const OFFICIAL = DEMO_OFFICIALS[0] as string;
const REASON = 'Besök på servicekontoret i Kiruna';
const DOCUMENT = 'Blankett 4809, dnr 2026/1234';
const dashed = (id: string) => `${id.slice(0, 8)}-${id.slice(8)}`;

/** Registration by an official in the browser, with the development default making Helena Berg an official. */
describe('registering a power of attorney as an official', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let mandateId: string;

  beforeAll(async () => {
    server = await startServer('pglite', { env: { DEMO_DATA: 'true' } });
    await seedDemo(server.ctx);
    browser = await openBrowser();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const heading = () => page.locator('main h1');
  const nav = () => page.getByRole('navigation', { name: 'Huvudmeny' });
  const next = async () => {
    await tabTo(page, '#next-button');
    await page.keyboard.press('Enter');
  };

  async function signOut() {
    await page.getByRole('button', { name: 'Logga ut' }).click();
    await page.getByRole('heading', { name: 'Logga in' }).waitFor();
  }

  /** Sets when the official last signed in strongly: an hour ago makes the server ask for a step-up. */
  async function officialStrongAt(at: ReturnType<typeof sql<Date>>) {
    const { id } = await server.ctx.database.db.selectFrom('parties').select('id').where('national_id', '=', OFFICIAL).executeTakeFirstOrThrow();
    await server.ctx.database.db.updateTable('sessions').set({ strong_at: at }).where('party_id', '=', id).execute();
  }

  it('shows someone who is not an official no menu entry, and at the address only that it is not for them', async () => {
    await devSignIn(page, server.url, 'Erik Lindqvist');
    expect(await nav().getByRole('link').allTextContents()).not.toContain('Registrera åt någon');
    await page.goto(`${server.url}/official`);
    await expect.poll(() => heading().textContent()).toBe('Registrera en fullmakt åt någon');
    await page.getByText('Den är inte tillgänglig för dig.', { exact: false }).waitFor();
    expect(await page.locator('main form').count()).toBe(0);
    expect(await page.locator('main input').count()).toBe(0);
    await checkPage(page, 'official-01-not-available');
    await signOut();
  });

  it('lets the official register one by keyboard, refusing their own number, with a step-up when the sign-in is old', async () => {
    await devSignIn(page, server.url, 'Helena Berg');
    await tabTo(page, 'nav a[href="/official"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => heading().textContent()).toBe('Registrera en fullmakt åt någon');
    expect(await page.evaluate('document.activeElement === document.querySelector("main h1")')).toBe(true);
    await page.getByRole('heading', { name: 'Vem ger fullmakten, och vad grundar sig registreringen på?' }).waitFor();
    expect(await page.locator('.step-count').textContent()).toBe('Steg 1 av 6');

    // The official's own number, checked as it is typed.
    await tabTo(page, '#principal');
    await page.keyboard.type(dashed(OFFICIAL));
    await page.getByText('Du kan inte registrera en fullmakt där du själv är med.', { exact: false }).waitFor();
    expect(await page.locator('#principal').getAttribute('aria-invalid')).toBe('true');
    await checkPage(page, 'official-02-self');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(dashed(PEOPLE.anna));
    await page.getByText('Personnumret ser rätt ut.').waitFor();

    // Nothing goes on without a reason and a document.
    await page.keyboard.press('Enter');
    await page.getByText('Skriv skälet till registreringen.').waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('reason');
    await page.keyboard.type(REASON);
    await tabTo(page, '#document-reference');
    await page.keyboard.type(DOCUMENT);
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Vem ska få fullmakten?' }).waitFor();
    await tabTo(page, '#agent-0');
    await page.keyboard.type(dashed(PEOPLE.anna));
    await page.getByText('Ombudet kan inte vara samma person som fullmaktsgivaren.').waitFor();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(dashed(PEOPLE.erik));
    await page.getByText('Personnumret ser rätt ut.').waitFor();
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Vad får ombudet göra?' }).waitFor();
    await tabTo(page, '#search');
    await page.keyboard.type('deklaration');
    await tabTo(page, '#perm-skatteverket\\.income-tax-view-return');
    await page.keyboard.press('Space');
    await next();
    await page.getByRole('heading', { name: 'Hur länge ska fullmakten gälla?' }).waitFor();
    await next();
    await page.getByRole('heading', { name: 'Några val' }).waitFor();
    await next();

    await page.getByRole('heading', { name: 'Läs igenom och bekräfta' }).waitFor();
    expect(await page.getByTestId('review-sentence').textContent()).toMatch(
      /^Personen med personnummer 19720908-3919 får se deklarationen \(Skatteverket\) åt personen med personnummer 19400321-2380 till och med \d{1,2} \w+ \d{4}\.$/,
    );
    expect(await page.getByTestId('official-review').textContent()).toBe(
      'Du registrerar fullmakten som handläggare, för fullmaktsgivarens räkning. Fullmaktsgivaren får ett brev om den.',
    );
    expect(await page.locator('main').textContent()).toContain(DOCUMENT);
    await checkPage(page, 'official-03-review');

    // Should the server be told the official's own number, its refusal is said beside the principal's number.
    await page.route(
      '**/api/officials/mandates',
      (route) => route.continue({ postData: JSON.stringify({ ...route.request().postDataJSON(), principal: { type: 'person', id: OFFICIAL } }) }),
      { times: 1 },
    );
    await tabTo(page, '#next-button');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Vem ger fullmakten, och vad grundar sig registreringen på?' }).waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('principal');
    expect(await page.locator('#principal-error').textContent()).toBe('Du kan inte registrera en fullmakt där du själv är med. Be en kollega att göra det.');
    for (const step of ['Vem ska få fullmakten?', 'Vad får ombudet göra?', 'Hur länge ska fullmakten gälla?', 'Några val', 'Läs igenom och bekräfta']) {
      await next();
      await page.getByRole('heading', { name: step }).waitFor();
    }

    await officialStrongAt(sql<Date>`now() - interval '1 hour'`);
    await tabTo(page, '#next-button');
    await page.keyboard.press('Enter');
    await page.getByText('Du behöver logga in igen för att göra det här.', { exact: false }).waitFor();
    await checkPage(page, 'official-04-step-up');

    await officialStrongAt(sql<Date>`now()`);
    await tabTo(page, '#next-button', { backwards: true });
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Fullmakten är registrerad' }).waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('receipt-heading');
    mandateId = (await page.getByTestId('receipt-id').textContent()) as string;
    expect(mandateId).toMatch(/^[0-9a-f-]{36}$/);
    await page.getByText('Fullmaktsgivaren får ett brev om fullmakten.').waitFor();
    await checkPage(page, 'official-05-receipt');

    await server.ctx.notifications.tick();
    const letter = await server.anonymous().get(`/dev/mailbox?to=${PEOPLE.anna}`);
    expect(letter.text).toContain('mandate.registered-by-official');
    expect(letter.text).toContain(DOCUMENT);
  });

  it('fits 320 px and reads in English', async () => {
    await page.getByRole('button', { name: 'Registrera en fullmakt till' }).click();
    await page.getByRole('heading', { name: 'Vem ger fullmakten, och vad grundar sig registreringen på?' }).waitFor();
    expect(await page.locator('#principal').inputValue()).toBe('');
    await page.setViewportSize({ width: 320, height: 720 });
    await checkPage(page, 'official-06-narrow');
    await page.getByRole('button', { name: 'Change language to English' }).click();
    await page.getByRole('heading', { name: 'Who gives the power of attorney, and what is the registration based on?' }).waitFor();
    expect(await heading().textContent()).toBe('Register a power of attorney for someone');
    await checkPage(page, 'official-07-english');
    await page.getByRole('button', { name: 'Byt språk till svenska' }).click();
    await page.setViewportSize({ width: 1024, height: 800 });

    // A principal's number typed on a shared computer does not outlast the official's sign-out.
    await page.locator('#principal').fill(dashed(PEOPLE.karin));
    expect(await page.evaluate('sessionStorage.getItem("ombud.officialBasis")')).toContain(PEOPLE.karin.slice(0, 8));
    await signOut();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('shows the principal that an official registered it, why and on what document', async () => {
    await devSignIn(page, server.url, 'Anna Andersson');
    const card = page.locator('.mandate-card', { hasText: 'Erik Lindqvist' });
    expect(await card.textContent()).toContain('Registrerad av handläggare');
    expect(await page.locator('.mandate-card', { hasText: 'Karin Andersson' }).textContent()).not.toContain('Registrerad av handläggare');
    await card.getByRole('link', { name: 'Visa allt om fullmakten' }).click();
    await expect.poll(() => heading().textContent()).toBe('Fullmakt');
    expect(new URL(page.url()).pathname).toBe(`/mandates/${mandateId}`);
    await page.getByText('Registrerad av handläggare').waitFor();
    await page.getByText('Helena Berg registrerade fullmakten som handläggare.').waitFor();
    const facts = page.locator('dl.facts');
    expect(await facts.textContent()).toContain(`Skäl till registreringen${REASON}`);
    expect(await facts.textContent()).toContain(`Underlag${DOCUMENT}`);
    await checkPage(page, 'official-08-principal-detail');
    await page.getByRole('button', { name: 'Change language to English' }).click();
    await page.getByText('Registered by an official').waitFor();
    await page.getByRole('button', { name: 'Byt språk till svenska' }).click();
    await signOut();
  });

  it('shows the agent that it was registered by an official, without the principal’s papers', async () => {
    await devSignIn(page, server.url, 'Erik Lindqvist');
    await page.goto(`${server.url}/mandates?tab=received`);
    const card = page.locator('.mandate-card', { hasText: 'Anna Andersson' });
    await card.waitFor();
    expect(await card.textContent()).toContain('Registrerad av handläggare');
    await page.goto(`${server.url}/mandates/${mandateId}`);
    await page.getByText('Registrerad av handläggare').waitFor();
    expect(await page.locator('main').textContent()).not.toContain(DOCUMENT);
    expect(browser.problems).toEqual([]);
  });
});
