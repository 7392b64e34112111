import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../server/config.ts';
import { DEMO_OFFICIALS } from '../../server/demo-people.ts';
import { newPerson } from '../support/people.ts';
import { type Client, ENGINES, inDays, person, startServer, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const taxScope = { service: TAX, permissions: ['view-return'] };
const OFFICIAL = newPerson();
const DEMO_OFFICIAL = DEMO_OFFICIALS[0] as string;

describe.each(ENGINES)('assisted registration by officials on %s', (engine) => {
  let server: TestServer;
  let official: Client;

  beforeAll(async () => {
    server = await startServer(engine, { env: { OFFICIALS: `${OFFICIAL.slice(2, 8)}-${OFFICIAL.slice(8)}` } });
    official = await server.signIn(OFFICIAL);
  });
  afterAll(() => server?.close());

  const register = (client: Client, principalId: string, agentId: string, extra: Record<string, unknown> = {}) =>
    client.post('/api/officials/mandates', {
      principal: person(principalId),
      agents: [person(agentId)],
      scopes: [taxScope],
      validTo: inDays(60),
      reason: 'Besök på servicekontoret',
      documentReference: 'Blankett SKV 4809, dnr 2026/1234',
      ...extra,
    });

  it('registers a mandate that principal, agent, audit trail and checks all see as registered by an official', async () => {
    const [principalId, agentId] = [newPerson(), newPerson()];
    const res = await register(official, principalId, agentId);
    expect(res.status).toBe(201);
    const registeredBy = { role: 'official', reason: 'Besök på servicekontoret', documentReference: 'Blankett SKV 4809, dnr 2026/1234' };
    expect(res.body).toMatchObject({ status: 'active', principal: { id: principalId }, agents: [{ id: agentId }], registeredBy });

    const principal = await server.signIn(principalId);
    const mine = await principal.get('/api/mandates?as=principal');
    expect(mine.body.items[0]).toMatchObject({ id: res.body.id, registeredBy });
    expect((await (await server.signIn(agentId)).get(`/api/mandates/${res.body.id}`)).body.registeredBy).toMatchObject(registeredBy);

    const [event] = (await principal.get('/api/audit?action=mandate.granted')).body.items;
    expect(event).toMatchObject({
      mandateId: res.body.id,
      actor: { type: 'person', id: OFFICIAL },
      registeredBy: 'official',
      reason: registeredBy.reason,
      documentReference: registeredBy.documentReference,
    });

    // The official's own activity shows what they registered.
    const own = (await official.get('/api/audit?action=mandate.granted')).body.items;
    expect(own.map((e: { mandateId: string }) => e.mandateId)).toContain(res.body.id);

    const agency = await server.agency('skatteverket', [TAX]);
    const check = await agency.check({ agent: person(agentId), principal: person(principalId), service: TAX, permission: 'view-return' });
    expect(check.body.decision).toBe('permit');
  });

  it('tells the principal by letter', async () => {
    const [principalId, agentId] = [newPerson(), newPerson()];
    expect((await register(official, principalId, agentId)).status).toBe(201);
    await server.ctx.notifications.tick();
    const page = await server.anonymous().get(`/dev/mailbox?to=${principalId}`);
    expect(page.text).toContain('mandate.registered-by-official');
    expect(page.text).toContain('brev / letter');
    expect(page.text).toContain('Blankett SKV 4809, dnr 2026/1234');
    const agentPage = await server.anonymous().get(`/dev/mailbox?to=${agentId}`);
    expect(agentPage.text).toContain('mandate.granted');
    expect(agentPage.text).not.toContain('brev / letter');
  });

  it('names the official role in /api/me and refuses everyone else', async () => {
    expect((await official.get('/api/me')).body.roles).toContain('official');
    const someone = await server.signIn(newPerson());
    expect((await someone.get('/api/me')).body.roles).not.toContain('official');
    const principalId = newPerson();
    const refused = await register(someone, principalId, newPerson());
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('not-an-official');
    expect((await (await server.signIn(principalId)).get('/api/mandates')).body.items).toEqual([]);
  });

  it('needs a recent strong sign-in', async () => {
    const { id } = await server.ctx.database.db.selectFrom('parties').select('id').where('national_id', '=', OFFICIAL).executeTakeFirstOrThrow();
    const setStrongAt = (at: ReturnType<typeof sql<Date>>) =>
      server.ctx.database.db.updateTable('sessions').set({ strong_at: at }).where('party_id', '=', id).execute();
    const principalId = newPerson();
    await setStrongAt(sql<Date>`now() - interval '1 hour'`);
    try {
      const res = await register(official, principalId, newPerson());
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('step-up-required');
    } finally {
      await setStrongAt(sql<Date>`now()`);
    }
    expect((await register(official, principalId, newPerson())).status).toBe(201);
  });

  it('requires a reason and a document reference, and never a mandate naming the official', async () => {
    const [principalId, agentId] = [newPerson(), newPerson()];
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ reason: undefined }, 'invalid-request'],
      [{ reason: '   ' }, 'invalid-request'],
      [{ documentReference: undefined }, 'invalid-request'],
      [{ documentReference: '' }, 'invalid-request'],
      [{ principal: person('191212121213') }, 'invalid-identity-number'],
      [{ principal: { type: 'organisation', id: '5566778899' } }, 'invalid-request'],
      [{ agents: [person(OFFICIAL)] }, 'official-is-party'],
      [{ principal: person(OFFICIAL) }, 'official-is-party'],
      [{ validTo: inDays(5000) }, 'validity-exceeds-maximum'],
    ];
    for (const [extra, code] of cases) {
      const res = await register(official, principalId, agentId, extra);
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe(code);
    }
    expect((await (await server.signIn(principalId)).get('/api/mandates')).body.items).toEqual([]);
  });
});

