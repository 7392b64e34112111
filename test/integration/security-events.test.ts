import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CookieBrowser, LOA3, postJson, startOidcProvider, type TestProvider } from '../support/identity.ts';
import { ENGINES, PEOPLE, startServer, type TestServer } from '../support/server.ts';

describe.each(ENGINES)('security events on %s', (engine) => {
  let server: TestServer;
  let provider: TestProvider;
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw += chunk.toString();
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    provider = await startOidcProvider();
    server = await startServer(engine, {
      logger: pino({ level: 'info' }, sink),
      env: { OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: provider.clientId, OIDC_CLIENT_SECRET: provider.clientSecret, OIDC_ACR_VALUES: LOA3 },
    });
    provider.register(`${server.url}/auth/oidc/callback`);
  });
  afterAll(async () => {
    await server?.close();
    await provider?.close();
  });
  beforeEach(() => {
    provider.account = { personalNumber: PEOPLE.erik, acr: LOA3 };
    provider.tamper = undefined;
  });

  const refused = () => lines.filter((l) => l.msg === 'sign-in refused');

  async function callback(browser: CookieBrowser): Promise<string> {
    const { url } = await browser.follow(`${server.url}/auth/oidc/start`, `${server.url}/auth/oidc/callback`);
    return url;
  }

  it('logs a refused e-ID sign-in by kind, without the token, code, state or client secret', async () => {
    await server.signIn(PEOPLE.erik);
    provider.tamper = (claims) => ({ claims: { ...claims, exp: Math.floor(Date.now() / 1000) - 600 }, key: 'provider' });
    const browser = new CookieBrowser();
    const url = new URL(await callback(browser));
    const before = refused().length;
    expect((await browser.fetch(url.href)).status).toBe(401);
    const events = refused().slice(before);
    expect(events).toEqual([expect.objectContaining({ securityEvent: 'id-token-expired', method: 'oidc', partyId: expect.any(String) })]);
    for (const secret of [url.searchParams.get('code'), url.searchParams.get('state'), provider.clientSecret]) {
      expect(raw).not.toContain(secret);
    }
    expect(raw).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);

    const erik = await server.signIn(PEOPLE.erik);
    const audit = (await erik.get('/api/audit?action=sign-in-refused')).body.items;
    expect(audit[0]).toMatchObject({ action: 'sign-in-refused', kind: 'id-token-expired', method: 'oidc', actor: { type: 'system' } });
  });

  it('logs a passkey answer for a credential nobody registered, tied to no one', async () => {
    const browser = new CookieBrowser();
    const options = (await (await postJson(browser, server.url, '/auth/passkeys/authentication/options')).json()) as { challenge: string };
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: server.url })).toString('base64url');
    const before = refused().length;
    const res = await postJson(browser, server.url, '/auth/passkeys/authentication/verify', {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON, authenticatorData: 'AAAA', signature: 'AAAA' },
    });
    expect(res.status).toBe(401);
    expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
    expect(refused().slice(before)).toEqual([expect.objectContaining({ securityEvent: 'webauthn-unknown-credential', method: 'passkey' })]);
    expect(refused().at(-1)).not.toHaveProperty('partyId');
    const metrics = (await server.anonymous().get('/metrics')).text;
    expect(metrics).toMatch(/ombud_sign_in_refused_total\{kind="webauthn-unknown-credential"\} 1/);
  });

  it('logs a wrong state and keeps the refusal out of every audit trail when no one is proven', async () => {
    const browser = new CookieBrowser();
    const url = new URL(await callback(browser));
    url.searchParams.set('state', 'forged');
    const before = refused().length;
    expect((await browser.fetch(url.href)).status).toBe(400);
    expect(refused().slice(before)).toEqual([expect.objectContaining({ securityEvent: 'oidc-state-mismatch' })]);
    const sara = await server.signIn(PEOPLE.sara);
    expect((await sara.get('/api/audit?action=sign-in-refused')).body.items).toEqual([]);
  });
});
