import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';

/** Headless Chromium with a CDP virtual authenticator: a platform passkey with user verification. */
export interface PasskeyBrowser {
  page: Page;
  /** Makes the authenticator report (or not) that it verified the user. */
  setUserVerified(verified: boolean): Promise<void>;
  /** Forgets every passkey, so that a discoverable sign-in has exactly one to choose. */
  clear(): Promise<void>;
  create(options: unknown): Promise<Record<string, unknown>>;
  get(options: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function launchPasskeyBrowser(): Promise<PasskeyBrowser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'ombud-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
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
  const cdp: CDPSession = await context.newCDPSession(page);
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
  return {
    page,
    setUserVerified: async (isUserVerified) => {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified });
    },
    clear: async () => {
      await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
    },
    create: (options) => page.evaluate(ceremony('create', options)),
    get: (options) => page.evaluate(ceremony('get', options)),
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The page-side ceremony, as source text: the test's TypeScript has no DOM types, and the
 * browser's own JSON helpers do what `@simplewebauthn/browser` would.
 */
function ceremony(kind: 'create' | 'get', options: unknown): string {
  const parse = kind === 'create' ? 'parseCreationOptionsFromJSON' : 'parseRequestOptionsFromJSON';
  return `(async () => {
    const publicKey = PublicKeyCredential.${parse}(${JSON.stringify(options)});
    const credential = await navigator.credentials.${kind}({ publicKey });
    return credential.toJSON();
  })()`;
}
