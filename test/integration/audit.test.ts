import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '../../server/audit/service.ts';
import { projectRoot } from '../../server/config.ts';
import { ENGINES, inDays, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);

async function countRows(server: TestServer) {
  const db = server.ctx.database.db;
  const [mandates, events] = await Promise.all([
    db.selectFrom('mandates').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('audit_events').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { mandates: mandates.n, events: events.n };
}

describe.each(ENGINES)('audit trail on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(() => server?.close());

  it('a mutation and its audit event commit together or not at all (invariant 3)', async () => {
    const before = await countRows(server);
    // The mandate row is written, then appending the event fails: both must be gone.
    await expect(
      server.ctx.database.transaction(async (trx) => {
        await trx
          .insertInto('parties')
          .values({ id: crypto.randomUUID(), kind: 'person', national_id: '191111111111', name: null })
          .execute();
        await appendAudit(trx, [{ action: 'x', actor: { type: 'system' }, partyIds: ['not-a-uuid'] }]);
      }),
    ).rejects.toThrow();
    expect(await server.ctx.database.db.selectFrom('parties').select('id').where('national_id', '=', '191111111111').execute()).toEqual([]);
    expect(await countRows(server)).toEqual(before);
  });

  it('concurrent writers keep one unbroken chain', async () => {
    const people = [PEOPLE.anna, PEOPLE.erik, PEOPLE.tolvan, PEOPLE.sara];
    const clients = await Promise.all(people.map((p) => server.signIn(p)));
    await Promise.all(
      clients.flatMap((c, i) =>
        Array.from({ length: 5 }, () =>
          c.post('/api/mandates', {
            agents: [person(i === 0 ? PEOPLE.karin : PEOPLE.anna)],
            scopes: [{ service: 'apoteket.prescriptions', permissions: ['view-prescriptions'] }],
            validTo: inDays(30),
          }),
        ),
      ),
    );
    const result = await verifyAuditChain(server.ctx.database);
    expect(result).toMatchObject({ ok: true });
    expect(result.events).toBeGreaterThanOrEqual(24);
  });

  it('the table refuses updates and deletes', async () => {
    await expect(sql`UPDATE audit_events SET action = 'forged'`.execute(server.ctx.database.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_events`.execute(server.ctx.database.db)).rejects.toThrow(/append-only/);
  });

  it('verification names the first altered event, and a removed tail', async () => {
    const db = server.ctx.database.db;
    const target = await db.selectFrom('audit_events').select(['seq', 'id']).orderBy('seq').offset(3).limit(1).executeTakeFirstOrThrow();
    // An attacker with table-owner rights switches the guard off and rewrites history.
    await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`.execute(db);
    await sql`UPDATE audit_events SET data = '{"scopes":"forged"}' WHERE seq = ${target.seq}`.execute(db);
    const altered = await verifyAuditChain(server.ctx.database);
    expect(altered).toMatchObject({ ok: false, brokenAt: { seq: target.seq, id: target.id }, events: target.seq - 1 });
    expect(altered.ok === false && altered.problem).toMatch(/altered/);

    await sql`DELETE FROM audit_events WHERE seq > ${target.seq - 1}`.execute(db);
    const truncated = await verifyAuditChain(server.ctx.database);
    expect(truncated).toMatchObject({ ok: false, brokenAt: { seq: target.seq } });
    expect(truncated.ok === false && truncated.problem).toMatch(/removed/);
    await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`.execute(db);
  });
});

describe('npm run admin -- audit verify', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer('postgres');
  });
  afterAll(() => server?.close());

  const admin = (...args: string[]) =>
    run('npx', ['tsx', 'server/cli/admin.ts', ...args], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: server.databaseUrl, NODE_ENV: 'test', DATA_DIR: server.dataDir },
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );

  it('reports an intact chain, then the first broken link with exit code 1', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ service: 'apoteket.prescriptions', permissions: ['view-prescriptions'] }],
      validTo: inDays(30),
    });
    const ok = await admin('audit', 'verify');
    expect(ok.out).toMatch(/Audit chain intact: \d+ events/);
    expect(ok.code).toBe(0);

    const db = server.ctx.database.db;
    const last = await db.selectFrom('audit_events').select(['seq', 'id']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`.execute(db);
    await sql`UPDATE audit_events SET at = at + interval '1 second' WHERE seq = ${last.seq}`.execute(db);
    const broken = await admin('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.out).toContain(`BROKEN at event #${last.seq} (${last.id})`);
  });

  it('registers an agency from a JWKS file and refuses private keys', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { generateKeyPair, exportJWK } = await import('jose');
    const dir = mkdtempSync(`${server.dataDir}/jwks-`);
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    writeFileSync(`${dir}/public.json`, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] }));
    writeFileSync(`${dir}/private.json`, JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'k1' }] }));
    const added = await admin('agency', 'add', '--id', 'pensionsmyndigheten', '--name', 'Pensionsmyndigheten', '--services', 'forsakringskassan.benefits', '--jwks', `${dir}/public.json`);
    expect(added.out).toContain('Agency pensionsmyndigheten');
    expect(added.code).toBe(0);
    const stored = await server.ctx.database.db.selectFrom('agencies').select(['services']).where('id', '=', 'pensionsmyndigheten').executeTakeFirst();
    expect(stored?.services).toEqual(['forsakringskassan.benefits']);
    const refused = await admin('agency', 'add', '--id', 'x-agency', '--name', 'X', '--services', 'forsakringskassan.benefits', '--jwks', `${dir}/private.json`);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/private key/);
    const unknownService = await admin('agency', 'add', '--id', 'y-agency', '--name', 'Y', '--services', 'nope.nope', '--jwks', `${dir}/public.json`);
    expect(unknownService.out).toMatch(/unknown services: nope.nope/);
  });
});
