import path from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { Database } from '../../server/db/database.ts';
import { DataDirBusyError } from '../../server/db/data-dir-lock.ts';
import { ENGINES, freshDatabase, inDays, PEOPLE, person, startServer } from '../support/server.ts';
import { tempDir } from '../support/temp.ts';

describe.each(ENGINES)('a restart on %s', (engine) => {
  it('keeps mandates, the audit trail and the signing keys', async () => {
    const dataDir = tempDir('restart');
    const open = async () =>
      engine === 'pglite' ? { database: await Database.pglite(path.join(dataDir, 'db')) } : { database: Database.postgres(url as string), url };
    let url: string | undefined;
    if (engine === 'postgres') url = (await freshDatabase('postgres')).url;

    const first = await startServer(engine, { dataDir, database: await open() });
    const anna = await first.signIn(PEOPLE.anna);
    const { body: m } = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ service: 'apoteket.prescriptions', permissions: ['collect-medicine'] }],
      validTo: inDays(100),
    });
    const agency = await first.agency('apoteket', ['apoteket.prescriptions']);
    const before = await agency.check({ agent: person(PEOPLE.karin), principal: person(PEOPLE.anna), service: 'apoteket.prescriptions', permission: 'collect-medicine', assurance: 'high' });
    expect(before.body.decision).toBe('permit');
    await first.close();

    const second = await startServer(engine, { dataDir, database: await open() });
    try {
      const again = await second.signIn(PEOPLE.anna);
      expect((await again.get(`/api/mandates/${m.id}`)).body).toMatchObject({ id: m.id, status: 'active' });
      const actions = (await again.get('/api/audit')).body.items.map((e: { action: string }) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['mandate.granted', 'check']));
      // A decision signed before the restart still verifies against the JWKS after it.
      const jwks = createRemoteJWKSet(new URL(`${second.url}/.well-known/jwks.json`));
      await expect(jwtVerify(before.body.decisionToken, jwks, { audience: 'apoteket' })).resolves.toBeTruthy();
    } finally {
      await second.close();
    }
  });
});

describe('the embedded database directory', () => {
  it('can be opened by one process at a time; the lock goes with the close', async () => {
    const dir = tempDir('lock');
    const first = await Database.pglite(dir);
    // The lock holds against any other live process; the test stands in for one by writing its pid.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'ombud.pid'), String(process.ppid));
    await expect(Database.pglite(dir)).rejects.toThrow(DataDirBusyError);
    writeFileSync(path.join(dir, 'ombud.pid'), String(process.pid));
    await first.close();
    const second = await Database.pglite(dir);
    await second.close();
  });
});
