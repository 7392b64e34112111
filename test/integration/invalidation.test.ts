import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPerson } from '../support/people.ts';
import { Client, ENGINES, inDays, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const BANK = 'exempelbanken.accounts';

describe.each(ENGINES)('agency invalidation on %s', (engine) => {
  let server: TestServer;
  let tax: TestAgency;
  let bank: TestAgency;
  let taxToken: string;
  let bankToken: string;

  beforeAll(async () => {
    server = await startServer(engine);
    tax = await server.agency('skatteverket', [TAX]);
    bank = await server.agency('exempelbanken', [BANK]);
    [taxToken, bankToken] = await Promise.all([tax.token(), bank.token()]);
  });
  afterAll(() => server?.close());

  const invalidate = (token: string | undefined, id: string, body: unknown) =>
    new Client(server.url).send('POST', `/api/v1/mandates/${id}/invalidate`, {
      json: body,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      origin: null,
    });

  async function grant(scopes: unknown[]) {
    const [principalId, agentId] = [newPerson(), newPerson()];
    const principal = await server.signIn(principalId);
    const res = await principal.post('/api/mandates', { agents: [person(agentId)], scopes, validTo: inDays(60) });
    expect(res.status).toBe(201);
    return { principal, principalId, agentId, mandateId: res.body.id as string };
  }

  const both = [
    { service: TAX, permissions: ['view-return'] },
    { service: BANK, permissions: ['view-accounts'] },
  ];

  it("denies checks on the invalidating agency's services only, with its own reason", async () => {
    const { principal, principalId, agentId, mandateId } = await grant(both);
    const ask = (agency: TestAgency, service: string, permission: string) =>
      agency.check({ agent: person(agentId), principal: person(principalId), service, permission });
    expect((await ask(tax, TAX, 'view-return')).body.decision).toBe('permit');

    const res = await invalidate(taxToken, mandateId, { reason: 'Fullmakten är förfalskad' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ mandateId, invalidations: [{ service: TAX, agency: 'skatteverket', reason: 'Fullmakten är förfalskad' }] });

    const denied = await ask(tax, TAX, 'view-return');
    expect(denied.body).toMatchObject({ decision: 'deny', reasons: [{ code: 'invalidated-by-agency', mandateId }] });
    expect((await ask(bank, BANK, 'view-accounts')).body.decision).toBe('permit');

    const list = (agency: TestAgency, token: string, service: string) =>
      new Client(server.url).send('GET', `/api/v1/representations?agent=${agentId}&service=${service}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await list(tax, taxToken, TAX)).body.items).toEqual([]);
    expect((await list(bank, bankToken, BANK)).body.items).toHaveLength(1);

    // Everywhere else the mandate stands as it was.
    expect((await principal.get(`/api/mandates/${mandateId}`)).body.status).toBe('active');
    const events = (await principal.get('/api/audit?action=mandate.invalidated')).body.items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      mandateId,
      actor: { type: 'agency', id: 'skatteverket' },
      services: [TAX],
      reason: 'Fullmakten är förfalskad',
    });
  });

  it('denies what was passed on from an invalidated mandate, too', async () => {
    const [principalId, agentId, subAgentId] = [newPerson(), newPerson(), newPerson()];
    const principal = await server.signIn(principalId);
    const { body: parent } = await principal.post('/api/mandates', {
      agents: [person(agentId)],
      scopes: [{ service: TAX, permissions: ['view-return'] }],
      validTo: inDays(60),
      mayDelegate: true,
    });
    const child = await (await server.signIn(agentId)).post('/api/mandates', {
      parentId: parent.id,
      agents: [person(subAgentId)],
      scopes: [{ service: TAX, permissions: ['view-return'] }],
      validTo: inDays(30),
    });
    expect(child.status).toBe(201);
    const ask = () => tax.check({ agent: person(subAgentId), principal: person(principalId), service: TAX, permission: 'view-return' });
    expect((await ask()).body.decision).toBe('permit');
    expect((await invalidate(taxToken, parent.id, { reason: 'Förfalskad' })).status).toBe(200);
    expect((await ask()).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'invalidated-by-agency', mandateId: child.body.id }] });
  });

  it('is idempotent and notifies principal and agent once', async () => {
    const { principal, principalId, agentId, mandateId } = await grant(both);
    const first = await invalidate(taxToken, mandateId, { reason: 'Felaktig', services: [TAX] });
    const again = await invalidate(taxToken, mandateId, { reason: 'Något annat' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect((await principal.get('/api/audit?action=mandate.invalidated')).body.items).toHaveLength(1);
    await server.ctx.notifications.tick();
    for (const id of [principalId, agentId]) {
      const page = (await server.anonymous().get(`/dev/mailbox?to=${id}`)).text;
      expect(page.match(/mandate\.invalidated/g)).toHaveLength(1);
      expect(page).toContain('Felaktig');
    }
  });

  it('answers 404 for a mandate outside its services and 403 for a service it does not own', async () => {
    const { mandateId } = await grant([{ service: TAX, permissions: ['view-return'] }]);
    const outside = await invalidate(bankToken, mandateId, { reason: 'x' });
    expect(outside.status).toBe(404);
    expect(outside.body.code).toBe('not-found');
    const notOwned = await invalidate(bankToken, mandateId, { reason: 'x', services: [TAX] });
    expect(notOwned.status).toBe(403);
    expect(notOwned.body.code).toBe('service-not-owned');
    const uncovered = await invalidate(bankToken, (await grant(both)).mandateId, { reason: 'x', services: [BANK, BANK] });
    expect(uncovered.status).toBe(200);
    expect((await invalidate(taxToken, '00000000-0000-4000-8000-000000000000', { reason: 'x' })).status).toBe(404);
    expect((await invalidate(taxToken, 'nope', { reason: 'x' })).status).toBe(404);
  });

  it('needs an agency token and a reason', async () => {
    const { principal, mandateId } = await grant(both);
    expect((await invalidate(undefined, mandateId, { reason: 'x' })).status).toBe(401);
    const asPerson = await principal.send('POST', `/api/v1/mandates/${mandateId}/invalidate`, { json: { reason: 'x' } });
    expect(asPerson.status).toBe(401);
    for (const body of [{}, { reason: '' }, { reason: 'x', extra: true }, { reason: 'x', services: [] }]) {
      const res = await invalidate(taxToken, mandateId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await principal.get('/api/audit?action=mandate.invalidated')).body.items).toEqual([]);
  });
});
