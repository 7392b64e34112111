import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe.each(ENGINES)('agency access tokens (private_key_jwt) on %s', (engine) => {
  let server: TestServer;
  let agency: TestAgency;

  beforeAll(async () => {
    server = await startServer(engine);
    agency = await server.agency('forsakringskassan', ['forsakringskassan.benefits']);
  });
  afterAll(() => server?.close());

  async function tokenRequest(fields: Record<string, string>) {
    const res = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, type: res.headers.get('content-type') };
  }

  const form = async (assertion: string) => ({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
  });

  it('issues a short-lived Bearer token for a valid assertion', async () => {
    const res = await tokenRequest(await form(await agency.assertion()));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(typeof res.body.access_token).toBe('string');
  });

  it('never accepts the same jti twice', async () => {
    const assertion = await agency.assertion();
    expect((await tokenRequest(await form(assertion))).status).toBe(200);
    const replay = await tokenRequest(await form(assertion));
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ code: 'invalid-grant', error: 'invalid_grant' });
  });

  it.each([
    ['a wrong audience', { aud: 'https://elsewhere.example/oauth/token' }],
    ['an expiry more than five minutes ahead', { exp: Math.floor(Date.now() / 1000) + 3600 }],
    ['an expired assertion', { exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 900 }],
    ['no jti', { jti: undefined }],
    ['no exp', { exp: undefined }],
    ['subject differing from issuer', { sub: 'someone-else' }],
    ['an unknown agency', { iss: 'nobody', sub: 'nobody' }],
  ])('refuses %s', async (_name, claims) => {
    const res = await tokenRequest(await form(await agency.assertion(claims)));
    expect(res.status).toBe(401);
    expect(res.type).toContain('application/problem+json');
    expect(res.body).toMatchObject({ code: 'invalid-client', error: 'invalid_client' });
    expect(res.body.access_token).toBeUndefined();
  });

  it('refuses an assertion signed with a key the agency did not register', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const res = await tokenRequest(await form(await agency.assertion({}, { key: privateKey })));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('invalid-client');
  });

  it('refuses HMAC assertions even when they claim a known kid', async () => {
    const secret = new TextEncoder().encode('a'.repeat(32));
    const res = await tokenRequest(await form(await agency.assertion({}, { key: secret as never, alg: 'HS256' })));
    expect(res.status).toBe(401);
  });

  it('refuses other grant types and missing assertions', async () => {
    expect((await tokenRequest({ grant_type: 'password' })).body).toMatchObject({ code: 'unsupported-grant-type', error: 'unsupported_grant_type' });
    expect((await tokenRequest({ grant_type: 'client_credentials' })).body.code).toBe('invalid-client');
    expect((await tokenRequest({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: 'not.a.jwt' })).status).toBe(401);
  });

  it('checks need a valid Bearer token of ours', async () => {
    const body = { agent: person(PEOPLE.karin), principal: person(PEOPLE.anna), service: 'forsakringskassan.benefits', permission: 'view-cases' };
    const none = await server.anonymous().send('POST', '/api/v1/checks', { json: body, origin: null });
    expect(none.status).toBe(401);
    const assertionAsToken = await agency.check(body, await agency.assertion());
    expect(assertionAsToken.status).toBe(401);
    expect(assertionAsToken.body.code).toBe('invalid-token');
    const tampered = await agency.check(body, `${await agency.token()}x`);
    expect(tampered.status).toBe(401);
  });
});
