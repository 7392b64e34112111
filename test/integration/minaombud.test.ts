import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import canonicalizeModule from 'canonicalize';
import {
  base64url,
  type CryptoKey,
  decodeProtectedHeader,
  exportJWK,
  flattenedVerify,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgency } from '../../server/agencies/service.ts';
import { verifyAuditChain } from '../../server/audit/service.ts';
import { projectRoot } from '../../server/config.ts';
import { ensureParty } from '../../server/parties/repository.ts';
import { importRegister, signatory } from '../support/registers.ts';
import { ENGINES, inDays, person, startServer, type TestServer } from '../support/server.ts';

// The package is CommonJS; its default import is the function itself.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/**
 * The Mina ombud consumer API (dfm_konsument_v2.yaml) driven the way the published sample
 * clients drive it, with the spec's example values: Karlskrona kommun (2120000829) as tredje
 * man, Test Persson (198101052382) as fullmaktshavare, Stora Enso AB (5561733360) and Nina
 * Greger (195206142597) as fullmaktsgivare, and the example behörighet code
 * 6f3440ec-76ef-4a3b-9379-f11f0d76d887. Signatures are checked here with canonicalize and jose
 * alone, as a client would, never with the server's code.
 */

const BASE = '/dfm/formedlare/v2';
const TREDJEMAN = '2120000829';
const OTHER_TREDJEMAN = '5560038860';
const HAVARE = '198101052382';
const NINA = '195206142597';
const STORA_ENSO = '5561733360';
const BERI = '198602262381';
const TOLVAN = '191212121212';
const OUTSIDER = '195308182301';
const SPEC_CODE = '6f3440ec-76ef-4a3b-9379-f11f0d76d887';
const CLIENT_SECRET = '3392d044-d0f2-491d-a40d-edda4f1361c0';
const ISSUER = 'http://localhost';
const AUDIENCE = 'mina-ombud';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A time as Java's OffsetDateTime writes it back: no trailing zeros in the fraction. */
const JAVA_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d*[1-9])?Z$/;

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

interface Tredje {
  id: string;
  rsa: { privateKey: CryptoKey; kid: string };
}

/** A copy of the policies in which the tax return's "submit" keeps the code from the published example. */
function policiesWithSpecCode(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ombud-policies-'));
  cpSync(path.join(projectRoot, 'policies'), dir, { recursive: true });
  const file = path.join(dir, 'skatteverket.income-tax.json');
  const entry = JSON.parse(readFileSync(file, 'utf8'));
  for (const p of entry.permissions) if (p.code === 'submit-return') p.minaOmbudCode = SPEC_CODE;
  writeFileSync(file, JSON.stringify(entry));
  return dir;
}

async function verifySig(server: TestServer, tredjeman: string, signedObject: Record<string, unknown>): Promise<void> {
  const { _sig, ...payload } = signedObject as { _sig: { protected: string; signature: string } };
  const header = decodeProtectedHeader({ protected: _sig.protected, payload: '', signature: _sig.signature } as never);
  expect(header).toEqual({ alg: 'RS256', kid: expect.any(String) });
  const jwks = (await fetch(`${server.url}${BASE}/tredjeman/${tredjeman}/jwks`).then((r) => r.json())) as { keys: JWK[] };
  const jwk = (jwks.keys as JWK[]).find((k) => k.kid === header.kid);
  expect(jwk).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
  const key = await importJWK(jwk as JWK, 'RS256');
  const canonical = canonicalize(payload) as string;
  await flattenedVerify({ protected: _sig.protected, payload: base64url.encode(canonical), signature: _sig.signature }, key, {
    algorithms: ['RS256', 'RS384', 'RS512'],
  });
}

