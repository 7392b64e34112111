import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot, readConfig } from '../../server/config.ts';
import { Database } from '../../server/db/database.ts';
import { type NotificationAdapter, type OutgoingNotification, WebhookAdapter } from '../../server/notifications/adapters.ts';
import { notify } from '../../server/notifications/service.ts';
import { NotificationWorker } from '../../server/notifications/worker.ts';
import { newPerson } from '../support/people.ts';
import { ENGINES, inDays, person, startServer, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const taxScope = { service: TAX, permissions: ['view-return'] };
const DAY = 86_400_000;

/** Records every delivery; fails the first `failures` attempts of each notification. */
class RecordingAdapter implements NotificationAdapter {
  readonly name = 'recording';
  readonly delivered: OutgoingNotification[] = [];
  private readonly tries = new Map<string, number>();
  constructor(
    private readonly failures = 0,
    private readonly delayMs = 0,
  ) {}

  async deliver(n: OutgoingNotification): Promise<void> {
    const tried = (this.tries.get(n.id) ?? 0) + 1;
    this.tries.set(n.id, tried);
    if (this.delayMs) await sleep(this.delayMs);
    if (tried <= this.failures) throw new Error(`gateway down (attempt ${tried})`);
    this.delivered.push(n);
  }
}

describe.each(ENGINES)('notifications on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(() => server?.close());

  const worker = (adapter: NotificationAdapter, database: Database = server.ctx.database, maxAttempts = 5) =>
    new NotificationWorker(database, adapter, server.ctx.logger, { pollMs: 1000, maxAttempts, retryBaseMs: 60_000, retainDays: 90 });

  const pendingFor = async (nationalId: string) =>
    server.ctx.database.db
      .selectFrom('notifications as n')
      .innerJoin('parties as p', 'p.id', 'n.recipient_id')
      .select(['n.kind', 'n.channel', 'n.state'])
      .where('p.national_id', '=', nationalId)
      .execute();

  it('writes the outbox in the transaction of the change: a rolled-back change leaves no notification', async () => {
    const [principalId, agentId] = [newPerson(), newPerson()];
    const principal = await server.signIn(principalId);
    const bad = await principal.post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(5000) });
    expect(bad.status).toBe(400);
    expect(await pendingFor(agentId)).toEqual([]);
    const ok = await principal.post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(60) });
    expect(ok.status).toBe(201);
    expect(await pendingFor(agentId)).toEqual([{ kind: 'mandate.granted', channel: 'digital', state: 'pending' }]);

    const { id: recipientId } = await server.ctx.database.db.selectFrom('parties').select('id').where('national_id', '=', principalId).executeTakeFirstOrThrow();
    await expect(
      server.ctx.database.transaction(async (trx) => {
        await notify(trx, { kind: 'mandate.revoked', recipientIds: [recipientId], data: {} });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await pendingFor(principalId)).toEqual([]);
  });

  it('delivers grant, request, approval, decline, return and revoke to the right people, once each', async () => {
    const [principalId, agentId] = [newPerson(), newPerson()];
    const principal = await server.signIn(principalId);
    const agent = await server.signIn(agentId);
    const { body: req } = await agent.post('/api/requests', { principal: person(principalId), scopes: [taxScope], validTo: inDays(60) });
    const { body: approved } = await principal.post(`/api/requests/${req.id}/approve`, {});
    await agent.post(`/api/mandates/${approved.mandate.id}/revoke`, {});
    const { body: req2 } = await agent.post('/api/requests', { principal: person(principalId), scopes: [taxScope], validTo: inDays(60) });
    await principal.post(`/api/requests/${req2.id}/decline`, {});
    const { body: m } = await principal.post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(60) });
    await principal.post(`/api/mandates/${m.id}/revoke`, {});

    const adapter = new RecordingAdapter();
    const w = worker(adapter);
    await w.tick();
    await w.tick();
    const to = (id: string) =>
      adapter.delivered
        .filter((n) => n.recipient.id === id)
        .map((n) => n.kind)
        .sort();
    expect(to(principalId)).toEqual(['mandate.returned', 'request.received', 'request.received']);
    expect(to(agentId)).toEqual(['mandate.granted', 'mandate.granted', 'mandate.revoked', 'request.approved', 'request.declined']);
    expect(new Set(adapter.delivered.map((n) => n.id)).size).toBe(adapter.delivered.length);
    const approval = adapter.delivered.find((n) => n.kind === 'request.approved');
    expect(approval?.message.subject).toEqual({ sv: 'Din förfrågan om fullmakt har godkänts', en: 'Your request for a power of attorney was approved' });
    expect(approval?.message.text.en).toContain(approved.mandate.id);
  });

  it('retries a failed delivery with exponential back-off and delivers it once', async () => {
    const adapter = new RecordingAdapter(2);
    const w = worker(adapter);
    await w.tick(); // drain what earlier tests left, through the same flaky adapter
    const agentId = newPerson();
    const principal = await server.signIn(newPerson());
    await principal.post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(60) });
    const mine = () => adapter.delivered.filter((n) => n.recipient.id === agentId);
    const t0 = new Date(Date.now() + 10 * DAY);
    const at = (ms: number) => new Date(t0.getTime() + ms);

    await w.deliverDue(t0); // attempt 1 fails: next in 1 minute
    await w.deliverDue(at(59_000));
    expect(mine()).toEqual([]);
    await w.deliverDue(at(60_000)); // attempt 2 fails: next in 2 minutes
    await w.deliverDue(at(60_000 + 119_000));
    expect(mine()).toEqual([]);
    await w.deliverDue(at(60_000 + 120_000)); // attempt 3 succeeds
    await w.deliverDue(at(DAY));
    expect(mine().map((n) => n.kind)).toEqual(['mandate.granted']);
    const [row] = await server.ctx.database.db
      .selectFrom('notifications')
      .select(['state', 'attempts', 'last_error'])
      .where('id', '=', mine()[0]?.id as string)
      .execute();
    expect(row).toMatchObject({ state: 'sent', attempts: 3, last_error: null });
  });

  it('gives up after the last attempt and never shows the message as delivered', async () => {
    await worker(new RecordingAdapter()).tick();
    const agentId = newPerson();
    await (await server.signIn(newPerson())).post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(60) });
    const adapter = new RecordingAdapter(99);
    const w = worker(adapter, server.ctx.database, 2);
    const t0 = Date.now() + 20 * DAY;
    await w.deliverDue(new Date(t0));
    await w.deliverDue(new Date(t0 + 60_000));
    await w.deliverDue(new Date(t0 + DAY));
    expect(await pendingFor(agentId)).toEqual([{ kind: 'mandate.granted', channel: 'digital', state: 'failed' }]);
    expect((await server.anonymous().get(`/dev/mailbox?to=${agentId}`)).text).not.toContain('mandate.granted');
  });

  it('never delivers a notification twice, even with two workers running at once', async () => {
    await worker(new RecordingAdapter()).tick();
    const principal = await server.signIn(newPerson());
    const agents = Array.from({ length: 12 }, () => newPerson());
    for (const a of agents) await principal.post('/api/mandates', { agents: [person(a)], scopes: [taxScope], validTo: inDays(60) });
    const second = server.databaseUrl ? Database.postgres(server.databaseUrl) : server.ctx.database;
    try {
      const adapter = new RecordingAdapter(0, 5);
      const [w1, w2] = [worker(adapter), worker(adapter, second)];
      for (let round = 0; round < 5; round++) await Promise.all([w1.deliverDue(), w2.deliverDue(), w1.deliverDue(), w2.deliverDue()]);
      const ids = adapter.delivered.map((n) => n.id);
      expect(ids).toHaveLength(12);
      expect(new Set(ids).size).toBe(12);
      expect(adapter.delivered.map((n) => n.recipient.id).sort()).toEqual([...agents].sort());
    } finally {
      if (second !== server.ctx.database) await second.close();
    }
  });

  it('reminds both parties 30 and 7 days before a mandate ends, each once', async () => {
    const [principalId, agentId] = [newPerson(), newPerson()];
    const principal = await server.signIn(principalId);
    const { body: m } = await principal.post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(40) });
    const { body: short } = await principal.post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(10) });
    const { body: revoked } = await principal.post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(40) });
    await principal.post(`/api/mandates/${revoked.id}/revoke`, {});
    const adapter = new RecordingAdapter();
    const w = worker(adapter);
    const reminders = () =>
      adapter.delivered
        .filter((n) => n.kind === 'mandate.expiring')
        .map((n) => `${n.recipient.id === principalId ? 'principal' : n.recipient.id === agentId ? 'agent' : 'other'}:${String(n.data.mandateId)}:${String(n.data.days)}`)
        .filter((s) => !s.startsWith('other'))
        .sort();
    const day = (d: number) => new Date(Date.now() + d * DAY);

    await w.tick(day(2));
    expect(reminders()).toEqual([]);
    // The short mandate: only its 7-day reminder, never a 30-day one.
    await w.tick(day(4));
    const short7 = [`agent:${short.id}:7`, `principal:${short.id}:7`];
    expect(reminders()).toEqual(short7.sort());
    await w.tick(day(11));
    await w.tick(day(12));
    const m30 = [`agent:${m.id}:30`, `principal:${m.id}:30`];
    expect(reminders()).toEqual([...short7, ...m30].sort());
    await w.tick(day(34));
    await w.tick(day(35));
    expect(reminders()).toEqual([...short7, ...m30, `agent:${m.id}:7`, `principal:${m.id}:7`].sort());
    expect(adapter.delivered.find((n) => n.kind === 'mandate.expiring')?.message.subject.sv).toMatch(/upphör om (30|7) dagar/);
  });

  it('shows delivered notifications on an escaped, script-free development mailbox page', async () => {
    const official = newPerson();
    const dev = await startServer(engine, { env: { OFFICIALS: official } });
    try {
      const principalId = newPerson();
      const res = await (await dev.signIn(official)).post('/api/officials/mandates', {
        principal: person(principalId),
        agents: [person(newPerson())],
        scopes: [taxScope],
        validTo: inDays(30),
        reason: 'Besök',
        documentReference: '<script>alert("x")</script> & co',
      });
      expect(res.status).toBe(201);
      await dev.ctx.notifications.tick();
      const page = await dev.anonymous().get(`/dev/mailbox?to=${principalId}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
      expect(page.text).not.toContain('<script');
      expect(page.text).not.toContain('style=');
      expect((await dev.anonymous().get('/metrics')).text).toMatch(/ombud_notifications_total\{outcome="delivered"\} [1-9]/);
      const bad = await dev.anonymous().get('/dev/mailbox?to=nonsense');
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
    } finally {
      await dev.close();
    }
  });
});

describe('notification adapters and configuration', () => {
  it('posts to the gateway with the notification id as idempotency key, and fails on an error answer', async () => {
    const seen: Array<{ key: string | undefined; body: string }> = [];
    let answer = 503;
    const gateway = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ key: req.headers['idempotency-key'] as string | undefined, body });
        res.statusCode = answer;
        res.end();
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    try {
      const adapter = new WebhookAdapter(`http://127.0.0.1:${(gateway.address() as { port: number }).port}/send`);
      const n: OutgoingNotification = {
        id: '6f1c1f0e-4a57-4a43-9d1e-0e6f4f2b9c11',
        kind: 'mandate.granted',
        channel: 'letter',
        recipient: { type: 'person', id: '191212121212' },
        message: { subject: { sv: 'a', en: 'b' }, text: { sv: 'c', en: 'd' } },
        data: {},
      };
      await expect(adapter.deliver(n)).rejects.toThrow('503');
      answer = 202;
      await adapter.deliver(n);
      expect(seen.map((s) => s.key)).toEqual([n.id, n.id]);
      expect(JSON.parse(seen[1]?.body ?? '{}')).toMatchObject({ channel: 'letter', recipient: { id: '191212121212' } });
    } finally {
      gateway.close();
    }
  });

  it('uses the webhook when configured and has no mailbox page in production', () => {
    expect(readConfig({}).notifications.adapter).toBe('dev');
    expect(readConfig({ NOTIFY_WEBHOOK_URL: 'https://mail.example/send' }).notifications.adapter).toBe('webhook');
    const production = readConfig({ NODE_ENV: 'production', SIGNING_KEYS_FILE: 'k', PUBLIC_URL: 'https://ombud.example', OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'ombud' });
    expect(production.devMailbox).toBe(false);
  });
});

