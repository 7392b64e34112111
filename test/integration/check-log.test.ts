import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '../../server/audit/service.ts';
import { CheckLog } from '../../server/checks/check-log.ts';
import { ENGINES, inDays, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';

describe.each(ENGINES)('check log group commit (%s)', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(() => server?.close());

  const event = (n: number) => ({ action: 'check', actor: { type: 'system' as const }, partyIds: [], data: { n } });

  it('continues the chain it wrote, and takes the locked path when another writer moved the head', async () => {
    const { database } = server.ctx;
    const log = new CheckLog(database);
    await log.record(event(1));
    await log.record(event(2));
    await database.transaction((trx) => appendAudit(trx, [{ action: 'other', actor: { type: 'system' }, partyIds: [] }]));
    await log.record(event(3));
    await Promise.all([log.record(event(4)), log.record(event(5)), log.record(event(6))]);
    const rows = await database.db.selectFrom('audit_events').select(['action', 'data']).orderBy('seq').execute();
    expect(rows.map((r) => (r.action === 'check' ? (r.data as { n: number }).n : r.action))).toEqual([1, 2, 'other', 3, 4, 5, 6]);
    expect(await verifyAuditChain(database)).toMatchObject({ ok: true, events: 7 });
  });

  it('runs its named statements with one generic plan on real Postgres, not a new plan per batch', async () => {
    const { rows } = await server.ctx.database.prepared<{ mode: string }>('ombud_test_plan_mode', 'SELECT current_setting($1) AS mode', [
      'plan_cache_mode',
    ]);
    expect(rows[0]?.mode).toBe(engine === 'postgres' ? 'force_generic_plan' : 'auto');
  });

  it('checks answered while grants append keep one unbroken chain, each answer in it', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const tax = await server.agency('skatteverket', [TAX]);
    await anna.post('/api/mandates', { agents: [person(PEOPLE.maja)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: inDays(30) });
    const ask = () => tax.check({ agent: person(PEOPLE.maja), principal: person(PEOPLE.anna), service: TAX, permission: 'view-return' });
    const grant = () =>
      anna.post('/api/mandates', { agents: [person(PEOPLE.erik)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: inDays(30) });
    const answers = await Promise.all([...Array.from({ length: 30 }, ask), ...Array.from({ length: 6 }, grant)]);
    const checkIds = answers.slice(0, 30).map((a) => {
      expect(a.body.decision).toBe('permit');
      return a.body.checkId as string;
    });
    const logged = await server.ctx.database.db.selectFrom('audit_events').select('data').where('action', '=', 'check').execute();
    const loggedIds = new Set(logged.map((r) => (r.data as { checkId?: string }).checkId));
    expect(checkIds.filter((id) => !loggedIds.has(id))).toEqual([]);
    expect(await verifyAuditChain(server.ctx.database)).toMatchObject({ ok: true });
  });
});
