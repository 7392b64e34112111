import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Client, ENGINES, PEOPLE, startServer, type TestServer } from '../support/server.ts';
import { CookieBrowser, LOA2, LOA3, PERSONAL_NUMBER_CLAIM, startOidcProvider, type TestProvider } from '../support/identity.ts';

describe.each(ENGINES)('e-ID sign-in over OpenID Connect on %s', (engine) => {
  let server: TestServer;
  let provider: TestProvider;
  const callback = () => `${server.url}/auth/oidc/callback`;

  beforeAll(async () => {
    provider = await startOidcProvider();
    server = await startServer(engine, {
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.clientId,
        OIDC_CLIENT_SECRET: provider.clientSecret,
        OIDC_ACR_VALUES: `${LOA3} ${LOA2}`,
      },
    });
    provider.register(callback());
  });
  afterAll(async () => {
    await server?.close();
    await provider?.close();
  });
  beforeEach(() => {
    provider.account = { personalNumber: PEOPLE.tolvan, acr: LOA3, name: 'Tolvan Tolvansson' };
    provider.tamper = undefined;
  });

  /** Runs the redirect dance up to the provider's answer, which is returned unfollowed. */
  async function toCallback(browser: CookieBrowser, returnTo = '/mandates'): Promise<string> {
    const { url } = await browser.follow(`${server.url}/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}`, callback());
    expect(url.startsWith(callback())).toBe(true);
    return url;
  }

  function session(browser: CookieBrowser): Client {
    const value = browser.cookies(server.url).get('ombud_session');
    return new Client(server.url, value ? `ombud_session=${value}` : undefined);
  }

  async function refusals(personalNumber: string): Promise<Array<{ kind: string; method: string }>> {
    const client = await server.signIn(personalNumber);
    return (await client.get('/api/audit?action=sign-in-refused')).body.items;
  }

  it('signs in through the full redirect flow with PKCE, state and nonce, keeping the assurance level', async () => {
    const browser = new CookieBrowser();
    const start = await browser.fetch(`${server.url}/auth/oidc/start?returnTo=/mandates`);
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location') as string);
    expect(authorize.origin).toBe(provider.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('redirect_uri')).toBe(callback());
    expect(authorize.searchParams.get('max_age')).toBe('600');

    const { url } = await browser.follow(authorize.href, callback());
    const done = await browser.fetch(url);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/mandates');
    const me = await session(browser).get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ party: { type: 'person', id: PEOPLE.tolvan }, name: 'Tolvan Tolvansson', assurance: 'substantial', signInMethod: 'oidc' });
    expect(me.body.strongSignInAt).not.toBeNull();

    // The callback works once: the flow is gone after it.
    const replay = await browser.fetch(url);
    expect(replay.status).toBe(400);
    expect(replay.headers.get('content-type')).toContain('application/problem+json');
  });

  it('rotates the session id at sign-in', async () => {
    const browser = new CookieBrowser();
    browser.cookies(server.url).set('ombud_session', 'planted-by-someone-else');
    await browser.fetch(await toCallback(browser));
    const value = browser.cookies(server.url).get('ombud_session');
    expect(value).toBeDefined();
    expect(value).not.toBe('planted-by-someone-else');
  });

  it('keeps a low level of assurance off step-up', async () => {
    provider.account = { personalNumber: PEOPLE.sara, acr: LOA2 };
    const browser = new CookieBrowser();
    await browser.fetch(await toCallback(browser));
    const me = await session(browser).get('/api/me');
    expect(me.body).toMatchObject({ assurance: 'low', strongSignInAt: null });
  });

  it('refuses an answer with the wrong state, without a session', async () => {
    const browser = new CookieBrowser();
    const url = new URL(await toCallback(browser));
    url.searchParams.set('state', 'not-the-state-we-sent');
    const res = await browser.fetch(url.href);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'sign-in-failed', status: 400 });
    expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
  });

  it('refuses a callback from a browser that did not start the sign-in', async () => {
    const url = await toCallback(new CookieBrowser());
    const stranger = new CookieBrowser();
    const res = await stranger.fetch(url);
    expect(res.status).toBe(400);
    expect(stranger.cookies(server.url).get('ombud_session')).toBeUndefined();
  });

  const forged: Array<[string, TestProvider['tamper'], number]> = [
    ['a token for another sign-in (wrong nonce)', (claims) => ({ claims: { ...claims, nonce: 'another-nonce' }, key: 'provider' }), 401],
    ['a token from another issuer', (claims) => ({ claims: { ...claims, iss: 'https://other-idp.example' }, key: 'provider' }), 401],
    ['an expired token', (claims) => ({ claims: { ...claims, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }, key: 'provider' }), 401],
    ['a token signed with a stranger’s key', (claims) => ({ claims, key: 'stranger' }), 401],
    ['a token for another client', (claims) => ({ claims: { ...claims, aud: 'someone-else' }, key: 'provider' }), 401],
    ['an old single sign-on (auth_time beyond max_age)', (claims) => ({ claims: { ...claims, auth_time: Math.floor(Date.now() / 1000) - 3600 }, key: 'provider' }), 401],
  ];
  it.each(forged)('refuses %s, without a session', async (_name, tamper, status) => {
    provider.tamper = tamper;
    const browser = new CookieBrowser();
    const res = await browser.fetch(await toCallback(browser));
    expect(res.status).toBe(status);
    const problem = await res.json();
    expect(problem).toMatchObject({ code: 'sign-in-failed', status });
    expect(JSON.stringify(problem)).not.toMatch(/eyJ/);
    expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
  });

  it('refuses a token without the personal number claim', async () => {
    provider.account = { acr: LOA3 };
    const browser = new CookieBrowser();
    const res = await browser.fetch(await toCallback(browser));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/personal identity number/);
    expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
  });

  it('puts an expired but genuine token in the named person’s audit trail, and a forged one in nobody’s', async () => {
    provider.account = { personalNumber: PEOPLE.karin, acr: LOA3 };
    await server.signIn(PEOPLE.karin);
    provider.tamper = (claims) => ({ claims: { ...claims, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }, key: 'provider' });
    const browser = new CookieBrowser();
    expect((await browser.fetch(await toCallback(browser))).status).toBe(401);
    provider.tamper = (claims) => ({ claims: { ...claims, [PERSONAL_NUMBER_CLAIM]: PEOPLE.karin }, key: 'stranger' });
    expect((await browser.fetch(await toCallback(browser))).status).toBe(401);
    const events = await refusals(PEOPLE.karin);
    expect(events.map((e) => e.kind)).toEqual(['id-token-expired']);
    expect(events[0]).toMatchObject({ method: 'oidc' });
  });

  it('answers hostile start and callback requests with 4xx problems', async () => {
    const anonymous = server.anonymous();
    for (const returnTo of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'mandates', `/${'a'.repeat(600)}`]) {
      const res = await anonymous.get(`/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}`);
      expect(res.status, returnTo).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    for (const query of ['', '?code=x', '?state=x&state=y', `?code=${'x'.repeat(5000)}&state=s`, '?error=access_denied&state=s']) {
      const res = await anonymous.get(`/auth/oidc/callback${query}`);
      expect(res.status, query).toBeGreaterThanOrEqual(400);
      expect(res.status, query).toBeLessThan(500);
      expect(res.headers.get('set-cookie') ?? '').not.toMatch(/ombud_session=[^;]/);
    }
  });

  // Last: it stops the provider.
  it('answers 503, not a refusal, when the provider cannot be reached for the code exchange', async () => {
    const browser = new CookieBrowser();
    const url = await toCallback(browser);
    await provider.close();
    const res = await browser.fetch(url);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('sign-in-unavailable');
    expect(browser.cookies(server.url).get('ombud_session')).toBeUndefined();
  });
});

