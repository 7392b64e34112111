import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { projectRoot } from '../../server/config.ts';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const SCREENSHOTS = path.join(projectRoot, 'test', 'e2e', 'screenshots');

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations and script errors seen so far. */
  problems: string[];
  close(): Promise<void>;
}

/** Headless Chromium on the system binary with a fresh profile, removed on close. */
export async function launchChromium(
  options: Parameters<typeof chromium.launchPersistentContext>[1] = {},
): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'ombud-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...options,
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A CDP virtual platform authenticator (resident keys, user verification) that answers WebAuthn ceremonies. */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/**
 * The web app's browser: Swedish, Stockholm time, reduced motion; the page keeps the server's
 * CSP (no bypass). With `passkeys`, a virtual authenticator answers WebAuthn ceremonies.
 */
export async function openBrowser(options: { passkeys?: boolean } = {}): Promise<TestBrowser> {
  const { context, page, close } = await launchChromium({
    viewport: { width: 1024, height: 800 },
    locale: 'sv-SE',
    timezoneId: 'Europe/Stockholm',
    reducedMotion: 'reduce',
    acceptDownloads: true,
  });
  if (options.passkeys) await addVirtualAuthenticator(context, page);
  // A step that cannot happen should fail in seconds, not at the test's timeout.
  page.setDefaultTimeout(8_000);
  const problems: string[] = [];
  // A refused request is an ordinary answer to the app (401 before sign-in); a CSP violation is not.
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('Content Security Policy')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return {
    context,
    page,
    problems,
    close,
  };
}

/** WCAG 2.1 A and AA rules of axe-core, run inside the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await page.evaluate(`(() => {
    ${AXE_SOURCE}
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((r) => r.violations.map((v) => v.id + ': ' + v.help + ' — ' + v.nodes.map((n) => n.target.join(' ')).join(', ')));
  })()`);
  return result as string[];
}

/** The page fits its width: nothing to scroll sideways. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

/**
 * Waits until no part of the page is loading. A locator, not a string for waitForFunction:
 * Playwright evaluates such a string with eval, which the app's CSP refuses while it polls.
 */
export async function loaded(page: Page): Promise<void> {
  await expect.poll(() => page.locator('.loading').count(), { timeout: 15_000 }).toBe(0);
}

/**
 * Checks what every page must satisfy (no axe violations, no sideways scrolling) and saves a
 * screenshot to look at.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await loaded(page);
  expect(await axeViolations(page), `axe on ${name}`).toEqual([]);
  expect(await horizontalOverflow(page), `horizontal scroll on ${name}`).toBeLessThanOrEqual(0);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Presses Tab (at most `limit` times) until the focused element matches the selector: keyboard only. */
export async function tabTo(page: Page, selector: string, options: { backwards?: boolean; limit?: number } = {}): Promise<void> {
  for (let i = 0; i < (options.limit ?? 40); i++) {
    if (await page.evaluate<boolean>(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
    await page.keyboard.press(options.backwards ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** One-click demo sign-in from the start page (development mode), ending on "Mina fullmakter". */
export async function devSignIn(page: Page, baseUrl: string, name: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole('button', { name }).click();
  await expect.poll(() => page.locator('main h1').textContent()).toBe('Mina fullmakter');
  await expect.poll(() => page.locator('header').textContent()).toContain(name);
}
