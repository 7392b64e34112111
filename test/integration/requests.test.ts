import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPerson } from '../support/people.ts';
import { type Client, ENGINES, inDays, person, startServer, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const taxScope = { service: TAX, permissions: ['view-return', 'submit-return'] };

describe.each(ENGINES)('requests on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine, {
      env: { REQUESTS_MAX_OPEN: '2', REQUESTS_DECLINES_BEFORE_LOCKOUT: '2', REQUESTS_LOCKOUT_DAYS: '30' },
    });
  });
  afterAll(() => server?.close());

  async function pair(): Promise<{ agent: Client; principal: Client; agentId: string; principalId: string }> {
    const agentId = newPerson();
    const principalId = newPerson();
    return { agent: await server.signIn(agentId), principal: await server.signIn(principalId), agentId, principalId };
  }

  const ask = (agent: Client, principalId: string, extra: Record<string, unknown> = {}) =>
    agent.post('/api/requests', { principal: person(principalId), scopes: [taxScope], validTo: inDays(90), ...extra });

  it('lets the principal approve a request as asked, which grants the mandate to the requester', async () => {
    const { agent, principal, agentId, principalId } = await pair();
    const created = await ask(agent, principalId, { message: 'Hej mamma, jag hjälper dig med deklarationen' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'open', requester: { id: agentId }, principal: { id: principalId } });
    expect(new Date(created.body.expiresAt).getTime() - new Date(created.body.createdAt).getTime()).toBe(30 * 86_400_000);

    const inbox = await principal.get('/api/requests?as=principal');
    expect(inbox.body.items.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
    expect(inbox.body.items[0].message).toBe('Hej mamma, jag hjälper dig med deklarationen');
    expect((await agent.get('/api/requests?as=agent')).body.items[0].id).toBe(created.body.id);

    const approved = await principal.post(`/api/requests/${created.body.id}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.body.request).toMatchObject({ status: 'approved', mandateId: approved.body.mandate.id });
    expect(approved.body.mandate).toMatchObject({
      status: 'active',
      principal: { id: principalId },
      agents: [{ id: agentId }],
      validTo: created.body.validTo,
    });
    expect(approved.body.mandate.scopes[0].permissions.sort()).toEqual(['submit-return', 'view-return']);
    expect((await agent.get(`/api/mandates/${approved.body.mandate.id}`)).status).toBe(200);

    const events = (await agent.get('/api/audit?action=request.created,request.approved,mandate.granted')).body.items;
    expect(events.map((e: { action: string }) => e.action)).toEqual(['mandate.granted', 'request.approved', 'request.created']);
    expect(events[0].requestId).toBe(created.body.id);
    expect(JSON.stringify(events)).not.toContain('Hej mamma');
  });

  it('lets the principal narrow what was asked, and never widen it', async () => {
    const { agent, principal, principalId } = await pair();
    const { body: req } = await ask(agent, principalId);
    const url = `/api/requests/${req.id}/approve`;
    const wider = [
      { scopes: [{ service: TAX, permissions: ['view-tax-account'] }] },
      { scopes: [{ service: 'apoteket.prescriptions', permissions: ['view-prescriptions'] }] },
      { validTo: inDays(120) },
      { mayDelegate: true },
    ];
    for (const body of wider) {
      const res = await principal.post(url, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('approval-exceeds-request');
    }
    expect((await principal.get(`/api/requests/${req.id}`)).body.status).toBe('open');

    const validTo = inDays(30);
    const ok = await principal.post(url, { scopes: [{ service: TAX, permissions: ['view-return'] }], validTo });
    expect(ok.status).toBe(200);
    expect(ok.body.mandate.scopes).toEqual([{ service: TAX, permissions: ['view-return'] }]);
    expect(ok.body.mandate.validTo).toBe(new Date(validTo).toISOString());
    const again = await principal.post(url, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('request-not-open');
  });

  it('needs a recent strong sign-in to approve, as a grant does', async () => {
    const { agent, principal, principalId } = await pair();
    const { body: req } = await ask(agent, principalId);
    const { id } = await server.ctx.database.db.selectFrom('parties').select('id').where('national_id', '=', principalId).executeTakeFirstOrThrow();
    await server.ctx.database.db.updateTable('sessions').set({ strong_at: sql<Date>`now() - interval '1 hour'` }).where('party_id', '=', id).execute();
    const stale = await principal.post(`/api/requests/${req.id}/approve`, {});
    expect(stale.status).toBe(401);
    expect(stale.body.code).toBe('step-up-required');
    expect((await principal.get(`/api/requests/${req.id}`)).body.status).toBe('open');
  });

  it('answers a decline, lets only the principal decide and hides the request from everyone else', async () => {
    const { agent, principal, principalId } = await pair();
    const stranger = await server.signIn(newPerson());
    const { body: req } = await ask(agent, principalId);
    expect((await agent.post(`/api/requests/${req.id}/approve`, {})).status).toBe(403);
    expect((await stranger.get(`/api/requests/${req.id}`)).status).toBe(404);
    expect((await stranger.post(`/api/requests/${req.id}/decline`, {})).status).toBe(404);
    const declined = await principal.post(`/api/requests/${req.id}/decline`, { reason: 'Nej tack' });
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ status: 'declined', declineReason: 'Nej tack' });
    expect((await agent.get(`/api/requests/${req.id}`)).body.status).toBe('declined');
    const late = await principal.post(`/api/requests/${req.id}/approve`, {});
    expect(late.body.code).toBe('request-not-open');
    expect((await principal.get('/api/mandates?as=principal')).body.items).toEqual([]);
  });

  it('allows one open request per principal and caps open requests per requester', async () => {
    const agentId = newPerson();
    const agent = await server.signIn(agentId);
    const [p1, p2, p3] = [newPerson(), newPerson(), newPerson()];
    const first = await ask(agent, p1);
    expect(first.status).toBe(201);
    const duplicate = await ask(agent, p1);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('request-already-open');
    expect((await ask(agent, p2)).status).toBe(201);
    const third = await ask(agent, p3);
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ code: 'too-many-open-requests', maxOpen: 2 });
    // Withdrawing one frees its place.
    const withdrawn = await agent.post(`/api/requests/${first.body.id}/withdraw`);
    expect(withdrawn.body.status).toBe('withdrawn');
    expect((await ask(agent, p3)).status).toBe(201);
  });

  it('locks a requester out after repeated declines by the same person, and no one else', async () => {
    const { agent, principal, principalId } = await pair();
    for (let i = 0; i < 2; i++) {
      const { body: req } = await ask(agent, principalId);
      expect((await principal.post(`/api/requests/${req.id}/decline`, {})).status).toBe(200);
    }
    const locked = await ask(agent, principalId);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('requests-locked-out');
    expect(new Date(locked.body.retryAfter).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    // Another person may still be asked, and another requester may still ask her.
    expect((await ask(agent, newPerson())).status).toBe(201);
    const other = await server.signIn(newPerson());
    expect((await ask(other, principalId)).status).toBe(201);
  });

  it('lets a request lapse after 30 days: it can no longer be approved and no longer counts', async () => {
    const { agent, principal, principalId } = await pair();
    const { body: req } = await ask(agent, principalId);
    // Move the request's expiry to the past, as 30 days of waiting would.
    await server.ctx.database.db
      .updateTable('mandate_requests')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', req.id)
      .execute();
    expect((await principal.get(`/api/requests/${req.id}`)).body.status).toBe('expired');
    const late = await principal.post(`/api/requests/${req.id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'request-not-open', status: 'expired' });
    expect((await ask(agent, principalId)).status).toBe(201);
  });

  it('rejects bad requests with problem+json and writes nothing', async () => {
    const agentId = newPerson();
    const agent = await server.signIn(agentId);
    const p = newPerson();
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ principal: person(p), scopes: [taxScope], validTo: inDays(10), extra: 1 }, 400, 'invalid-request'],
      [{ principal: person('19121212-1213'), scopes: [taxScope], validTo: inDays(10) }, 400, 'invalid-identity-number'],
      [{ principal: person(p), scopes: [{ service: 'nope', permissions: ['x'] }], validTo: inDays(10) }, 400, 'scope-not-in-catalogue'],
      [{ principal: person(p), scopes: [taxScope], validTo: inDays(2000) }, 400, 'validity-exceeds-maximum'],
      [{ principal: person(p), scopes: [taxScope], validTo: inDays(-1) }, 400, 'invalid-validity'],
      [{ principal: { type: 'organisation', id: '5566778899' }, scopes: [taxScope], validTo: inDays(10) }, 400, 'invalid-request'],
      [{ principal: person(agentId), scopes: [taxScope], validTo: inDays(10) }, 400, 'agent-is-principal'],
      [{ principal: person(p), scopes: [taxScope], validTo: inDays(10), message: 'a\u0000b' }, 400, 'invalid-request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await agent.post('/api/requests', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe(code);
    }
    expect((await agent.get('/api/requests?as=agent')).body.items).toEqual([]);
    expect((await agent.get('/api/requests/not-a-uuid')).status).toBe(404);
    expect((await agent.post('/api/requests/00000000-0000-4000-8000-000000000000/decline', {})).status).toBe(404);
    expect((await server.anonymous().get('/api/requests')).status).toBe(401);
    const foreign = await agent.send('POST', '/api/requests', { json: { principal: person(p), scopes: [taxScope], validTo: inDays(10) }, origin: 'https://evil.example' });
    expect(foreign.body.code).toBe('foreign-origin');
  });
});