describe.each(ENGINES)('e-ID sign-in with the personal number at UserInfo on %s', (engine) => {
  let server: TestServer;
  let provider: TestProvider;

  beforeAll(async () => {
    provider = await startOidcProvider({ claimsInIdToken: false });
    server = await startServer(engine, {
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.clientId,
        OIDC_CLIENT_SECRET: provider.clientSecret,
        OIDC_ACR_VALUES: LOA3,
      },
    });
    provider.register(`${server.url}/auth/oidc/callback`);
  });
  afterAll(async () => {
    await server?.close();
    await provider?.close();
  });

  it('reads the personal number from UserInfo when the ID token leaves it out', async () => {
    provider.account = { personalNumber: PEOPLE.anna, acr: LOA3, name: 'Anna Andersson' };
    let idTokenClaims: Record<string, unknown> = {};
    provider.tamper = (claims, _keys) => {
      idTokenClaims = claims;
      return { claims, key: 'provider' };
    };
    const browser = new CookieBrowser();
    const { url } = await browser.follow(`${server.url}/auth/oidc/start`, `${server.url}/auth/oidc/callback`);
    expect((await browser.fetch(url)).status).toBe(302);
    expect(idTokenClaims).not.toHaveProperty([PERSONAL_NUMBER_CLAIM]);
    const value = browser.cookies(server.url).get('ombud_session');
    const me = await new Client(server.url, `ombud_session=${value}`).get('/api/me');
    expect(me.body).toMatchObject({ party: { id: PEOPLE.anna }, name: 'Anna Andersson', assurance: 'substantial' });
  });
});