describe.each(ENGINES)('Mina ombud compatible API on %s', (engine) => {
  let server: TestServer;
  let policiesDir: string;
  let karlskrona: Tredje;
  let other: Tredje;
  const ids: Record<string, string> = {};

  async function register(id: string, orgNumber: string, services: string[], tokenScopes: string[]): Promise<Tredje> {
    const ec = await generateKeyPair('ES256');
    const rsa = await generateKeyPair('RS256', { modulusLength: 2048 });
    const kid = `${id}-rsa`;
    await registerAgency(server.ctx.database, server.ctx.policies, {
      id,
      name: id === 'karlskrona' ? 'Karlskrona kommun' : 'Testbolag AB',
      services,
      jwks: {
        keys: [
          { ...(await exportJWK(ec.publicKey)), kid: `${id}-ec`, alg: 'ES256' },
          { ...(await exportJWK(rsa.publicKey)), kid, alg: 'RS256', use: 'sig' },
        ],
      },
      orgNumber,
      clientSecret: CLIENT_SECRET,
      tokenScopes,
      idTokenIssuer: ISSUER,
      idTokenAudience: AUDIENCE,
    });
    return { id, rsa: { privateKey: rsa.privateKey, kid } };
  }

  /** The token request of the sample clients: HTTP Basic (Python, PowerShell) or form fields (Java, .NET). */
  async function token(client: Tredje, scope: string, how: 'basic' | 'post' = 'basic'): Promise<Answer> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (how === 'basic') headers.authorization = `Basic ${Buffer.from(`${client.id}:${CLIENT_SECRET}`).toString('base64')}`;
    else {
      form.set('client_id', client.id);
      form.set('client_secret', CLIENT_SECRET);
    }
    const res = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers, body: form });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }

  const tokens: Record<string, string> = {};
  async function accessToken(client: Tredje, scope: string): Promise<string> {
    const key = `${client.id} ${scope}`;
    if (!tokens[key]) {
      const res = await token(client, scope);
      expect(res.status).toBe(200);
      tokens[key] = res.body.access_token;
    }
    return tokens[key] as string;
  }

  /** The end user's ID token as the samples sign it (RS256, OIDC Sweden claims). */
  function idToken(client: Tredje, pnr: string, claims: Record<string, unknown> = {}, key = client.rsa.privateKey): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      'https://claims.oidc.se/1.0/personalNumber': pnr,
      name: 'Test Persson',
      given_name: 'Test',
      family_name: 'Persson',
      iat: now,
      exp: now + 120,
      iss: ISSUER,
      aud: AUDIENCE,
      sub: randomUUID(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: client.rsa.kid })
      .sign(key);
  }

  async function call(
    method: 'GET' | 'POST',
    urlPath: string,
    options: { bearer?: string; idToken?: string; service?: string | null; requestId?: string; json?: unknown; raw?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    if (options.idToken) headers['x-id-token'] = options.idToken;
    if (options.service !== null) headers['x-service-name'] = options.service ?? 'EndUserSample.cs';
    if (options.requestId) headers['x-request-id'] = options.requestId;
    let body: string | undefined;
    if (options.json !== undefined || options.raw !== undefined) {
      headers['content-type'] = 'application/json; charset=utf-8';
      body = options.raw ?? JSON.stringify(options.json);
    }
    const res = await fetch(`${server.url}${BASE}${urlPath}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** As Test Persson himself (user:self) through Karlskrona's e-service. */
  async function asHavare(method: 'GET' | 'POST', urlPath: string, json?: unknown, requestId?: string): Promise<Answer> {
    return call(method, urlPath, {
      bearer: await accessToken(karlskrona, 'user:self'),
      idToken: await idToken(karlskrona, HAVARE),
      ...(json !== undefined ? { json } : {}),
      ...(requestId ? { requestId } : {}),
    });
  }

  /** As Karlskrona's system, without an end user (user:any). */
  async function asSystem(method: 'GET' | 'POST', urlPath: string, json?: unknown, client = karlskrona): Promise<Answer> {
    return call(method, urlPath, { bearer: await accessToken(client, 'user:any'), ...(json !== undefined ? { json } : {}) });
  }

  beforeAll(async () => {
    policiesDir = policiesWithSpecCode();
    server = await startServer(engine, { env: { POLICIES_DIR: policiesDir } });
    karlskrona = await register('karlskrona', TREDJEMAN, ['skatteverket.income-tax'], ['user:any', 'user:other', 'user:self']);
    other = await register('testbolag', OTHER_TREDJEMAN, ['forsakringskassan.benefits'], ['user:any']);

    const db = server.ctx.database.db;
    const names: Array<[string, 'person' | 'organisation', string]> = [
      [HAVARE, 'person', 'Test Persson'],
      [NINA, 'person', 'Nina Greger'],
      [STORA_ENSO, 'organisation', 'Stora Enso AB'],
      [BERI, 'person', 'Beri Ylles'],
    ];
    for (const [id, type, name] of names) await ensureParty(db, { type, id }, { name });

    // Nina gives Test Persson her tax return (and may let him pass it on), and separately her benefits.
    const nina = await server.signIn(NINA);
    const tax = await nina.post('/api/mandates', {
      agents: [person(HAVARE)],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return', 'submit-return'] }],
      validTo: inDays(365),
      mayDelegate: true,
    });
    expect(tax.status).toBe(201);
    ids.tax = tax.body.id;
    const benefits = await nina.post('/api/mandates', {
      agents: [person(HAVARE)],
      scopes: [{ service: 'forsakringskassan.benefits', permissions: ['view-cases'] }],
      validTo: inDays(365),
    });
    expect(benefits.status).toBe(201);
    ids.benefits = benefits.body.id;

    // Nina signs alone for Stora Enso and grants for it; Test Persson passes part of her tax mandate on.
    await importRegister(server, [signatory(NINA, STORA_ENSO, 'alone')]);
    const org = await nina.post('/api/mandates', {
      principal: { type: 'organisation', id: STORA_ENSO },
      agents: [person(HAVARE)],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['submit-return'] }],
      validTo: inDays(200),
    });
    expect(org.status).toBe(201);
    ids.org = org.body.id;
    const havare = await server.signIn(HAVARE);
    const passedOn = await havare.post('/api/mandates', {
      parentId: ids.tax,
      agents: [person(BERI)],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return'] }],
      validTo: inDays(200),
    });
    expect(passedOn.status).toBe(201);
    ids.passedOn = passedOn.body.id;
  });

  afterAll(async () => {
    await server?.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  describe('access tokens with a client secret', () => {
    it('issues a token for a secret sent as HTTP Basic or in the form, with the scope asked for', async () => {
      for (const how of ['basic', 'post'] as const) {
        const res = await token(karlskrona, 'user:self', how);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'user:self', expires_in: expect.any(Number) });
        expect(res.body.access_token).toEqual(expect.any(String));
      }
    });

    it('refuses a wrong secret, a scope never given, and two ways of authenticating at once', async () => {
      const wrong = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('karlskrona:nope').toString('base64')}` },
        body: 'grant_type=client_credentials&scope=user:self',
      });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });

      const scope = await token(other, 'user:self');
      expect(scope.status).toBe(400);
      expect(scope.body).toMatchObject({ error: 'invalid_scope', code: 'invalid-scope' });

      const both = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`karlskrona:${CLIENT_SECRET}`).toString('base64')}` },
        body: `grant_type=client_credentials&client_secret=${CLIENT_SECRET}`,
      });
      expect(both.status).toBe(400);
      expect(await both.json()).toMatchObject({ error: 'invalid_request' });
    });
  });

  describe('POST /sok/behorigheter', () => {
    it('answers the published example with signed contexts, permitted by the check engine, and echoes X-Request-Id', async () => {
      const requestId = randomUUID();
      const res = await asHavare('POST', '/sok/behorigheter', {
        tredjeman: TREDJEMAN,
        fullmaktshavare: { id: HAVARE, typ: 'pnr' },
        page: { page: 0, size: 100 },
      }, requestId);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe(requestId);
      expect(res.body.page).toEqual({ size: 100, number: 0, totalElements: 2, totalPages: 1 });
      // Ascending by the principal's name: Greger before Stora Enso AB.
      const [nina, storaEnso] = res.body.kontext;
      expect(Object.keys(nina).sort()).toEqual(['_sig', 'behorigheter', 'fullmaktsgivare', 'fullmaktsgivarroll', 'fullmaktshavare', 'tidpunkt', 'tredjeman']);
      expect(nina).toMatchObject({
        tredjeman: TREDJEMAN,
        fullmaktsgivare: { id: NINA, typ: 'pnr', fornamn: 'Nina', namn: 'Greger' },
        fullmaktsgivarroll: 'PRIVAT',
        fullmaktshavare: [{ id: HAVARE, typ: 'pnr', fornamn: 'Test', namn: 'Persson' }],
      });
      expect(nina.tidpunkt).toMatch(JAVA_TIME);
      const codes = nina.behorigheter.map((b: { kod: string }) => b.kod);
      expect(codes).toContain(SPEC_CODE);
      expect(nina.behorigheter).toHaveLength(2);
      for (const b of nina.behorigheter) expect(b).toEqual({ kod: expect.stringMatching(UUID), fullmakt: ids.tax });
      // The benefits mandate belongs to another tredje man and is not listed.
      expect(storaEnso).toMatchObject({
        fullmaktsgivare: { id: STORA_ENSO, typ: 'orgnr', namn: 'Stora Enso AB' },
        fullmaktsgivarroll: 'ORGANISATION',
        behorigheter: [{ kod: SPEC_CODE, fullmakt: ids.org }],
      });
      expect(storaEnso.fullmaktsgivare.fornamn).toBeUndefined();
      for (const k of res.body.kontext) await verifySig(server, TREDJEMAN, k);

      // A changed byte in the payload no longer verifies.
      await expect(verifySig(server, TREDJEMAN, { ...nina, tidpunkt: '2020-01-01T00:00:00Z' })).rejects.toThrow();

      // The same code again on the next call: codes are stable.
      const again = await asHavare('POST', '/sok/behorigheter', { tredjeman: TREDJEMAN, fullmaktshavare: { id: HAVARE, typ: 'pnr' } });
      expect(again.body.kontext[0].behorigheter.map((b: { kod: string }) => b.kod)).toEqual(codes);
    });

    it('filters on fullmaktsgivare, fullmaktsgivarroll and behörigheter, and pages by principal', async () => {
      const org = await asHavare('POST', '/sok/behorigheter', {
        tredjeman: TREDJEMAN,
        fullmaktshavare: { id: HAVARE, typ: 'pnr' },
        fullmaktsgivarroll: ['ORGANISATION'],
        page: { page: 0, size: 100 },
      });
      expect(org.body.kontext.map((k: any) => k.fullmaktsgivare.id)).toEqual([STORA_ENSO]);

      const givare = await asHavare('POST', '/sok/behorigheter', {
        tredjeman: TREDJEMAN,
        fullmaktshavare: { id: HAVARE, typ: 'pnr' },
        fullmaktsgivare: { id: NINA, typ: 'pnr' },
        behorigheter: [SPEC_CODE],
      });
      expect(givare.body.kontext).toHaveLength(1);
      expect(givare.body.kontext[0].behorigheter).toEqual([{ kod: SPEC_CODE, fullmakt: ids.tax }]);

      const second = await asHavare('POST', '/sok/behorigheter', {
        tredjeman: TREDJEMAN,
        fullmaktshavare: { id: HAVARE, typ: 'pnr' },
        page: { page: 1, size: 1 },
      });
      expect(second.body.page).toEqual({ size: 1, number: 1, totalElements: 2, totalPages: 2 });
      expect(second.body.kontext.map((k: any) => k.fullmaktsgivare.id)).toEqual([STORA_ENSO]);

      const none = await asHavare('POST', '/sok/behorigheter', { tredjeman: TREDJEMAN, fullmaktshavare: { id: HAVARE, typ: 'pnr' }, behorigheter: ['okand'] });
      expect(none.body).toEqual({ kontext: [], page: { size: 20, number: 0, totalElements: 0, totalPages: 0 } });
    });

    it('logs each question like a check, visible to the principal with the calling service', async () => {
      const requestId = randomUUID();
      await asHavare('POST', '/sok/behorigheter', { tredjeman: TREDJEMAN, fullmaktshavare: { id: HAVARE, typ: 'pnr' }, fullmaktsgivare: { id: NINA, typ: 'pnr' } }, requestId);
      const nina = await server.signIn(NINA);
      const audit = await nina.get('/api/audit?action=check,minaombud.permissions.listed&limit=3');
      const listed = audit.body.items.find((e: any) => e.action === 'minaombud.permissions.listed');
      expect(listed).toMatchObject({
        actor: { type: 'agency', id: 'karlskrona' },
        tredjeman: TREDJEMAN,
        serviceName: 'EndUserSample.cs',
        scope: 'user:self',
        requestId,
        agent: { type: 'person', id: HAVARE },
        onBehalfOf: { type: 'person', id: NINA },
      });
      const checks = audit.body.items.filter((e: any) => e.action === 'check');
      expect(checks.length).toBeGreaterThan(0);
      expect(checks[0]).toMatchObject({ actor: { type: 'agency', id: 'karlskrona' }, decision: 'permit', service: 'skatteverket.income-tax' });
      expect(JSON.stringify(audit.body)).not.toContain('eyJ');
    });

    it('answers with the published ApiError for a foreign tredje man, another user, and bad input', async () => {
      const foreign = await asHavare('POST', '/sok/behorigheter', { tredjeman: OTHER_TREDJEMAN, fullmaktshavare: { id: HAVARE, typ: 'pnr' } });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('content-type')).toMatch(/^application\/json/);
      expect(foreign.body).toMatchObject({ type: 'urn:dfm:error:basic', instance: 'tredjeman.ogiltig', status: 403, title: expect.any(String) });
      expect(foreign.body.timestamp).toEqual(expect.any(String));

      const someoneElse = await asHavare('POST', '/sok/behorigheter', { tredjeman: TREDJEMAN, fullmaktshavare: { id: BERI, typ: 'pnr' } });
      expect(someoneElse.status).toBe(403);
      expect(someoneElse.body).toMatchObject({ instance: 'anvandare.obehorig' });

      const requestId = randomUUID();
      const unknownField = await asHavare('POST', '/sok/behorigheter', { tredjeman: TREDJEMAN, fullmaktshavare: { id: HAVARE, typ: 'pnr' }, extra: 1 }, requestId);
      expect(unknownField.status).toBe(400);
      expect(unknownField.body).toMatchObject({ type: 'urn:dfm:error:validation', instance: 'validation.client', status: 400, requestId });
      expect(unknownField.body.violations).toEqual(expect.arrayContaining([expect.objectContaining({ message: expect.any(String), path: expect.any(String) })]));

      const badNumber = await asHavare('POST', '/sok/behorigheter', { tredjeman: TREDJEMAN, fullmaktshavare: { id: '198101052383', typ: 'pnr' } });
      expect(badNumber.body).toMatchObject({ status: 400, instance: 'fullmaktshavare.ogiltig' });

      const badJson = await call('POST', '/sok/behorigheter', { bearer: await accessToken(karlskrona, 'user:any'), raw: '{"tredjeman": ' });
      expect(badJson.status).toBe(400);
      expect(badJson.body).toMatchObject({ type: 'urn:dfm:error:validation', instance: 'validation.client' });

      const badRequestId = await call('POST', '/sok/behorigheter', { bearer: await accessToken(karlskrona, 'user:any'), requestId: 'not-a-uuid', json: {} });
      expect(badRequestId.body).toMatchObject({ status: 400, instance: 'validation.client', violations: [{ path: 'X-Request-Id', message: expect.any(String) }] });
    });
  });

  describe('headers and scopes', () => {
    const body = { tredjeman: TREDJEMAN, fullmaktshavare: { id: HAVARE, typ: 'pnr' } };

    it('needs X-Service-Name, a Bearer token and one end-user scope', async () => {
      const noService = await call('POST', '/sok/behorigheter', { bearer: await accessToken(karlskrona, 'user:any'), service: null, json: body });
      expect(noService.status).toBe(400);
      expect(noService.body).toMatchObject({ instance: 'validation.client', violations: [{ path: 'X-Service-Name', message: expect.any(String) }] });

      const noToken = await call('POST', '/sok/behorigheter', { json: body });
      expect(noToken.status).toBe(401);
      expect(noToken.body).toMatchObject({ type: 'urn:dfm:error:auth', instance: 'auth.error', status: 401 });

      // A token from private_key_jwt without scopes works for our own API only.
      const v1 = await server.agency('plain', ['skatteverket.income-tax']);
      const plain = await call('POST', '/sok/behorigheter', { bearer: await v1.token(), json: body });
      expect(plain.status).toBe(403);
      expect(plain.body).toMatchObject({ type: 'urn:dfm:error:auth', instance: 'auth.error' });
    });

    it('requires X-Id-Token with user:self and user:other and refuses it with user:any', async () => {
      const missing = await call('POST', '/sok/behorigheter', { bearer: await accessToken(karlskrona, 'user:self'), json: body });
      expect(missing.status).toBe(403);
      expect(missing.body).toMatchObject({ type: 'urn:dfm:error:auth', instance: 'auth.error' });
      const missingOther = await call('POST', '/sok/behorigheter', { bearer: await accessToken(karlskrona, 'user:other'), json: body });
      expect(missingOther.status).toBe(403);

      const refused = await call('POST', '/sok/behorigheter', {
        bearer: await accessToken(karlskrona, 'user:any'),
        idToken: await idToken(karlskrona, HAVARE),
        json: body,
      });
      expect(refused.status).toBe(403);

      // user:other: a case worker known by user name asks about someone else.
      const caseWorker = await idToken(karlskrona, HAVARE, { 'https://claims.oidc.se/1.0/personalNumber': undefined, preferred_username: 'handlaggare-17' });
      const asOther = await call('POST', '/sok/behorigheter', { bearer: await accessToken(karlskrona, 'user:other'), idToken: caseWorker, json: body });
      expect(asOther.status).toBe(200);
      expect(asOther.body.kontext).toHaveLength(2);

      const system = await asSystem('POST', '/sok/behorigheter', body);
      expect(system.status).toBe(200);
      expect(system.body.kontext).toHaveLength(2);
    });

    it("verifies X-Id-Token against the agency's own keys, issuer and audience", async () => {
      const bearer = await accessToken(karlskrona, 'user:self');
      const { privateKey: stranger } = await generateKeyPair('RS256', { modulusLength: 2048 });
      const bad = [
        await idToken(karlskrona, HAVARE, {}, stranger),
        await idToken(karlskrona, HAVARE, { aud: 'someone-else' }),
        await idToken(karlskrona, HAVARE, { iss: 'https://elsewhere.example' }),
        await idToken(karlskrona, HAVARE, { exp: Math.floor(Date.now() / 1000) - 600 }),
        await idToken(other, HAVARE, {}, other.rsa.privateKey),
      ];
      for (const token of bad) {
        const res = await call('POST', '/sok/behorigheter', { bearer, idToken: token, json: body });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ type: 'urn:dfm:error:auth', instance: 'auth.error' });
      }
    });
  });

  describe('POST /sok/fullmakter', () => {
    it('lists the mandates at this tredje man only, with the published list item fields', async () => {
      const res = await asHavare('POST', '/sok/fullmakter', { fullmaktshavare: { id: HAVARE, typ: 'pnr' }, tredjeman: [TREDJEMAN], page: { page: 0, size: 100 } });
      expect(res.status).toBe(200);
      expect(res.body.page).toEqual({ size: 100, number: 0, totalElements: 2, totalPages: 1 });
      const tax = res.body.fullmakter.find((f: any) => f.id === ids.tax);
      expect(Object.keys(tax).sort()).toEqual(
        [
          'fullmaktsgivare',
          'fullmaktsgivarroll',
          'fullmaktshavare',
          'giltigFrom',
          'giltigTom',
          'id',
          'referensnummer',
          'registreringstidpunkt',
          'rubrik',
          'status',
          'transportfullmakt',
          'tredjeman',
          'vidaredelad',
          'vidaredelning',
        ].sort(),
      );
      expect(tax).toMatchObject({
        status: 'GILTIG',
        rubrik: 'Inkomstdeklaration',
        tredjeman: TREDJEMAN,
        fullmaktsgivare: { id: NINA, typ: 'pnr', fornamn: 'Nina', namn: 'Greger' },
        fullmaktsgivarroll: 'PRIVAT',
        fullmaktshavare: [{ id: HAVARE, typ: 'pnr', fornamn: 'Test', namn: 'Persson' }],
        vidaredelning: true,
        vidaredelad: true,
        transportfullmakt: false,
      });
      expect(tax.referensnummer).toMatch(/^MOP[0-9A-F]{32}$/);
      expect(tax.giltigFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(tax.giltigTom > tax.giltigFrom).toBe(true);
      expect(res.body.fullmakter.find((f: any) => f.id === ids.org).referensnummer).toMatch(/^MOF/);
      expect(res.body.fullmakter.some((f: any) => f.id === ids.benefits)).toBe(false);

      // The other tredje man sees the benefits mandate and nothing of the tax return.
      const theirs = await asSystem('POST', '/sok/fullmakter', { fullmaktshavare: { id: HAVARE, typ: 'pnr' } }, other);
      expect(theirs.body.fullmakter.map((f: any) => f.id)).toEqual([ids.benefits]);
    });

    it('finds passed-on mandates by ursprung, and roots with ursprung null', async () => {
      const children = await asSystem('POST', '/sok/fullmakter', { fullmaktsgivare: { id: NINA, typ: 'pnr' }, ursprung: ids.tax });
      expect(children.body.fullmakter).toHaveLength(1);
      expect(children.body.fullmakter[0]).toMatchObject({ id: ids.passedOn, transportfullmakt: true, fullmaktshavare: [{ id: BERI }] });
      const roots = await asSystem('POST', '/sok/fullmakter', { fullmaktsgivare: { id: NINA, typ: 'pnr' }, ursprung: null });
      expect(roots.body.fullmakter.map((f: any) => f.id)).toEqual([ids.tax]);
    });

    it('reports a revoked mandate as HISTORISK with aterkallad, and as it stood at referenstidpunkt', async () => {
      await ensureParty(server.ctx.database.db, { type: 'person', id: TOLVAN }, { name: 'Tolvan Tolvansson' });
      const tolvan = await server.signIn(TOLVAN);
      const granted = await tolvan.post('/api/mandates', {
        agents: [person(HAVARE)],
        scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return'] }],
        validTo: inDays(30),
      });
      const before = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 20));
      expect((await tolvan.post(`/api/mandates/${granted.body.id}/revoke`, {})).status).toBe(200);

      const search = { fullmaktsgivare: { id: TOLVAN, typ: 'pnr' } };
      const now = await asSystem('POST', '/sok/fullmakter', search);
      expect(now.body.fullmakter).toHaveLength(1);
      const item = now.body.fullmakter[0];
      expect(item).toMatchObject({
        status: 'HISTORISK',
        aterkallad: { part: 'FULLMAKTSGIVARE', person: { id: TOLVAN, typ: 'pnr', fornamn: 'Tolvan', namn: 'Tolvansson' } },
      });
      expect(item.aterkallad.tidpunkt).toMatch(JAVA_TIME);

      const then = await asSystem('POST', '/sok/fullmakter', { ...search, referenstidpunkt: before });
      expect(then.body.fullmakter[0].status).toBe('GILTIG');
      expect(then.body.fullmakter[0].aterkallad).toBeUndefined();

      const current = await asSystem('POST', '/sok/fullmakter', { ...search, status: 'AKTUELL' });
      expect(current.body.fullmakter).toEqual([]);
      const revoked = await asSystem('POST', '/sok/fullmakter', { ...search, aterkallad: true });
      expect(revoked.body.fullmakter).toHaveLength(1);
      const notRevoked = await asSystem('POST', '/sok/fullmakter', { ...search, aterkallad: false });
      expect(notRevoked.body.fullmakter).toEqual([]);
      const noEnd = await asSystem('POST', '/sok/fullmakter', { ...search, giltigTom: null });
      expect(noEnd.body.fullmakter).toEqual([]);
    });

    it('sorts as asked, needs a party, and keeps user:self to the user', async () => {
      const byDate = await asSystem('POST', '/sok/fullmakter', { fullmaktshavare: { id: HAVARE, typ: 'pnr' }, page: { page: 0, size: 100, sort: 'referensnummer desc' } });
      const refs = byDate.body.fullmakter.map((f: any) => f.referensnummer);
      expect(refs).toEqual([...refs].sort().reverse());

      const badSort = await asSystem('POST', '/sok/fullmakter', { fullmaktshavare: { id: HAVARE, typ: 'pnr' }, page: { sort: 'losenord' } });
      expect(badSort.body).toMatchObject({ status: 400, instance: 'validation.client' });

      const nobody = await asSystem('POST', '/sok/fullmakter', { tredjeman: [TREDJEMAN] });
      expect(nobody.status).toBe(400);
      expect(nobody.body).toMatchObject({ type: 'urn:dfm:error:basic', instance: 'sokning.havare_givare.saknas' });

      const notMine = await asHavare('POST', '/sok/fullmakter', { fullmaktsgivare: { id: NINA, typ: 'pnr' } });
      expect(notMine.body).toMatchObject({ status: 403, instance: 'anvandare.obehorig' });
    });
  });

  describe('GET /tredjeman/{tredjeman}/fullmakter/{fullmakt}', () => {
    it('returns the mandate and its metadata, signed, with only this tredje man’s permissions', async () => {
      const res = await asHavare('GET', `/tredjeman/${TREDJEMAN}/fullmakter/${ids.tax}`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['_sig', 'fullmakt', 'metadata', 'svarstidpunkt']);
      const { fullmakt, metadata } = res.body;
      expect(fullmakt).toMatchObject({
        id: ids.tax,
        ursprung: { mall: expect.stringMatching(UUID) },
        rubrik: 'Inkomstdeklaration',
        beskrivning: expect.any(String),
        skapare: { id: NINA, typ: 'pnr', fornamn: 'Nina', namn: 'Greger' },
        tredjeman: { id: TREDJEMAN, namn: 'Karlskrona kommun' },
        fullmaktsgivare: { id: NINA, typ: 'pnr' },
        fullmaktsgivarroll: 'PRIVAT',
        fullmaktshavare: [{ id: HAVARE, typ: 'pnr' }],
        signatarer: [{ fysiskPerson: { id: NINA, typ: 'pnr', fornamn: 'Nina', namn: 'Greger' } }],
        vidaredelning: true,
        transportfullmakt: false,
      });
      expect(fullmakt.behorigheter).toEqual(
        expect.arrayContaining([{ kod: SPEC_CODE, rubrik: 'Lämna deklarationen', beskrivning: 'Ändra och skicka in deklarationen.' }]),
      );
      expect(fullmakt.behorigheter).toHaveLength(2);
      expect(metadata).toMatchObject({ status: 'GILTIG', vidaredelad: true, underskrifter: [{ person: { id: NINA }, tidpunkt: fullmakt.skapadTidpunkt }] });
      expect(metadata.utdelningar).toBeUndefined();
      expect(res.body.svarstidpunkt).toMatch(JAVA_TIME);
      await verifySig(server, TREDJEMAN, res.body);
    });

    it('lists the passed-on mandates with utdelning, and names the origin of a passed-on one', async () => {
      const res = await asSystem('GET', `/tredjeman/${TREDJEMAN}/fullmakter/${ids.tax}?utdelning=AKTUELLA`);
      expect(res.body.metadata.utdelningar).toEqual([
        {
          id: ids.passedOn,
          status: 'GILTIG',
          aterkallad: false,
          giltigFrom: expect.any(String),
          giltigTom: expect.any(String),
          vidaredelning: false,
          vidaredelad: false,
          fullmaktshavare: [{ id: BERI, typ: 'pnr', fornamn: 'Beri', namn: 'Ylles' }],
        },
      ]);
      await verifySig(server, TREDJEMAN, res.body);
      const ended = await asSystem('GET', `/tredjeman/${TREDJEMAN}/fullmakter/${ids.tax}?utdelning=HISTORISKA`);
      expect(ended.body.metadata.utdelningar).toEqual([]);

      const child = await asSystem('GET', `/tredjeman/${TREDJEMAN}/fullmakter/${ids.passedOn}`);
      expect(child.body.fullmakt).toMatchObject({ transportfullmakt: true, ursprung: { fullmakt: ids.tax }, skapare: { id: HAVARE } });

      const org = await asSystem('GET', `/tredjeman/${TREDJEMAN}/fullmakter/${ids.org}`);
      expect(org.body.fullmakt).toMatchObject({
        fullmaktsgivarroll: 'ORGANISATION',
        signatarer: [{ juridiskSignatar: { juridiskPerson: { id: STORA_ENSO, typ: 'orgnr' }, foretradare: [{ id: NINA }] } }],
      });
      await verifySig(server, TREDJEMAN, org.body);
    });

    it('answers 404 for another tredje man’s mandate, a foreign tredje man, a bad id, and someone else’s mandate', async () => {
      const theirs = await asSystem('GET', `/tredjeman/${TREDJEMAN}/fullmakter/${ids.benefits}`);
      expect(theirs.status).toBe(404);
      expect(theirs.body).toMatchObject({ type: 'urn:dfm:error:basic', instance: 'fullmakt.saknas' });
      const wrongPath = await asSystem('GET', `/tredjeman/${OTHER_TREDJEMAN}/fullmakter/${ids.benefits}`);
      expect(wrongPath.body).toMatchObject({ status: 404, instance: 'tredjeman.ogiltig' });
      const badId = await asSystem('GET', `/tredjeman/${TREDJEMAN}/fullmakter/not-a-uuid`);
      expect(badId.body).toMatchObject({ status: 404, instance: 'fullmakt.saknas' });
      const outsider = await call('GET', `/tredjeman/${TREDJEMAN}/fullmakter/${ids.tax}`, {
        bearer: await accessToken(karlskrona, 'user:self'),
        idToken: await idToken(karlskrona, OUTSIDER),
      });
      expect(outsider.body).toMatchObject({ status: 404, instance: 'fullmakt.saknas' });
    });
  });

  describe('GET /tredjeman/{tredjeman}/jwks', () => {
    it('publishes public RSA keys without authentication, and 404 for an unknown tredje man', async () => {
      const res = await fetch(`${server.url}${BASE}/tredjeman/${TREDJEMAN}/jwks`);
      expect(res.status).toBe(200);
      const jwks = (await res.json()) as { keys: JWK[] };
      expect(jwks.keys.length).toBeGreaterThan(0);
      for (const k of jwks.keys) {
        expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String), n: expect.any(String), e: 'AQAB' });
        expect(k.d).toBeUndefined();
      }
      const unknown = await call('GET', '/tredjeman/5563813962/jwks');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ type: 'urn:dfm:error:basic', instance: 'tredjeman.ogiltig' });
    });
  });

  it('is described in /openapi.json, and every call left the audit chain intact', async () => {
    const doc = await server.anonymous().get('/openapi.json');
    for (const p of ['/sok/behorigheter', '/sok/fullmakter', '/tredjeman/{tredjeman}/fullmakter/{fullmakt}', '/tredjeman/{tredjeman}/jwks']) {
      expect(Object.keys(doc.body.paths)).toContain(`${BASE}${p}`);
    }
    expect(await verifyAuditChain(server.ctx.database)).toMatchObject({ ok: true });
  });
});
