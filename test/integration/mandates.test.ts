import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, inDays, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';

const taxScope = { service: 'skatteverket.income-tax', permissions: ['view-return'] };

describe.each(ENGINES)('mandates on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(() => server?.close());

  it('lists a mandate under the principal and under the agent, and nowhere else', async () => {
    const erik = await server.signIn(PEOPLE.erik);
    const tolvan = await server.signIn(PEOPLE.tolvan);
    const sara = await server.signIn(PEOPLE.sara);
    const granted = await erik.post('/api/mandates', { agents: [person(PEOPLE.tolvan)], scopes: [taxScope], validTo: inDays(30) });
    expect(granted.status).toBe(201);

    const asPrincipal = await erik.get('/api/mandates?as=principal');
    expect(asPrincipal.body.items.map((m: { id: string }) => m.id)).toContain(granted.body.id);
    const asAgent = await tolvan.get('/api/mandates?as=agent');
    expect(asAgent.body.items.map((m: { id: string }) => m.id)).toContain(granted.body.id);
    expect((await tolvan.get('/api/mandates?as=principal')).body.items).toEqual([]);
    expect((await sara.get('/api/mandates?as=agent')).body.items).toEqual([]);

    // Invariant 4: someone else's mandate does not exist for you (404, never 403).
    const foreign = await sara.get(`/api/mandates/${granted.body.id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('not-found');
    const foreignRevoke = await sara.post(`/api/mandates/${granted.body.id}/revoke`, {});
    expect(foreignRevoke.status).toBe(404);
    expect((await erik.get(`/api/mandates/${granted.body.id}`)).body.status).toBe('active');
    expect((await tolvan.get(`/api/mandates/${granted.body.id}`)).status).toBe(200);
  });

  it('lets the agent return a mandate, idempotently, recording one event', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const karin = await server.signIn(PEOPLE.karin);
    const { body: m } = await anna.post('/api/mandates', { agents: [person(PEOPLE.karin)], scopes: [taxScope], validTo: inDays(30) });
    const first = await karin.post(`/api/mandates/${m.id}/revoke`, { reason: 'Jag kan inte längre' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'revoked', revokedRole: 'agent', revokedBy: { type: 'person', id: PEOPLE.karin } });
    const again = await karin.post(`/api/mandates/${m.id}/revoke`, {});
    expect(again.status).toBe(200);
    expect(again.body.revokedAt).toBe(first.body.revokedAt);
    const byPrincipal = await anna.post(`/api/mandates/${m.id}/revoke`, {});
    expect(byPrincipal.body.revokedRole).toBe('agent');
    const events = (await anna.get('/api/audit?action=mandate.returned,mandate.revoked')).body.items.filter(
      (e: { mandateId?: string }) => e.mandateId === m.id,
    );
    expect(events.map((e: { action: string }) => e.action)).toEqual(['mandate.returned']);
  });

  it('caps the validity at the strictest service maximum', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const tooLong = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [taxScope, { service: 'apoteket.prescriptions', permissions: ['view-prescriptions'] }],
      validTo: inDays(400),
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toMatchObject({ code: 'validity-exceeds-maximum', maxValidityDays: 365 });
    const ok = await anna.post('/api/mandates', { agents: [person(PEOPLE.karin)], scopes: [taxScope], validTo: inDays(400) });
    expect(ok.status).toBe(201);
  });

  it('requires a money limit for payments and keeps it on the mandate', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const pay = { service: 'exempelbanken.accounts', permissions: ['pay', 'view-accounts'] };
    const missing = await anna.post('/api/mandates', { agents: [person(PEOPLE.karin)], scopes: [pay], validTo: inDays(30) });
    expect(missing.body.code).toBe('constraint-required');
    const tooHigh = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ ...pay, constraints: { maxAmount: 100_001 } }],
      validTo: inDays(30),
    });
    expect(tooHigh.body.code).toBe('constraint-not-allowed');
    const notMoney = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ ...taxScope, constraints: { maxAmount: 10 } }],
      validTo: inDays(30),
    });
    expect(notMoney.body.code).toBe('constraint-not-allowed');
    const ok = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ ...pay, constraints: { maxAmount: 5000 } }],
      validTo: inDays(30),
    });
    expect(ok.status).toBe(201);
    expect(ok.body.scopes).toEqual([{ service: 'exempelbanken.accounts', permissions: ['pay', 'view-accounts'], constraints: { maxAmount: 5000 } }]);
  });

  it('accepts an organisation as agent and normalises every written form of a number', async () => {
    const anna = await server.signIn('400321-2380');
    const res = await anna.post('/api/mandates', {
      agents: [{ type: 'organisation', id: '556677-8899' }, person('6805144026')],
      scopes: [taxScope],
      validTo: inDays(10),
    });
    expect(res.status).toBe(201);
    expect(res.body.agents.map((a: { type: string; id: string }) => `${a.type}:${a.id}`).sort()).toEqual([
      'organisation:5566778899',
      `person:${PEOPLE.karin}`,
    ]);
    expect(res.body.principal.id).toBe(PEOPLE.anna);
  });

  it('refuses state changes from a foreign origin or without one', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const body = { agents: [person(PEOPLE.karin)], scopes: [taxScope], validTo: inDays(10) };
    const foreign = await anna.send('POST', '/api/mandates', { json: body, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('foreign-origin');
    const none = await anna.send('POST', '/api/mandates', { json: body, origin: null });
    expect(none.status).toBe(403);
    const login = await server.anonymous().send('POST', '/auth/dev/login', { json: { personalNumber: PEOPLE.anna }, origin: 'https://evil.example' });
    expect(login.status).toBe(403);
  });

  it('needs a session, and a signed-out session no longer works', async () => {
    const anonymous = server.anonymous();
    expect((await anonymous.get('/api/mandates')).status).toBe(401);
    const karin = await server.signIn(PEOPLE.karin);
    expect((await karin.get('/api/me')).body).toMatchObject({ party: { type: 'person', id: PEOPLE.karin } });
    const cookie = karin.cookie;
    expect((await karin.post('/auth/logout')).status).toBe(204);
    karin.cookie = cookie;
    const after = await karin.get('/api/me');
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('unauthenticated');
  });

  it('sets an httpOnly, SameSite session cookie', async () => {
    const res = await server.anonymous().post('/auth/dev/login', { personalNumber: PEOPLE.anna });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ombud_session='));
    expect(cookie).toMatch(/httponly/i);
    expect(cookie).toMatch(/samesite=lax/i);
  });
});
