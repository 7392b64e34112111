import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newPerson } from '../support/people.ts';
import { type Client, ENGINES, inDays, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const BANK = 'exempelbanken.accounts';
const BENEFITS = 'forsakringskassan.benefits';

describe.each(ENGINES)('sub-delegation on %s', (engine) => {
  let server: TestServer;
  let tax: TestAgency;
  let benefits: TestAgency;
  // Each test has a principal of its own, so no other test's mandate answers its checks.
  let anna: Client;
  let principal: string;
  let karin: Client;
  let erik: Client;
  // One instant per test, so a child ending "in 30 days" is not a few milliseconds past its parent.
  let in20: string;
  let in30: string;

  beforeAll(async () => {
    server = await startServer(engine);
    tax = await server.agency('skatteverket', [TAX]);
    benefits = await server.agency('forsakringskassan', [BENEFITS]);
    [karin, erik] = await Promise.all([server.signIn(PEOPLE.karin), server.signIn(PEOPLE.erik)]);
  });
  beforeEach(async () => {
    principal = newPerson();
    anna = await server.signIn(principal);
    in20 = inDays(20);
    in30 = inDays(30);
  });
  afterAll(() => server?.close());

  const grantToKarin = async (extra: Record<string, unknown> = {}) => {
    const res = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ service: TAX, permissions: ['view-return', 'submit-return'] }],
      validTo: inDays(60),
      mayDelegate: true,
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; validFrom: string; validTo: string };
  };
  const askTax = (agent: string, permission = 'view-return', extra: object = {}) =>
    tax.check({ agent: person(agent), principal: person(principal), service: TAX, permission, assurance: 'substantial', ...extra });

  it('passes on a subset: the new mandate keeps the principal, names its delegator and permits', async () => {
    const parent = await grantToKarin();
    const res = await karin.post('/api/mandates', { parentId: parent.id, agents: [person(PEOPLE.erik)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: in30 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ parentId: parent.id, principal: person(principal), delegatedBy: person(PEOPLE.karin), status: 'active' });
    expect((await askTax(PEOPLE.erik)).body).toMatchObject({ decision: 'permit', basis: [{ kind: 'mandate', mandateId: res.body.id }] });
    expect((await askTax(PEOPLE.erik, 'submit-return')).body.decision).toBe('deny');
    // Principal, delegator and new agent all see it; nobody else does.
    for (const c of [anna, karin, erik]) expect((await c.get(`/api/mandates/${res.body.id}`)).status).toBe(200);
    expect((await (await server.signIn(PEOPLE.sara)).get(`/api/mandates/${res.body.id}`)).status).toBe(404);
    expect((await karin.get('/api/mandates?as=delegator')).body.items.map((m: { id: string }) => m.id)).toContain(res.body.id);
  });

  it('refuses what exceeds the parent or is not allowed, with a clear code (400 problem+json)', async () => {
    const parent = await grantToKarin();
    const noDelegation = await grantToKarin({ mayDelegate: false });
    const pass = (body: Record<string, unknown>, who: Client = karin) =>
      who.post('/api/mandates', { parentId: parent.id, agents: [person(PEOPLE.erik)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: in30, ...body });
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ parentId: noDelegation.id }, 400, 'delegation-not-allowed'],
      [{ scopes: [{ service: TAX, permissions: ['view-tax-account'] }] }, 400, 'scope-exceeds-parent'],
      [{ scopes: [{ service: BANK, permissions: ['view-accounts'] }] }, 400, 'scope-exceeds-parent'],
      [{ validTo: inDays(61) }, 400, 'window-exceeds-parent'],
      [{ principal: person(principal) }, 400, 'invalid-request'],
      [{ agents: [person(principal)] }, 400, 'agent-is-principal'],
      [{ parentId: 'not-a-uuid' }, 400, 'invalid-request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await pass(body);
      expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status, code });
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    // Only an agent of the parent may pass it on; to anyone else it does not exist.
    expect((await pass({}, erik)).status).toBe(404);
  });

  it('keeps money limits inside the parent', async () => {
    const bankAgency = await server.agency('exempelbanken', [BANK]);
    const { body: parent } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ service: BANK, permissions: ['pay'], constraints: { maxAmount: 1000 } }],
      validTo: inDays(60),
      mayDelegate: true,
    });
    const pay = (maxAmount: number) =>
      karin.post('/api/mandates', { parentId: parent.id, agents: [person(PEOPLE.erik)], scopes: [{ service: BANK, permissions: ['pay'], constraints: { maxAmount } }], validTo: in30 });
    expect((await pay(1001)).body.code).toBe('constraint-exceeds-parent');
    const ok = await pay(400);
    expect(ok.status).toBe(201);
    const ask = (amount: number) =>
      bankAgency.check({ agent: person(PEOPLE.erik), principal: person(principal), service: BANK, permission: 'pay', amount, assurance: 'high' });
    expect((await ask(400)).body.decision).toBe('permit');
    expect((await ask(401)).body.reasons).toEqual([{ code: 'payment-over-limit', mandateId: ok.body.id }]);
  });

  it('ends the whole subtree at once when the parent is revoked', async () => {
    const parent = await grantToKarin();
    const { body: child } = await karin.post('/api/mandates', { parentId: parent.id, agents: [person(PEOPLE.erik)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: in30, mayDelegate: true });
    const { body: grandchild } = await erik.post('/api/mandates', { parentId: child.id, agents: [person(PEOPLE.tolvan)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: in20 });
    expect((await askTax(PEOPLE.tolvan)).body.decision).toBe('permit');
    await anna.post(`/api/mandates/${parent.id}/revoke`, { reason: 'Ändrade planer' });
    expect((await askTax(PEOPLE.erik)).body.decision).toBe('deny');
    expect((await askTax(PEOPLE.tolvan)).body.decision).toBe('deny');
    expect((await erik.get(`/api/mandates/${child.id}`)).body.status).toBe('revoked');
    expect((await anna.get(`/api/mandates/${grandchild.id}`)).body.status).toBe('revoked');
  });

  it('evaluates the chain at every check: a parent that has ended carries nothing, whatever the child says', async () => {
    const parent = await grantToKarin();
    const { body: child } = await karin.post('/api/mandates', { parentId: parent.id, agents: [person(PEOPLE.erik)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: in30 });
    // The parent ends outside the mandate service (as an agency invalidation would); the child's row is untouched.
    await server.ctx.database.db
      .updateTable('mandates')
      .set({ state: 'revoked', revoked_at: new Date(), revoked_by: (await server.ctx.database.db.selectFrom('parties').select('id').where('national_id', '=', principal).executeTakeFirstOrThrow()).id, revoked_role: 'agency' })
      .where('id', '=', parent.id)
      .execute();
    expect((await anna.get(`/api/mandates/${child.id}`)).body.status).toBe('active');
    expect((await askTax(PEOPLE.erik)).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'revoked', mandateId: parent.id }] });
  });

  it('ends a delegated mandate with its parent window, and lets the delegator take it back', async () => {
    const parent = await grantToKarin({ validTo: in20 });
    const { body: child } = await karin.post('/api/mandates', { parentId: parent.id, agents: [person(PEOPLE.erik)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: in20 });
    expect((await askTax(PEOPLE.erik, 'view-return', { at: inDays(19) })).body.decision).toBe('permit');
    expect((await askTax(PEOPLE.erik, 'view-return', { at: inDays(21) })).body.decision).toBe('deny');
    const back = await karin.post(`/api/mandates/${child.id}/revoke`, {});
    expect(back.body).toMatchObject({ status: 'revoked', revokedRole: 'delegator' });
    expect((await anna.get(`/api/mandates/${parent.id}`)).body.status).toBe('active');
  });

  it('limits the depth of a chain', async () => {
    const parent = await grantToKarin();
    const tolvan = await server.signIn(PEOPLE.tolvan);
    const scopes = [{ service: TAX, permissions: ['view-return'] }];
    const first = await karin.post('/api/mandates', { parentId: parent.id, agents: [person(PEOPLE.erik)], scopes, validTo: in30, mayDelegate: true });
    const second = await erik.post('/api/mandates', { parentId: first.body.id, agents: [person(PEOPLE.tolvan)], scopes, validTo: in30, mayDelegate: true });
    expect(second.status).toBe(201);
    const third = await tolvan.post('/api/mandates', { parentId: second.body.id, agents: [person(PEOPLE.sara)], scopes, validTo: in30 });
    expect(third.status).toBe(400);
    expect(third.body).toMatchObject({ code: 'delegation-too-deep', maxDelegationDepth: 2 });
  });

  it('lets the benefits service refuse applications made through a passed-on mandate', async () => {
    const { body: parent } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ service: BENEFITS, permissions: ['view-cases', 'apply-housing-allowance'] }],
      validTo: inDays(60),
      mayDelegate: true,
    });
    const { body: child } = await karin.post('/api/mandates', { parentId: parent.id, agents: [person(PEOPLE.erik)], scopes: [{ service: BENEFITS, permissions: ['view-cases', 'apply-housing-allowance'] }], validTo: in30 });
    const ask = (agent: string, permission: string) =>
      benefits.check({ agent: person(agent), principal: person(principal), service: BENEFITS, permission, assurance: 'substantial' });
    expect((await ask(PEOPLE.karin, 'apply-housing-allowance')).body.decision).toBe('permit');
    expect((await ask(PEOPLE.erik, 'view-cases')).body.decision).toBe('permit');
    expect((await ask(PEOPLE.erik, 'apply-housing-allowance')).body.reasons).toEqual([{ code: 'no-applications-through-sub-delegation', mandateId: child.id }]);
  });

  it('does not let one agent of a joint mandate pass it on', async () => {
    const { body: joint } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin), person(PEOPLE.erik)],
      scopes: [{ service: TAX, permissions: ['view-return'] }],
      validTo: inDays(60),
      mode: 'joint',
      mayDelegate: true,
    });
    const res = await karin.post('/api/mandates', { parentId: joint.id, agents: [person(PEOPLE.tolvan)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: in30 });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('delegation-not-allowed');
  });
});
