import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../server/db/database.ts';
import { startTestPostgres, startTestStandby, type TestPostgres } from '../support/postgres.ts';
import { type Answer, checksAroundRevoke } from '../support/staleness.ts';
import { type Client, inDays, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';

async function sql(url: string, text: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

// Replication exists only between real Postgres servers; the embedded engine has no standby.
describe('checks served from a synchronous standby', () => {
  let primary: TestPostgres;
  let standby: TestPostgres;
  let writer: TestServer;
  let reader: TestServer;
  let anna: Client;
  let agency: TestAgency;

  beforeAll(async () => {
    primary = await startTestPostgres();
    await sql(primary.url('postgres'), 'CREATE DATABASE ombud');
    standby = await startTestStandby(primary, 'ombud_standby');
    await sql(primary.url('postgres'), `ALTER SYSTEM SET synchronous_standby_names = 'ombud_standby'`);
    await sql(primary.url('postgres'), `ALTER SYSTEM SET synchronous_commit = 'remote_apply'`);
    await sql(primary.url('postgres'), 'SELECT pg_reload_conf()');
    for (let i = 0; i < 100; i++) {
      const rows = await sql(primary.url('postgres'), `SELECT sync_state FROM pg_stat_replication WHERE application_name = 'ombud_standby'`);
      if (rows[0]?.sync_state === 'sync') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const primaryUrl = primary.url('ombud');
    writer = await startServer('postgres', { database: { database: Database.postgres(primaryUrl), url: primaryUrl } });
    reader = await startServer('postgres', {
      database: { database: Database.postgres(primaryUrl), url: primaryUrl },
      env: { DATABASE_URL: primaryUrl, DATABASE_READ_URL: standby.url('ombud') },
    });
    anna = await writer.signIn(PEOPLE.anna);
    agency = await reader.agency('skatteverket', [TAX]);
  }, 120_000);

  afterAll(async () => {
    await reader?.close();
    await reader?.ctx.readDatabase?.close();
    await writer?.close();
    await standby?.stop();
    await primary?.stop();
  });

  const ask = () => agency.check({ agent: person(PEOPLE.maja), principal: person(PEOPLE.anna), service: TAX, permission: 'view-return' });

  it('the primary waits for the standby to apply each commit', async () => {
    const rows = await sql(primary.url('postgres'), `SELECT sync_state FROM pg_stat_replication WHERE application_name = 'ombud_standby'`);
    expect(rows[0]?.sync_state).toBe('sync');
    const setting = await sql(primary.url('ombud'), 'SHOW synchronous_commit');
    expect(setting[0]?.synchronous_commit).toBe('remote_apply');
  });

  it('reads mandates on the standby and logs every check on the primary', async () => {
    const { body: m } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.maja)],
      scopes: [{ service: TAX, permissions: ['view-return'] }],
      validTo: inDays(30),
    });
    const res = await ask();
    expect(res.status).toBe(200);
    expect(res.body.decision).toBe('permit');
    expect(res.body.basis).toEqual([{ kind: 'mandate', mandateId: m.id }]);

    const logged = await sql(primary.url('ombud'), `SELECT data FROM audit_events WHERE action = 'check' ORDER BY seq DESC LIMIT 1`);
    expect((logged[0]?.data as { checkId: string }).checkId).toBe(res.body.checkId);
    const readers = await sql(standby.url('postgres'), `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'ombud' AND backend_type = 'client backend'`);
    expect(readers[0]?.n).toBeGreaterThan(0);
    const inRecovery = await sql(standby.url('ombud'), 'SELECT pg_is_in_recovery() AS standby');
    expect(inRecovery[0]?.standby).toBe(true);
  });

  it('after a revoke commits on the primary, no check on the standby side returns permit for it', async () => {
    const { body: m } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.maja)],
      scopes: [{ service: TAX, permissions: ['view-return'] }],
      validTo: inDays(30),
    });
    const { before, after } = await checksAroundRevoke(ask, async () => {
      const revoke = await anna.post(`/api/mandates/${m.id}/revoke`, {});
      expect(revoke.body.status).toBe('revoked');
    });
    const onThis = (a: Answer) => a.decision === 'permit' && a.mandateIds.includes(m.id);
    expect(before.some(onThis)).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter(onThis)).toEqual([]);
  });
});
