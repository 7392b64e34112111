import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../server/config.ts';
import { Database } from '../../server/db/database.ts';
import type { NotificationAdapter } from '../../server/notifications/adapters.ts';
import { deleteFinishedBefore } from '../../server/notifications/repository.ts';
import { NotificationWorker } from '../../server/notifications/worker.ts';
import { newPerson } from '../support/people.ts';
import { ENGINES, inDays, person, startServer, type TestServer } from '../support/server.ts';

const taxScope = { service: 'skatteverket.income-tax', permissions: ['view-return'] };
const DAY = 86_400_000;

const gatewayUp: NotificationAdapter = { name: 'up', deliver: () => Promise.resolve() };
const gatewayDown: NotificationAdapter = { name: 'down', deliver: () => Promise.reject(new Error('gateway down')) };

describe.each(ENGINES)('expiry reminders and outbox retention on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(() => server?.close());

  const worker = (
    adapter: NotificationAdapter,
    options: { database?: Database; maxAttempts?: number; retainDays?: number; logger?: pino.Logger } = {},
  ) =>
    new NotificationWorker(options.database ?? server.ctx.database, adapter, options.logger ?? server.ctx.logger, {
      pollMs: 1000,
      maxAttempts: options.maxAttempts ?? 5,
      retryBaseMs: 60_000,
      retainDays: options.retainDays ?? 90,
    });

  /** `days` from when the test started; mandates are granted at about that moment. */
  const clock = () => {
    const t0 = Date.now();
    return (days: number) => new Date(t0 + days * DAY);
  };

  const grant = async (principalId: string, agentId: string, validInDays: number): Promise<string> => {
    const res = await (await server.signIn(principalId)).post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(validInDays) });
    expect(res.status).toBe(201);
    return (res.body as { id: string }).id;
  };

  /** The reminders in the outbox for one mandate, as `principal:30`, `agent:7` … */
  const remindersOf = async (mandateId: string, principalId: string) => {
    const rows = await server.ctx.database.db
      .selectFrom('notifications as n')
      .innerJoin('parties as p', 'p.id', 'n.recipient_id')
      .select(['p.national_id', sql<string>`n.data ->> 'days'`.as('days')])
      .where('n.kind', '=', 'mandate.expiring')
      .where(sql<string>`n.data ->> 'mandateId'`, '=', mandateId)
      .execute();
    return rows.map((r) => `${r.national_id === principalId ? 'principal' : 'agent'}:${r.days}`).sort();
  };

  const remembered = async (mandateIds: string[]) =>
    server.ctx.database.db.selectFrom('mandate_reminders').select(['mandate_id', 'days']).where('mandate_id', 'in', mandateIds).execute();

  const outboxOf = async (nationalId: string) =>
    server.ctx.database.db
      .selectFrom('notifications as n')
      .innerJoin('parties as p', 'p.id', 'n.recipient_id')
      .select(['n.kind', 'n.state'])
      .where('p.national_id', '=', nationalId)
      .execute();

  it('sends a reminder whose moment fell into a ten-day outage when the worker is back, once', async () => {
    const day = clock();
    const [principalId, agentId] = [newPerson(), newPerson()];
    const long = await grant(principalId, agentId, 40);
    const short = await grant(principalId, agentId, 20);
    const revoked = await grant(principalId, agentId, 40);
    await (await server.signIn(principalId)).post(`/api/mandates/${revoked}/revoke`, {});
    const w = worker(gatewayUp);

    await w.tick(day(5));
    expect(await remindersOf(long, principalId)).toEqual([]);
    // Granted with 20 days to run: never a 30-day reminder.
    expect(await remindersOf(short, principalId)).toEqual([]);

    // Down from day 5 to day 15: the long mandate's 30-day moment (day 10) passed meanwhile.
    await w.tick(day(15));
    await w.tick(day(15));
    await w.tick(day(16));
    expect(await remindersOf(long, principalId)).toEqual(['agent:30', 'principal:30']);
    expect(await remindersOf(short, principalId)).toEqual(['agent:7', 'principal:7']);
    expect(await remindersOf(revoked, principalId)).toEqual([]);
    expect(await outboxOf(agentId)).toContainEqual({ kind: 'mandate.expiring', state: 'sent' });
  });

  it('after a longer outage sends only the nearest reminder, and none for a mandate that has ended', async () => {
    const day = clock();
    const [principalId, agentId] = [newPerson(), newPerson()];
    const late = await grant(principalId, agentId, 35);
    const ended = await grant(principalId, agentId, 20);
    const w = worker(gatewayUp);

    await w.tick(day(4));
    await w.tick(day(30));
    await w.tick(day(31));
    expect(await remindersOf(late, principalId)).toEqual(['agent:7', 'principal:7']);
    expect(await remindersOf(ended, principalId)).toEqual([]);
    expect(await remembered([late, ended])).toEqual([{ mandate_id: late, days: 7 }]);
  });

  it('sends the 7-day reminder once as a mandate enters the last week', async () => {
    const day = clock();
    const [principalId, agentId] = [newPerson(), newPerson()];
    const m = await grant(principalId, agentId, 40);
    const w = worker(gatewayUp);

    await w.tick(day(10.5));
    await w.tick(day(32.5));
    expect(await remindersOf(m, principalId)).toEqual(['agent:30', 'principal:30']);
    await w.tick(day(33.5));
    await w.tick(day(34));
    await w.tick(day(39.5));
    await w.tick(day(41));
    expect(await remindersOf(m, principalId)).toEqual(['agent:30', 'agent:7', 'principal:30', 'principal:7']);
  });

  it('remembers a reminder after its outbox row is deleted', async () => {
    const day = clock();
    const [principalId, agentId] = [newPerson(), newPerson()];
    const m = await grant(principalId, agentId, 40);
    const w = worker(gatewayUp, { retainDays: 1 });

    await w.tick(day(11));
    expect(await remindersOf(m, principalId)).toEqual(['agent:30', 'principal:30']);
    await w.tick(day(13));
    expect(await remindersOf(m, principalId)).toEqual([]);
    await w.tick(day(14));
    expect(await remindersOf(m, principalId)).toEqual([]);
    expect(await remembered([m])).toEqual([{ mandate_id: m, days: 30 }]);
  });

  it('enqueues each reminder once when two workers scan at the same time', async () => {
    const day = clock();
    const principalId = newPerson();
    const mandates: string[] = [];
    for (let i = 0; i < 8; i++) mandates.push(await grant(principalId, newPerson(), 40));
    const second = server.databaseUrl ? Database.postgres(server.databaseUrl) : server.ctx.database;
    try {
      const [w1, w2] = [worker(gatewayUp), worker(gatewayUp, { database: second })];
      await Promise.all([w1.scheduleReminders(day(12)), w2.scheduleReminders(day(12)), w1.scheduleReminders(day(12)), w2.scheduleReminders(day(12))]);
    } finally {
      if (second !== server.ctx.database) await second.close();
    }
    for (const m of mandates) expect(await remindersOf(m, principalId)).toEqual(['agent:30', 'principal:30']);
    expect(await remembered(mandates)).toHaveLength(8);
  });

  it('deletes delivered and given-up notifications after the retention, never pending ones', async () => {
    const day = clock();
    const principalId = newPerson();
    const [delivered, givenUp, retrying] = [newPerson(), newPerson(), newPerson()];
    // Whatever earlier tests left pending is delivered first, so each claim below reaches these rows.
    while ((await worker(gatewayUp).deliverDue(day(200))).delivered > 0);

    await grant(principalId, delivered, 60);
    await worker(gatewayUp).deliverDue();
    await grant(principalId, givenUp, 60);
    const down = worker(gatewayDown, { maxAttempts: 2 });
    await down.deliverDue(day(50));
    await down.deliverDue(new Date(day(50).getTime() + 2 * 60_000));
    await grant(principalId, retrying, 60);
    await worker(gatewayDown).deliverDue();
    const states = async () => [...(await outboxOf(delivered)), ...(await outboxOf(givenUp)), ...(await outboxOf(retrying))].map((r) => r.state);
    expect(await states()).toEqual(['sent', 'failed', 'pending']);

    const auditEvents = async () => (await server.ctx.database.db.selectFrom('audit_events').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
    const audited = await auditEvents();
    const logged: Array<{ level: number; msg: string; deleted: number }> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logged.push(JSON.parse(chunk.toString()) as (typeof logged)[number]);
          done();
        },
      }),
    );
    const w = worker(gatewayDown, { maxAttempts: 50, logger });
    await w.deleteExpired(day(89));
    expect(await states()).toEqual(['sent', 'failed', 'pending']);
    const deletedAt91 = await w.deleteExpired(day(91));
    expect(await states()).toEqual(['failed', 'pending']);
    expect(logged.filter((l) => l.msg === 'old notifications deleted')).toEqual([expect.objectContaining({ level: 30, deleted: deletedAt91 })]);
    const { deleted } = await w.tick(day(141));
    expect(deleted).toBeGreaterThan(0);
    expect(await states()).toEqual(['pending']);
    expect(await auditEvents()).toBe(audited);
  });

  it('deletes in batches of a bounded size', async () => {
    const day = clock();
    const principalId = newPerson();
    const agents = [newPerson(), newPerson(), newPerson()];
    for (const a of agents) await grant(principalId, a, 60);
    await worker(gatewayUp).deliverDue();

    const before = day(1);
    expect(await deleteFinishedBefore(server.ctx.database.db, before, 2)).toBe(2);
    while ((await deleteFinishedBefore(server.ctx.database.db, before, 2)) === 2);
    for (const a of agents) expect(await outboxOf(a)).toEqual([]);
  });
});

describe('NOTIFY_RETAIN_DAYS', () => {
  it('defaults to 90 days and refuses what is not a whole number of days from 1', () => {
    expect(readConfig({}).notifications.retainDays).toBe(90);
    expect(readConfig({ NOTIFY_RETAIN_DAYS: '400' }).notifications.retainDays).toBe(400);
    for (const bad of ['0', '-3', '1.5', 'forever']) expect(() => readConfig({ NOTIFY_RETAIN_DAYS: bad })).toThrow(ConfigError);
  });
});
