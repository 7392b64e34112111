import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import canonicalizeModule from 'canonicalize';
import { base64url, createLocalJWKSet, type CryptoKey, exportJWK, flattenedVerify, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgency } from '../../server/agencies/service.ts';
import { PermissionCodes } from '../../server/minaombud/codes.ts';
import { newPerson } from '../support/people.ts';
import { importRegister, signatory } from '../support/registers.ts';
import { type Client, ENGINES, inDays, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';

// The package is CommonJS; its default import is the function itself.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/**
 * The Mina ombud consumer API for an employee of an accounting firm: clients give the firm a
 * mandate, the firm gives its employee one, and `sok/behorigheter` for the employee lists the
 * clients with what both mandates name. Also: tredje män whose ID-token keys are published at
 * a JWKS URL rather than registered.
 */

const BASE = '/dfm/formedlare/v2';
const TAX = 'skatteverket.income-tax';
const TREDJEMAN = '2120000829';
const REMOTE_TREDJEMAN = '5560038860';
const UNREACHABLE_TREDJEMAN = '5561733360';
const FIRM = '5566778899';
const CLIENT_SECRET = '3392d044-d0f2-491d-a40d-edda4f1361c0';
const ISSUER = 'https://idp.example.se';
const AUDIENCE = 'mina-ombud';
const organisation = (id: string) => ({ type: 'organisation' as const, id });

interface Answer {
  status: number;
  body: any;
}

interface Behorighet {
  kod: string;
  fullmakt: string;
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json` };
}

async function stop(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function rsaKey(kid: string) {
  const pair = await generateKeyPair('RS256', { modulusLength: 2048 });
  return { kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' } as JWK };
}

describe.each(ENGINES)('Mina ombud: firms and published ID-token keys on %s', (engine) => {
  let server: TestServer;
  let tolvan: Client;
  let codes: PermissionCodes;
  let jwks: Server;
  let published: { keys: JWK[] } = { keys: [] };
  let failing = false;
  let idKey: Awaited<ReturnType<typeof rsaKey>>;

  const code = (permission: string) => codes.codeOf(TAX, permission)?.code as string;

  async function accessToken(client: string, scope: string): Promise<string> {
    const res = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client}:${CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    const body = (await res.json()) as { access_token: string };
    expect(res.status).toBe(200);
    return body.access_token;
  }

  /** POSTs `json`, or GETs when there is none. */
  async function call(urlPath: string, json: unknown, options: { bearer: string; idToken?: string }): Promise<Answer> {
    const res = await fetch(`${server.url}${BASE}${urlPath}`, {
      method: json === undefined ? 'GET' : 'POST',
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'x-service-name': 'firm-tests',
        authorization: `Bearer ${options.bearer}`,
        ...(options.idToken ? { 'x-id-token': options.idToken } : {}),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Karlskrona's own system (user:any) asks what the agent may do there. */
  async function behorigheter(agent: string, extra: Record<string, unknown> = {}): Promise<Answer> {
    return call('/sok/behorigheter', { tredjeman: TREDJEMAN, fullmaktshavare: { id: agent, typ: 'pnr' }, ...extra }, { bearer: await accessToken('karlskrona', 'user:any') });
  }

  /** The kontext for one principal, or undefined when the agent reaches none there. */
  async function kontextFor(agent: string, principal: string): Promise<any> {
    const res = await behorigheter(agent);
    expect(res.status).toBe(200);
    return res.body.kontext.find((k: { fullmaktsgivare: { id: string } }) => k.fullmaktsgivare.id === principal);
  }

  /** A client's mandate to the firm, and the firm's mandate (through its signatory) to a new employee. */
  async function firmRoute(clientPermissions = ['view-return', 'submit-return'], employeePermissions = ['view-return', 'view-tax-account']) {
    const [client, employee] = [newPerson(), newPerson()];
    const clientSession = await server.signIn(client);
    const toFirm = await clientSession.post('/api/mandates', {
      agents: [organisation(FIRM)],
      scopes: [{ service: TAX, permissions: clientPermissions }],
      validTo: inDays(60),
    });
    expect(toFirm.status).toBe(201);
    const toEmployee = await tolvan.post('/api/mandates', {
      principal: organisation(FIRM),
      agents: [person(employee)],
      scopes: [{ service: TAX, permissions: employeePermissions }],
      validTo: inDays(30),
    });
    expect(toEmployee.status).toBe(201);
    return { client, employee, clientSession, toFirm: toFirm.body.id as string, toEmployee: toEmployee.body.id as string };
  }

  /** Verifies `_sig` as a client does: the canonical JSON of the rest, with the tredje man's published keys. */
  async function verifySig(tredjeman: string, answer: { _sig: { protected: string; signature: string } }): Promise<void> {
    const keys = await fetch(`${server.url}${BASE}/tredjeman/${tredjeman}/jwks`).then((r) => r.json());
    const { _sig, ...payload } = answer;
    const verified = await flattenedVerify(
      { protected: _sig.protected, payload: base64url.encode(canonicalize(payload) as string), signature: _sig.signature },
      createLocalJWKSet(keys as { keys: JWK[] }),
    );
    expect(verified.protectedHeader?.alg).toBe('RS256');
  }

  /** Karlskrona declares a mandate invalid for its service. */
  async function invalidate(mandateId: string): Promise<void> {
    const res = await fetch(`${server.url}/api/v1/mandates/${mandateId}/invalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await accessToken('karlskrona', 'user:any')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'Fullmakten är förfalskad' }),
    });
    expect(res.status).toBe(200);
  }

  function idToken(pnr: string, key: { kid: string; privateKey: CryptoKey }, claims: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ 'https://claims.oidc.se/1.0/personalNumber': pnr, iss: ISSUER, aud: AUDIENCE, sub: randomUUID(), iat: now, exp: now + 120, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .sign(key.privateKey);
  }

  /** As the end user through the tredje man whose keys are published at a JWKS URL (user:self). */
  async function asEndUser(pnr: string, token: string, tredjeman = REMOTE_TREDJEMAN, client = 'remote-keys'): Promise<Answer> {
    return call('/sok/behorigheter', { tredjeman, fullmaktshavare: { id: pnr, typ: 'pnr' } }, { bearer: await accessToken(client, 'user:self'), idToken: token });
  }

  beforeAll(async () => {
    ({ server: jwks } = await listen((_req, res) => {
      if (failing) res.writeHead(500).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(published));
    }));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`;
    // A port nobody listens on any more.
    const closed = await listen(() => undefined);
    await stop(closed.server);

    // No cooldown, so that a rotation need not wait for the refetch it causes.
    server = await startServer(engine, { env: { JWKS_REFRESH_COOLDOWN_SECONDS: '0' } });
    codes = new PermissionCodes(server.ctx.policies);
    idKey = await rsaKey('idp-1');
    published = { keys: [idKey.jwk] };
    const ec = await generateKeyPair('ES256');
    const common = { services: [TAX], clientSecret: CLIENT_SECRET, idTokenIssuer: ISSUER, idTokenAudience: AUDIENCE };
    await registerAgency(server.ctx.database, server.ctx.policies, {
      ...common,
      id: 'karlskrona',
      name: 'Karlskrona kommun',
      jwks: { keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'karlskrona-ec', alg: 'ES256' }] },
      orgNumber: TREDJEMAN,
      tokenScopes: ['user:any'],
    });
    await registerAgency(server.ctx.database, server.ctx.policies, {
      ...common,
      id: 'remote-keys',
      name: 'Kommun med publicerade nycklar',
      jwksUrl,
      orgNumber: REMOTE_TREDJEMAN,
      tokenScopes: ['user:self'],
    });
    await registerAgency(server.ctx.database, server.ctx.policies, {
      ...common,
      id: 'unreachable-keys',
      name: 'Kommun vars nycklar inte nås',
      jwksUrl: closed.url,
      orgNumber: UNREACHABLE_TREDJEMAN,
      tokenScopes: ['user:self'],
    });
    await importRegister(server, [signatory(PEOPLE.tolvan, FIRM, 'alone')]);
    tolvan = await server.signIn(PEOPLE.tolvan);
  });

  afterAll(async () => {
    await server?.close();
    await stop(jwks);
  });

  describe('POST /sok/behorigheter through a firm', () => {
    it("lists the firm's client with what both mandates name, the client's mandate to the firm as fullmakt, signed", async () => {
      const route = await firmRoute();
      // The employee also holds a mandate of their own from someone else: listed as before.
      const own = newPerson();
      const ownMandate = await (await server.signIn(own)).post('/api/mandates', {
        agents: [person(route.employee)],
        scopes: [{ service: TAX, permissions: ['submit-return'] }],
        validTo: inDays(30),
      });
      expect(ownMandate.status).toBe(201);

      const res = await behorigheter(route.employee, { page: { size: 100 } });
      expect(res.status).toBe(200);
      expect(res.body.page.totalElements).toBe(3);
      const byPrincipal = new Map<string, any>(res.body.kontext.map((k: { fullmaktsgivare: { id: string } }) => [k.fullmaktsgivare.id, k]));

      const client = byPrincipal.get(route.client);
      expect(Object.keys(client).sort()).toEqual(['_sig', 'behorigheter', 'fullmaktsgivare', 'fullmaktsgivarroll', 'fullmaktshavare', 'tidpunkt', 'tredjeman']);
      expect(client).toMatchObject({
        tredjeman: TREDJEMAN,
        fullmaktsgivare: { id: route.client, typ: 'pnr' },
        fullmaktsgivarroll: 'PRIVAT',
        // The agent asked about first, then the firm the fullmakt names.
        fullmaktshavare: [{ id: route.employee, typ: 'pnr' }, { id: FIRM, typ: 'orgnr' }],
      });
      // Only the intersection: the firm may also file, the employee may also see the tax account.
      expect(client.behorigheter).toEqual([{ kod: code('view-return'), fullmakt: route.toFirm }]);

      // The firm itself, as the employee's direct principal, with what it gave the employee.
      expect(byPrincipal.get(FIRM)).toMatchObject({
        fullmaktsgivarroll: 'ORGANISATION',
        fullmaktshavare: [{ id: route.employee, typ: 'pnr' }],
      });
      expect(byPrincipal.get(FIRM).behorigheter.map((b: Behorighet) => b.fullmakt)).toEqual([route.toEmployee, route.toEmployee]);
      expect(byPrincipal.get(own)).toMatchObject({
        fullmaktshavare: [{ id: route.employee, typ: 'pnr' }],
        behorigheter: [{ kod: code('submit-return'), fullmakt: ownMandate.body.id }],
      });

      // The signature covers the firm as a client would verify it: canonical JSON, the tredje man's keys.
      await verifySig(TREDJEMAN, client);

      // Asking for the firm's other permission, or filtering on the client, stays within the intersection.
      expect((await behorigheter(route.employee, { behorigheter: [code('submit-return')], fullmaktsgivare: { id: route.client, typ: 'pnr' } })).body.kontext).toEqual([]);
      const filtered = await behorigheter(route.employee, { fullmaktsgivare: { id: route.client, typ: 'pnr' } });
      expect(filtered.body.kontext.map((k: { behorigheter: Behorighet[] }) => k.behorigheter)).toEqual([[{ kod: code('view-return'), fullmakt: route.toFirm }]]);

      // The firm as agent still sees both permissions its client gave it, and no employee's.
      const asFirm = await call(
        '/sok/behorigheter',
        { tredjeman: TREDJEMAN, fullmaktshavare: { id: FIRM, typ: 'orgnr' }, fullmaktsgivare: { id: route.client, typ: 'pnr' } },
        { bearer: await accessToken('karlskrona', 'user:any') },
      );
      expect(asFirm.body.kontext).toHaveLength(1);
      expect(asFirm.body.kontext[0].fullmaktshavare).toEqual([expect.objectContaining({ id: FIRM, typ: 'orgnr' })]);
      expect(asFirm.body.kontext[0].behorigheter.map((b: Behorighet) => b.kod).sort()).toEqual([code('submit-return'), code('view-return')].sort());

      // The client sees in their own activity that the firm route was looked at, and checked.
      const actions = (await route.clientSession.get('/api/audit')).body.items.map((e: { action: string }) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['minaombud.permissions.listed', 'check']));
    });

    it("is gone once the client revokes the firm's mandate", async () => {
      const route = await firmRoute();
      expect(await kontextFor(route.employee, route.client)).toBeDefined();
      expect((await route.clientSession.post(`/api/mandates/${route.toFirm}/revoke`, { reason: 'Byter byrå' })).status).toBe(200);
      expect(await kontextFor(route.employee, route.client)).toBeUndefined();
    });

    it("is gone once the firm ends the employee's mandate, while the client's mandate to the firm stands", async () => {
      const route = await firmRoute();
      expect(await kontextFor(route.employee, route.client)).toBeDefined();
      expect((await tolvan.post(`/api/mandates/${route.toEmployee}/revoke`, { reason: 'Anställningen har upphört' })).status).toBe(200);
      expect(await kontextFor(route.employee, route.client)).toBeUndefined();
      expect((await behorigheter(route.employee)).body.kontext).toEqual([]);
    });

    it('is gone once an agency invalidates either mandate for the service', async () => {
      const first = await firmRoute();
      expect(await kontextFor(first.employee, first.client)).toBeDefined();
      await invalidate(first.toFirm);
      expect(await kontextFor(first.employee, first.client)).toBeUndefined();

      const second = await firmRoute();
      expect(await kontextFor(second.employee, second.client)).toBeDefined();
      await invalidate(second.toEmployee);
      expect(await kontextFor(second.employee, second.client)).toBeUndefined();
    });

    it("keeps the check's chain rules: a joint mandate from the firm does not let one employee act alone", async () => {
      const [client, employee, colleague] = [newPerson(), newPerson(), newPerson()];
      const toFirm = await (await server.signIn(client)).post('/api/mandates', {
        agents: [organisation(FIRM)],
        scopes: [{ service: TAX, permissions: ['view-return'] }],
        validTo: inDays(60),
      });
      expect(toFirm.status).toBe(201);
      const joint = await tolvan.post('/api/mandates', {
        principal: organisation(FIRM),
        agents: [person(employee), person(colleague)],
        mode: 'joint',
        scopes: [{ service: TAX, permissions: ['view-return'] }],
        validTo: inDays(30),
      });
      expect(joint.status).toBe(201);
      expect(await kontextFor(employee, client)).toBeUndefined();
      // The same mandate from the firm to the employee alone is enough.
      const alone = await tolvan.post('/api/mandates', {
        principal: organisation(FIRM),
        agents: [person(employee)],
        scopes: [{ service: TAX, permissions: ['view-return'] }],
        validTo: inDays(30),
      });
      expect(alone.status).toBe(201);
      expect((await kontextFor(employee, client))?.behorigheter).toEqual([{ kod: code('view-return'), fullmakt: toFirm.body.id }]);
    });
  });

  describe("user:self through a firm: the client's mandate to the firm", () => {
    /** The person themselves (user:self) through the tredje man whose keys are published. */
    async function asSelf(pnr: string, urlPath: string, json?: unknown): Promise<Answer> {
      return call(urlPath, json, { bearer: await accessToken('remote-keys', 'user:self'), idToken: await idToken(pnr, idKey) });
    }
    const read = (pnr: string, id: string, query = '') => asSelf(pnr, `/tredjeman/${REMOTE_TREDJEMAN}/fullmakter/${id}${query}`);
    const search = (pnr: string, extra: Record<string, unknown> = {}) =>
      asSelf(pnr, '/sok/fullmakter', { fullmaktshavare: { id: pnr, typ: 'pnr' }, page: { size: 100 }, ...extra });

    /** The mandate as the person finds it among their own, or undefined. */
    async function listed(pnr: string, id: string): Promise<any> {
      const res = await search(pnr);
      expect(res.status).toBe(200);
      return res.body.fullmakter.find((f: { id: string }) => f.id === id);
    }

    async function expectGone(pnr: string, id: string): Promise<void> {
      expect((await read(pnr, id)).body).toMatchObject({ status: 404, instance: 'fullmakt.saknas' });
      expect(await listed(pnr, id)).toBeUndefined();
    }

    it('lets the employee read it with only what both mandates name, the employee then the firm as agents, signed', async () => {
      const route = await firmRoute();
      const res = await read(route.employee, route.toFirm, '?utdelning=ALLA');
      expect(res.status).toBe(200);
      expect(res.body.fullmakt).toMatchObject({
        id: route.toFirm,
        tredjeman: { id: REMOTE_TREDJEMAN },
        fullmaktsgivare: { id: route.client, typ: 'pnr' },
        fullmaktsgivarroll: 'PRIVAT',
        fullmaktshavare: [{ id: route.employee, typ: 'pnr' }, { id: FIRM, typ: 'orgnr' }],
        skapare: { id: route.client },
      });
      // The firm may also file the return, and the employee may also see the tax account: neither is shown.
      expect(res.body.fullmakt.behorigheter.map((b: { kod: string }) => b.kod)).toEqual([code('view-return')]);
      expect(res.body.metadata).toMatchObject({ status: 'GILTIG', utdelningar: [] });
      await verifySig(REMOTE_TREDJEMAN, res.body);

      // The tredje man's own system sees the whole mandate, as the firm holds it.
      const whole = await call(`/tredjeman/${TREDJEMAN}/fullmakter/${route.toFirm}`, undefined, { bearer: await accessToken('karlskrona', 'user:any') });
      expect(whole.body.fullmakt.behorigheter.map((b: { kod: string }) => b.kod).sort()).toEqual([code('submit-return'), code('view-return')].sort());
      expect(whole.body.fullmakt.fullmaktshavare).toEqual([expect.objectContaining({ id: FIRM, typ: 'orgnr' })]);
    });

    it("lets the employee find it in sok/fullmakter as its agent, beside the firm's mandate to them", async () => {
      const route = await firmRoute();
      const res = await search(route.employee);
      expect(res.status).toBe(200);
      const byId = new Map<string, any>(res.body.fullmakter.map((f: { id: string }) => [f.id, f]));
      expect([...byId.keys()]).toEqual(expect.arrayContaining([route.toFirm, route.toEmployee]));
      // The firm's other clients are reached the same way: each mandate to the firm names the employee, then the firm.
      for (const [id, item] of byId) {
        if (id !== route.toEmployee) expect(item.fullmaktshavare).toEqual([expect.objectContaining({ id: route.employee }), expect.objectContaining({ id: FIRM })]);
      }
      expect(byId.get(route.toFirm)).toMatchObject({
        status: 'GILTIG',
        tredjeman: REMOTE_TREDJEMAN,
        fullmaktsgivare: { id: route.client, typ: 'pnr' },
        fullmaktshavare: [{ id: route.employee, typ: 'pnr' }, { id: FIRM, typ: 'orgnr' }],
      });
      expect(byId.get(route.toEmployee)).toMatchObject({ fullmaktsgivare: { id: FIRM }, fullmaktshavare: [{ id: route.employee }] });

      const toClient = await search(route.employee, { fullmaktsgivare: { id: route.client, typ: 'pnr' } });
      expect(toClient.body.fullmakter.map((f: { id: string }) => f.id)).toEqual([route.toFirm]);
      // Asked about as principal, the employee gave no mandate.
      const given = await asSelf(route.employee, '/sok/fullmakter', { fullmaktsgivare: { id: route.employee, typ: 'pnr' } });
      expect(given.status).toBe(200);
      expect(given.body.fullmakter).toEqual([]);
    });

    it("is gone once the client revokes the firm's mandate: 404, not listed", async () => {
      const route = await firmRoute();
      expect((await read(route.employee, route.toFirm)).status).toBe(200);
      expect(await listed(route.employee, route.toFirm)).toBeDefined();
      expect((await route.clientSession.post(`/api/mandates/${route.toFirm}/revoke`, { reason: 'Byter byrå' })).status).toBe(200);
      await expectGone(route.employee, route.toFirm);
    });

    it("is gone once the firm ends the employee's mandate, or an agency invalidates it: 404, not listed", async () => {
      const ended = await firmRoute();
      expect((await read(ended.employee, ended.toFirm)).status).toBe(200);
      expect((await tolvan.post(`/api/mandates/${ended.toEmployee}/revoke`, { reason: 'Anställningen har upphört' })).status).toBe(200);
      await expectGone(ended.employee, ended.toFirm);

      const invalidated = await firmRoute();
      expect(await listed(invalidated.employee, invalidated.toFirm)).toBeDefined();
      await invalidate(invalidated.toEmployee);
      await expectGone(invalidated.employee, invalidated.toFirm);
    });

    it('answers anyone who reaches it by no route as for a mandate that does not exist', async () => {
      const route = await firmRoute();
      const missing = await read(route.employee, randomUUID());
      expect(missing.status).toBe(404);
      // A colleague whose mandate from the firm names none of what the client gave the firm.
      const colleague = newPerson();
      const toColleague = await tolvan.post('/api/mandates', {
        principal: organisation(FIRM),
        agents: [person(colleague)],
        scopes: [{ service: TAX, permissions: ['view-tax-account'] }],
        validTo: inDays(30),
      });
      expect(toColleague.status).toBe(201);
      // Two who may act for the firm only jointly: the check's chain rules hold here too, so neither reaches it alone.
      const [jointly, partner] = [newPerson(), newPerson()];
      const joint = await tolvan.post('/api/mandates', {
        principal: organisation(FIRM),
        agents: [person(jointly), person(partner)],
        mode: 'joint',
        scopes: [{ service: TAX, permissions: ['view-return'] }],
        validTo: inDays(30),
      });
      expect(joint.status).toBe(201);
      for (const outsider of [newPerson(), colleague, jointly]) {
        const res = await read(outsider, route.toFirm);
        expect(res.status).toBe(404);
        expect({ ...res.body, timestamp: undefined }).toEqual({ ...missing.body, timestamp: undefined });
        expect(await listed(outsider, route.toFirm)).toBeUndefined();
      }
    });

    it('is recorded as read and listed through the firm, for the client and the employee to see', async () => {
      const route = await firmRoute();
      expect((await read(route.employee, route.toFirm)).status).toBe(200);
      expect(await listed(route.employee, route.toFirm)).toBeDefined();
      const expected = {
        actor: { type: 'agency', id: 'remote-keys' },
        mandateId: route.toFirm,
        tredjeman: REMOTE_TREDJEMAN,
        scope: 'user:self',
        agent: { type: 'person', id: route.employee },
        onBehalfOf: { type: 'person', id: route.client },
        firms: [{ type: 'organisation', id: FIRM }],
      };
      for (const session of [route.clientSession, await server.signIn(route.employee)]) {
        const audit = await session.get('/api/audit?action=minaombud.mandate.read,minaombud.mandate.listed');
        expect(audit.status).toBe(200);
        const about = audit.body.items.filter((e: { mandateId?: string }) => e.mandateId === route.toFirm);
        expect(about.map((e: { action: string }) => e.action).sort()).toEqual(['minaombud.mandate.listed', 'minaombud.mandate.read']);
        for (const event of about) expect(event).toMatchObject(expected);
      }
    });
  });

  describe('X-Id-Token from a tredje man with a JWKS URL', () => {
    it('accepts an ID token signed with a published key, and the end user finds their firm client', async () => {
      const route = await firmRoute();
      const res = await asEndUser(route.employee, await idToken(route.employee, idKey));
      expect(res.status).toBe(200);
      const client = res.body.kontext.find((k: { fullmaktsgivare: { id: string } }) => k.fullmaktsgivare.id === route.client);
      expect(client).toMatchObject({ tredjeman: REMOTE_TREDJEMAN, behorigheter: [{ kod: code('view-return'), fullmakt: route.toFirm }] });
    });

    it('refuses a token signed by a key the agency does not publish, under an unknown kid or a known one', async () => {
      const user = newPerson();
      const stranger = await rsaKey('not-published');
      const impostor = { kid: idKey.kid, privateKey: (await rsaKey(idKey.kid)).privateKey };
      for (const token of [await idToken(user, stranger), await idToken(user, impostor)]) {
        const res = await asEndUser(user, token);
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ type: 'urn:dfm:error:auth', instance: 'auth.error', status: 401 });
      }
      expect((await asEndUser(user, await idToken(user, idKey))).status).toBe(200);
    });

    it('keeps the claim checks: issuer, audience, expiry and the pinned algorithms', async () => {
      const user = newPerson();
      expect((await asEndUser(user, await idToken(user, idKey))).status).toBe(200);
      const now = Math.floor(Date.now() / 1000);
      const hmac = await new SignJWT({ 'https://claims.oidc.se/1.0/personalNumber': user, iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: now + 60 })
        .setProtectedHeader({ alg: 'HS256', kid: idKey.kid })
        .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'));
      for (const token of [
        await idToken(user, idKey, { iss: 'https://elsewhere.example' }),
        await idToken(user, idKey, { aud: 'someone-else' }),
        await idToken(user, idKey, { exp: now - 600 }),
        hmac,
      ]) {
        const res = await asEndUser(user, token);
        expect(res.status).toBe(401);
        expect(res.body.instance).toBe('auth.error');
      }
    });

    it('fetches the set again when a token names a new kid (the agency rotated)', async () => {
      const user = newPerson();
      const next = await rsaKey('idp-2');
      expect((await asEndUser(user, await idToken(user, next))).status).toBe(401);
      published = { keys: [next.jwk, idKey.jwk] };
      expect((await asEndUser(user, await idToken(user, next))).status).toBe(200);
    });

    it('fails closed when the published keys cannot be fetched', async () => {
      const user = newPerson();
      const unreachable = await asEndUser(user, await idToken(user, idKey), UNREACHABLE_TREDJEMAN, 'unreachable-keys');
      expect(unreachable.status).toBe(401);
      expect(unreachable.body).toMatchObject({ type: 'urn:dfm:error:auth', instance: 'auth.error', detail: "The agency's published keys could not be fetched." });

      // The publishing server fails just as the agency rotates: the new key cannot be had, so it is refused.
      const unseen = await rsaKey('idp-3');
      published = { keys: [unseen.jwk, idKey.jwk] };
      failing = true;
      try {
        expect((await asEndUser(user, await idToken(user, unseen))).status).toBe(401);
      } finally {
        failing = false;
      }
      expect((await asEndUser(user, await idToken(user, unseen))).status).toBe(200);
    });
  });
});
