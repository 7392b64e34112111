import type { Page } from 'playwright-core';
import { addVirtualAuthenticator, launchChromium } from './browser.ts';

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
  const { context, page, close } = await launchChromium();
  const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);
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
    close,
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