describe.each(ENGINES)('officials and protected identity on %s', (engine) => {
  it("never shows an official a protected person's name", async () => {
    const official = newPerson();
    const server = await startServer(engine, { env: { OFFICIALS: official } });
    try {
      const principalId = newPerson();
      await server.ctx.database.db
        .insertInto('parties')
        .values({ id: crypto.randomUUID(), kind: 'person', national_id: principalId, name: 'Skyddad Person', protected_identity: true })
        .execute();
      const res = await (await server.signIn(official)).post('/api/officials/mandates', {
        principal: person(principalId),
        agents: [person(newPerson())],
        scopes: [taxScope],
        validTo: inDays(30),
        reason: 'Besök',
        documentReference: 'Blankett 7',
      });
      expect(res.status).toBe(201);
      expect(res.body.principal).toEqual({ type: 'person', id: principalId });
      expect(res.text).not.toContain('Skyddad Person');
    } finally {
      await server.close();
    }
  });
});

describe('official configuration', () => {
  it('accepts any written form of a personal number and refuses an invalid one', () => {
    expect(readConfig({ OFFICIALS: '19121212-1212, 194003212380' }).officials).toEqual(['191212121212', '194003212380']);
    expect(() => readConfig({ OFFICIALS: '191212121213' })).toThrow(ConfigError);
    expect(readConfig({ DEMO_DATA: 'false' }).officials).toEqual([]);
  });

  it('makes the demo official an official in development with demo data, unless OFFICIALS says otherwise, and never in production', () => {
    expect(readConfig({}).officials).toEqual([DEMO_OFFICIAL]);
    expect(readConfig({ OFFICIALS: '191212121212' }).officials).toEqual(['191212121212']);
    expect(readConfig({ OFFICIALS: '' }).officials).toEqual([]);
    const production = {
      NODE_ENV: 'production',
      SIGNING_KEYS_FILE: '/keys.json',
      PUBLIC_URL: 'https://ombud.example',
      OIDC_ISSUER: 'https://eid.example',
      OIDC_CLIENT_ID: 'ombud',
    };
    expect(readConfig(production).officials).toEqual([]);
  });
});

describe.each(ENGINES)('the demo official on %s', (engine) => {
  it('registers for a principal in development with demo data and no OFFICIALS', async () => {
    const server = await startServer(engine, { env: { DEMO_DATA: 'true' } });
    try {
      const official = await server.signIn(DEMO_OFFICIAL);
      expect((await official.get('/api/me')).body.roles).toContain('official');
      const res = await official.post('/api/officials/mandates', {
        principal: person(newPerson()),
        agents: [person(newPerson())],
        scopes: [taxScope],
        validTo: inDays(30),
        reason: 'Besök på servicekontoret',
        documentReference: 'Blankett 12',
      });
      expect(res.status).toBe(201);
      expect(res.body.registeredBy).toMatchObject({ role: 'official', documentReference: 'Blankett 12' });
      const someoneElse = await server.signIn(newPerson());
      expect((await someoneElse.get('/api/me')).body.roles).not.toContain('official');
    } finally {
      await server.close();
    }
  });

  it('is no official when demo data is off', async () => {
    const server = await startServer(engine);
    try {
      expect((await (await server.signIn(DEMO_OFFICIAL)).get('/api/me')).body.roles).not.toContain('official');
    } finally {
      await server.close();
    }
  });
});
