import { createServer, type Server } from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser, postJson } from '../support/identity.ts';
import { Client, ENGINES, inDays, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';
import { launchPasskeyBrowser, type PasskeyBrowser } from '../support/webauthn.ts';

const taxScope = { service: 'skatteverket.income-tax', permissions: ['view-return'] };

describe.each(ENGINES)('passkeys and step-up on %s', (engine) => {
  let server: TestServer;
  let chromium: PasskeyBrowser;
  /** Another origin on the same host: the same rpID is valid there, but it is not our site. */
  let foreign: Server;
  let foreignUrl: string;

  beforeAll(async () => {
    server = await startServer(engine, { publicHost: 'localhost' });
    chromium = await launchPasskeyBrowser();
    foreign = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>x</title>'));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    foreignUrl = `http://localhost:${(foreign.address() as { port: number }).port}`;
    await chromium.page.goto(`${server.url}/healthz`);
  });
  afterAll(async () => {
    await chromium?.close();
    foreign?.closeAllConnections();
    await new Promise<void>((resolve) => (foreign ? foreign.close(() => resolve()) : resolve()));
    await server?.close();
  });

  async function signInWithDev(personalNumber: string): Promise<CookieBrowser> {
    const browser = new CookieBrowser();
    const res = await postJson(browser, server.url, '/auth/dev/login', { personalNumber });
    expect(res.status).toBe(204);
    return browser;
  }

  async function register(browser: CookieBrowser, name?: string): Promise<{ id: string; name: string }> {
    await chromium.clear();
    const options = await postJson(browser, server.url, '/auth/passkeys/registration/options');
    expect(options.status).toBe(200);
    const credential = await chromium.create(await options.json());
    const res = await postJson(browser, server.url, '/auth/passkeys/registration/verify', { ...credential, ...(name ? { name } : {}) });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; name: string };
  }

  /** A passkey answer to a fresh challenge for `browser`'s ceremony, not yet sent. */
  async function assertion(browser: CookieBrowser, tweak: (o: Record<string, unknown>) => Record<string, unknown> = (o) => o) {
    const res = await postJson(browser, server.url, '/auth/passkeys/authentication/options');
    expect(res.status).toBe(200);
    const options = (await res.json()) as Record<string, unknown>;
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.userVerification).toBe('required');
    return { options, credential: await chromium.get(tweak(options)) };
  }

  function client(browser: CookieBrowser): Client {
    const value = browser.cookies(server.url).get('ombud_session');
    return new Client(server.url, value ? `ombud_session=${value}` : undefined);
  }

  async function refusals(personalNumber: string): Promise<Array<{ kind: string; method: string; actor: { type: string } }>> {
    const signedIn = await server.signIn(personalNumber);
    return (await signedIn.get('/api/audit?action=sign-in-refused')).body.items;
  }

  it('registers a passkey after sign-in, lists, renames and removes it', async () => {
    const browser = await signInWithDev(PEOPLE.erik);
    const created = await register(browser, 'Min telefon');
    expect(created.name).toBe('Min telefon');
    const erik = client(browser);
    const listed = await erik.get('/api/passkeys');
    expect(listed.body.items).toEqual([expect.objectContaining({ id: created.id, name: 'Min telefon', lastUsedAt: null })]);
    const renamed = await erik.send('PATCH', `/api/passkeys/${created.id}`, { json: { name: 'Jobbdatorn' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Jobbdatorn');
    // Someone else's passkey does not exist for you.
    const sara = await server.signIn(PEOPLE.sara);
    expect((await sara.send('PATCH', `/api/passkeys/${created.id}`, { json: { name: 'x' } })).status).toBe(404);
    expect((await sara.send('DELETE', `/api/passkeys/${created.id}`)).status).toBe(404);
    expect((await erik.send('DELETE', `/api/passkeys/not-a-uuid`)).status).toBe(404);
    expect((await erik.send('DELETE', `/api/passkeys/${created.id}`)).status).toBe(204);
    expect((await erik.get('/api/passkeys')).body.items).toEqual([]);
  });

  it('signs in with a passkey alone, a new session with its own id', async () => {
    await register(await signInWithDev(PEOPLE.karin));
    const browser = new CookieBrowser();
    const { credential } = await assertion(browser);
    const res = await postJson(browser, server.url, '/auth/passkeys/authentication/verify', credential);
    expect(res.status).toBe(204);
    const me = await client(browser).get('/api/me');
    expect(me.body).toMatchObject({ party: { id: PEOPLE.karin }, signInMethod: 'passkey' });
    expect(me.body.strongSignInAt).not.toBeNull();
    const passkeys = (await client(browser).get('/api/passkeys')).body.items;
    expect(passkeys[0].lastUsedAt).not.toBeNull();
  });

  it('refuses a replayed response and a reused challenge, and tells the owner', async () => {
    await register(await signInWithDev(PEOPLE.anna));
    const browser = new CookieBrowser();
    const { options, credential } = await assertion(browser);
    const ceremony = browser.cookies(server.url).get('ombud_webauthn') as string;
    expect((await postJson(browser, server.url, '/auth/passkeys/authentication/verify', credential)).status).toBe(204);

    const attacker = new CookieBrowser();
    attacker.cookies(server.url).set('ombud_webauthn', ceremony);
    const replay = await postJson(attacker, server.url, '/auth/passkeys/authentication/verify', credential);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { code: string }).code).toBe('sign-in-failed');
    expect(attacker.cookies(server.url).get('ombud_session')).toBeUndefined();

    // A new signature over the challenge that was already used.
    const again = await chromium.get(options);
    attacker.cookies(server.url).set('ombud_webauthn', ceremony);
    const reused = await postJson(attacker, server.url, '/auth/passkeys/authentication/verify', again);
    expect(reused.status).toBe(400);
    expect(attacker.cookies(server.url).get('ombud_session')).toBeUndefined();

    const events = await refusals(PEOPLE.anna);
    expect(events.map((e) => e.kind)).toEqual(['webauthn-challenge-unknown', 'webauthn-challenge-unknown']);
    expect(events[0]).toMatchObject({ method: 'passkey', actor: { type: 'system' } });
  });

  it('refuses an answer signed on another origin', async () => {
    await register(await signInWithDev(PEOPLE.maja));
    const browser = new CookieBrowser();
    const res = await postJson(browser, server.url, '/auth/passkeys/authentication/options');
    const options = await res.json();
    await chromium.page.goto(`${foreignUrl}/`);
    let credential: Record<string, unknown>;
    try {
      credential = await chromium.get(options);
    } finally {
      await chromium.page.goto(`${server.url}/healthz`);
    }
    const verify = await postJson(browser, server.url, '/auth/passkeys/authentication/verify', credential);
    expect(verify.status).toBe(401);
    expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
    expect((await refusals(PEOPLE.maja)).map((e) => e.kind)).toEqual(['webauthn-mismatch']);
  });

  it('refuses an answer without user verification', async () => {
    await register(await signInWithDev(PEOPLE.tolvan));
    const browser = new CookieBrowser();
    await chromium.setUserVerified(false);
    let credential: Record<string, unknown>;
    try {
      // The browser would refuse to ask an authenticator that cannot verify; a hostile page can lower the bar.
      ({ credential } = await assertion(browser, (o) => ({ ...o, userVerification: 'discouraged' })));
    } finally {
      await chromium.setUserVerified(true);
    }
    const verify = await postJson(browser, server.url, '/auth/passkeys/authentication/verify', credential);
    expect(verify.status).toBe(401);
    expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
  });

  it('refuses a passkey whose signature counter went backwards (a cloned authenticator)', async () => {
    const { id } = await register(await signInWithDev(PEOPLE.erik));
    await server.ctx.database.db.updateTable('passkeys').set({ counter: 1000 }).where('id', '=', id).execute();
    const browser = new CookieBrowser();
    const { credential } = await assertion(browser);
    const verify = await postJson(browser, server.url, '/auth/passkeys/authentication/verify', credential);
    expect(verify.status).toBe(401);
    expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
    expect((await refusals(PEOPLE.erik)).map((e) => e.kind)).toEqual(['webauthn-mismatch']);
  });

  it('answers malformed passkey requests with 4xx problems and no session', async () => {
    const browser = new CookieBrowser();
    await postJson(browser, server.url, '/auth/passkeys/authentication/options');
    const bodies: unknown[] = [
      {},
      { id: 'x', rawId: 'x', type: 'public-key', clientExtensionResults: {}, response: {} },
      { id: 'x', rawId: 'x', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'bm90IGpzb24', authenticatorData: 'AA', signature: 'AA' } },
      { id: 'x', rawId: 'x', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: '!!', authenticatorData: 'AA', signature: 'AA' } },
      { id: 'x', rawId: 'x', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' }, extra: 1 },
    ];
    for (const body of bodies) {
      const res = await postJson(browser, server.url, '/auth/passkeys/authentication/verify', body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
    }
    const signedIn = await signInWithDev(PEOPLE.karin);
    const karin = client(signedIn);
    const before = (await karin.get('/api/passkeys')).body.items;
    await postJson(signedIn, server.url, '/auth/passkeys/registration/options');
    const registrations: unknown[] = [
      { id: 'x', rawId: 'x', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'AA', attestationObject: 'AA' } },
      { id: 'x', rawId: 'x', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'AA' } },
      { id: 'x', rawId: 'x', type: 'password', clientExtensionResults: {}, response: { clientDataJSON: 'AA', attestationObject: 'AA' } },
      [],
    ];
    for (const body of registrations) {
      const res = await postJson(signedIn, server.url, '/auth/passkeys/registration/verify', body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
    }
    expect((await karin.get('/api/passkeys')).body.items).toEqual(before);
    for (const name of ['', ' ', 'a\u0000b', 'x'.repeat(101)]) {
      const res = await karin.send('PATCH', '/api/passkeys/00000000-0000-4000-8000-000000000000', { json: { name } });
      expect(res.status, name).toBe(400);
    }
    const anonymous = new CookieBrowser();
    expect((await postJson(anonymous, server.url, '/auth/passkeys/registration/options')).status).toBe(401);
    expect((await postJson(anonymous, server.url, '/auth/passkeys/authentication/options', undefined, 'http://evil.example')).status).toBe(403);
  });

  it('asks a stale session to step up for grant and revoke, and lets it through after a passkey sign-in', async () => {
    const browser = await signInWithDev(PEOPLE.sara);
    await register(browser);
    const fresh = client(browser);
    const granted = await fresh.post('/api/mandates', { agents: [person(PEOPLE.erik)], scopes: [taxScope], validTo: inDays(30) });
    expect(granted.status).toBe(201);

    // The sign-in is now older than STEP_UP_MINUTES.
    const sara = (await server.ctx.database.db.selectFrom('parties').select('id').where('national_id', '=', PEOPLE.sara).executeTakeFirstOrThrow()).id;
    await server.ctx.database.db
      .updateTable('sessions')
      .set({ strong_at: sql<Date>`now() - interval '1 hour'` })
      .where('party_id', '=', sara)
      .execute();
    const stale = client(browser);
    const grant = await stale.post('/api/mandates', { agents: [person(PEOPLE.karin)], scopes: [taxScope], validTo: inDays(30) });
    expect(grant.status).toBe(401);
    expect(grant.body).toMatchObject({ code: 'step-up-required' });
    const revoke = await stale.post(`/api/mandates/${granted.body.id}/revoke`, {});
    expect(revoke.status).toBe(401);
    expect(revoke.body.code).toBe('step-up-required');
    expect((await stale.get(`/api/mandates/${granted.body.id}`)).body.status).toBe('active');

    const { credential } = await assertion(browser);
    expect((await postJson(browser, server.url, '/auth/passkeys/authentication/verify', credential)).status).toBe(204);
    const stepped = client(browser);
    expect(stepped.cookie).not.toBe(stale.cookie);
    expect((await stale.get('/api/me')).status).toBe(401);
    expect((await stepped.post('/api/mandates', { agents: [person(PEOPLE.karin)], scopes: [taxScope], validTo: inDays(30) })).status).toBe(201);
    const revoked = await stepped.post(`/api/mandates/${granted.body.id}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
  });
});
