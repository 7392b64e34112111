import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksAroundRevoke } from '../support/staleness.ts';
import { ENGINES, inDays, PEOPLE, person, startServer, type TestAgency, type TestServer, type Client } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const BANK = 'exempelbanken.accounts';

describe.each(ENGINES)('checks on %s', (engine) => {
  let server: TestServer;
  let tax: TestAgency;
  let bank: TestAgency;
  let anna: Client;

  beforeAll(async () => {
    server = await startServer(engine);
    tax = await server.agency('skatteverket', [TAX]);
    bank = await server.agency('exempelbanken', [BANK]);
    anna = await server.signIn(PEOPLE.anna);
  });
  afterAll(() => server?.close());

  const ask = (agency: TestAgency, agent: string, permission: string, extra: Record<string, unknown> = {}) =>
    agency.check({
      agent: person(agent),
      principal: person(PEOPLE.anna),
      service: agency === tax ? TAX : BANK,
      permission,
      ...extra,
    });

  it('denies with no-basis when nothing connects the two', async () => {
    const res = await ask(tax, PEOPLE.tolvan, 'view-return');
    expect(res.body).toMatchObject({ decision: 'deny', reasons: [{ code: 'no-basis' }], basis: [] });
    // A person the service has never seen is no basis either, and is still answered and logged.
    const unknown = await tax.check({ agent: person('19900101-0017'), principal: person(PEOPLE.anna), service: TAX, permission: 'view-return' });
    expect(unknown.body.decision).toBe('deny');
  });

  it('denies a permission the mandate does not name', async () => {
    await anna.post('/api/mandates', { agents: [person(PEOPLE.sara)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: inDays(30) });
    expect((await ask(tax, PEOPLE.sara, 'view-return', { assurance: 'substantial' })).body.decision).toBe('permit');
    expect((await ask(tax, PEOPLE.sara, 'submit-return')).body.reasons).toEqual([{ code: 'no-basis' }]);
  });

  it('answers expired and not-yet-valid by the time asked about', async () => {
    const validFrom = inDays(2);
    const validTo = inDays(10);
    const { body: m } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.erik)],
      scopes: [{ service: TAX, permissions: ['view-tax-account'] }],
      validFrom,
      validTo,
    });
    expect((await ask(tax, PEOPLE.erik, 'view-tax-account')).body.reasons).toEqual([{ code: 'not-yet-valid', mandateId: m.id }]);
    expect((await ask(tax, PEOPLE.erik, 'view-tax-account', { at: inDays(5) })).body.decision).toBe('permit');
    expect((await ask(tax, PEOPLE.erik, 'view-tax-account', { at: inDays(11) })).body.reasons).toEqual([{ code: 'expired', mandateId: m.id }]);
  });

  it('joint: never permits an agent alone, permits when every other agent is named (invariant 6)', async () => {
    const { body: m } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin), person(PEOPLE.erik), person(PEOPLE.tolvan)],
      scopes: [{ service: TAX, permissions: ['submit-return'] }],
      validTo: inDays(30),
      mode: 'joint',
    });
    expect(m.mode).toBe('joint');
    const alone = await ask(tax, PEOPLE.tolvan, 'submit-return');
    expect(alone.body).toMatchObject({ decision: 'deny', reasons: [{ code: 'joint-requires-co-agents', mandateId: m.id }] });
    const withOne = await ask(tax, PEOPLE.tolvan, 'submit-return', { coAgents: [person(PEOPLE.karin)] });
    expect(withOne.body.decision).toBe('deny');
    const withStranger = await ask(tax, PEOPLE.tolvan, 'submit-return', { coAgents: [person(PEOPLE.karin), person(PEOPLE.sara)] });
    expect(withStranger.body.decision).toBe('deny');
    const together = await ask(tax, PEOPLE.tolvan, 'submit-return', { coAgents: [person(PEOPLE.karin), person(PEOPLE.erik)] });
    expect(together.body).toMatchObject({ decision: 'permit', basis: [{ kind: 'mandate', mandateId: m.id }] });
  });

  it("applies the service's rules and returns their @id as the reason", async () => {
    const { body: m } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ service: BANK, permissions: ['pay'], constraints: { maxAmount: 2000 } }],
      validTo: inDays(30),
    });
    expect((await ask(bank, PEOPLE.karin, 'pay', { amount: 1500, assurance: 'high' })).body.decision).toBe('permit');
    expect((await ask(bank, PEOPLE.karin, 'pay', { amount: 2500, assurance: 'high' })).body.reasons).toEqual([
      { code: 'payment-over-limit', mandateId: m.id },
    ]);
    const low = await ask(bank, PEOPLE.karin, 'pay', { amount: 100, assurance: 'substantial' });
    expect(low.body.reasons).toEqual([{ code: 'payment-requires-high-assurance', mandateId: m.id }]);
    const noAmount = await ask(bank, PEOPLE.karin, 'pay', { assurance: 'high' });
    expect(noAmount.body.reasons.map((r: { code: string }) => r.code)).toEqual(['payment-amount-missing']);
  });

  it('lets an agency ask only about its own services (403), and only about real permissions (400)', async () => {
    const foreign = await tax.check({ agent: person(PEOPLE.karin), principal: person(PEOPLE.anna), service: BANK, permission: 'pay' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('service-not-owned');
    const unknown = await tax.check({ agent: person(PEOPLE.karin), principal: person(PEOPLE.anna), service: TAX, permission: 'steal' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe('scope-not-in-catalogue');
  });

  it('lists whom an agent may act for on a service, now', async () => {
    const res = await server.anonymous().send('GET', `/api/v1/representations?agent=${PEOPLE.sara}&service=${TAX}`, {
      headers: { authorization: `Bearer ${await tax.token()}` },
    });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      { principal: person(PEOPLE.anna), permissions: ['view-return'], basis: [expect.objectContaining({ kind: 'mandate', mode: 'several' })] },
    ]);
    const other = await server.anonymous().send('GET', `/api/v1/representations?agent=${PEOPLE.sara}&service=${BANK}`, {
      headers: { authorization: `Bearer ${await tax.token()}` },
    });
    expect(other.status).toBe(403);
  });

  it('after a revoke commits, no check returns permit for it, even under concurrent load (invariant 2)', async () => {
    const { body: m } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.maja)],
      scopes: [{ service: TAX, permissions: ['view-return'] }],
      validTo: inDays(30),
    });
    const { before, after } = await checksAroundRevoke(
      () => ask(tax, PEOPLE.maja, 'view-return'),
      async () => {
        const revoke = await anna.post(`/api/mandates/${m.id}/revoke`, {});
        expect(revoke.body.status).toBe('revoked');
      },
    );
    expect(before.some((r) => r.decision === 'permit')).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((r) => r.decision === 'permit')).toEqual([]);
  });
});