describe('npm run admin -- notifications', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer('postgres');
  });
  afterAll(() => server?.close());

  const admin = (...args: string[]) =>
    promisify(execFile)('npx', ['tsx', 'server/cli/admin.ts', ...args], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: server.databaseUrl, NODE_ENV: 'test', DATA_DIR: server.dataDir },
    }).then((r) => r.stdout);

  it('counts the outbox and gives failed notifications another round', async () => {
    const agentId = newPerson();
    await (await server.signIn(newPerson())).post('/api/mandates', { agents: [person(agentId)], scopes: [taxScope], validTo: inDays(60) });
    const down = new NotificationWorker(server.ctx.database, new RecordingAdapter(99), server.ctx.logger, { pollMs: 1000, maxAttempts: 1, retryBaseMs: 1000, retainDays: 90 });
    await down.deliverDue();
    expect(await admin('notifications', 'status')).toContain('0 pending, 0 sent, 1 failed');
    expect(await admin('notifications', 'retry-failed')).toContain('1 notification(s) queued again');
    const up = new RecordingAdapter();
    await new NotificationWorker(server.ctx.database, up, server.ctx.logger, { pollMs: 1000, maxAttempts: 1, retryBaseMs: 1000, retainDays: 90 }).deliverDue();
    expect(up.delivered.map((n) => n.recipient.id)).toEqual([agentId]);
    expect(await admin('notifications', 'status')).toContain('0 pending, 1 sent, 0 failed');
  });
});
