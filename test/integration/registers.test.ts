import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/config.ts';
import { seedDemo } from '../../server/demo.ts';
import { RegisterInputError } from '../../server/registers/adapter.ts';
import { guardian, importRegister, registerFile, signatory, trustee } from '../support/registers.ts';
import { ENGINES, inDays, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/temp.ts';

const PHARMACY = 'apoteket.prescriptions';
const TAX = 'skatteverket.income-tax';
const BANK = 'exempelbanken.accounts';
const COMPANY = '5560123456';
const organisation = (id: string) => ({ type: 'organisation' as const, id });

/** Runs the admin command without blocking this process, whose server the command may share a database with. */
function admin(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/admin.ts', ...args], {
      cwd: projectRoot,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.each(ENGINES)('registers on %s', (engine) => {
  let server: TestServer;
  let pharmacy: TestAgency;
  let tax: TestAgency;
  let bank: TestAgency;

  beforeAll(async () => {
    server = await startServer(engine);
    pharmacy = await server.agency('apoteket', [PHARMACY]);
    tax = await server.agency('skatteverket', [TAX]);
    bank = await server.agency('exempelbanken', [BANK]);
  });
  afterAll(() => server?.close());

  it('lets every listed guardian act for a minor where the service accepts it, until the 18th birthday', async () => {
    await importRegister(server, [guardian(PEOPLE.erik, PEOPLE.maja), guardian(PEOPLE.karin, PEOPLE.maja)], 'guardians');
    for (const parent of [PEOPLE.erik, PEOPLE.karin]) {
      const res = await pharmacy.check({ agent: person(parent), principal: person(PEOPLE.maja), service: PHARMACY, permission: 'view-prescriptions' });
      expect(res.body).toMatchObject({ decision: 'permit', basis: [{ kind: 'guardian' }] });
    }
    // Maja (born 2015-03-22) comes of age on 2033-03-22: the basis ends by itself.
    const grown = await pharmacy.check({
      agent: person(PEOPLE.erik),
      principal: person(PEOPLE.maja),
      service: PHARMACY,
      permission: 'view-prescriptions',
      at: '2033-03-22T00:00:00Z',
    });
    expect(grown.body).toMatchObject({ decision: 'deny', reasons: [{ code: 'expired', basis: 'guardian' }] });
    const dayBefore = await pharmacy.check({
      agent: person(PEOPLE.erik),
      principal: person(PEOPLE.maja),
      service: PHARMACY,
      permission: 'view-prescriptions',
      at: '2033-03-21T23:59:59Z',
    });
    expect(dayBefore.body.decision).toBe('permit');
    // Listed for the guardian, with what the policy grants without knowing the sign-in level.
    const listing = await server.anonymous().send('GET', `/api/v1/representations?agent=${PEOPLE.karin}&service=${PHARMACY}`, {
      headers: { authorization: `Bearer ${await pharmacy.token()}` },
    });
    expect(listing.body.items).toEqual([{ principal: person(PEOPLE.maja), permissions: ['view-prescriptions'], basis: [{ kind: 'guardian' }] }]);
    // The bank does not accept guardianship as a basis: for it, there is none.
    const atBank = await bank.check({ agent: person(PEOPLE.erik), principal: person(PEOPLE.maja), service: BANK, permission: 'view-accounts', assurance: 'high' });
    expect(atBank.body).toMatchObject({ decision: 'deny', reasons: [{ code: 'no-basis' }] });
  });

  it('lets a trustee act within the scope the service requires, inside the appointment', async () => {
    await importRegister(
      server,
      [trustee(PEOPLE.karin, PEOPLE.anna, ['property']), trustee(PEOPLE.tolvan, PEOPLE.anna, ['personal']), trustee(PEOPLE.sara, PEOPLE.erik, ['property'], { validTo: inDays(10) })],
      'trustees',
    );
    const ask = (agent: string, principal: string, extra: object = {}) =>
      tax.check({ agent: person(agent), principal: person(principal), service: TAX, permission: 'submit-return', assurance: 'substantial', ...extra });
    expect((await ask(PEOPLE.karin, PEOPLE.anna)).body).toMatchObject({ decision: 'permit', basis: [{ kind: 'trustee', scope: ['property'] }] });
    expect((await ask(PEOPLE.tolvan, PEOPLE.anna)).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'basis-not-accepted', basis: 'trustee' }] });
    expect((await ask(PEOPLE.sara, PEOPLE.erik)).body.decision).toBe('permit');
    expect((await ask(PEOPLE.sara, PEOPLE.erik, { at: inDays(11) })).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'expired', basis: 'trustee' }] });
    // The pharmacy accepts no trustee at all.
    const atPharmacy = await pharmacy.check({ agent: person(PEOPLE.karin), principal: person(PEOPLE.anna), service: PHARMACY, permission: 'view-prescriptions' });
    expect(atPharmacy.body.decision).toBe('deny');
  });

  it('lets a company signatory who signs alone act for the company at the bank, not one who signs jointly', async () => {
    await importRegister(server, [signatory(PEOPLE.tolvan, COMPANY, 'alone'), signatory(PEOPLE.erik, '556012-3456', 'jointly')], 'companies');
    const ask = (agent: string) =>
      bank.check({ agent: person(agent), principal: organisation(COMPANY), service: BANK, permission: 'view-accounts', assurance: 'high' });
    expect((await ask(PEOPLE.tolvan)).body).toMatchObject({ decision: 'permit', basis: [{ kind: 'signatory', rule: 'alone' }] });
    expect((await ask(PEOPLE.erik)).body.decision).toBe('deny');
  });

  it('replaces earlier rows of the same register and source, and only those', async () => {
    await importRegister(server, [signatory(PEOPLE.karin, COMPANY, 'alone')], 'replace-a');
    await importRegister(server, [signatory(PEOPLE.anna, COMPANY, 'alone')], 'replace-b');
    const ask = (agent: string) =>
      bank.check({ agent: person(agent), principal: organisation(COMPANY), service: BANK, permission: 'view-accounts', assurance: 'high' });
    expect((await ask(PEOPLE.karin)).body.decision).toBe('permit');
    const result = await importRegister(server, [signatory(PEOPLE.maja, COMPANY, 'alone')], 'replace-a');
    expect(result.registers).toEqual([{ register: 'company', rows: 1, replaced: 1 }]);
    expect((await ask(PEOPLE.karin)).body.decision).toBe('deny');
    expect((await ask(PEOPLE.anna)).body.decision).toBe('permit');
  });

  it('rejects a bad file naming every bad line, and applies nothing from it', async () => {
    const lines = [
      guardian(PEOPLE.tolvan, PEOPLE.maja),
      '{"register": "population", "kind": "guardian"',
      trustee(PEOPLE.tolvan, PEOPLE.anna, ['property']),
      guardian(PEOPLE.tolvan, PEOPLE.anna),
      { ...signatory(PEOPLE.tolvan, COMPANY, 'alone'), rule: 'sometimes' },
      trustee(PEOPLE.tolvan, '19121212-1213', ['property']),
      { ...trustee(PEOPLE.erik, PEOPLE.anna, ['property']), extra: 1 },
      guardian(PEOPLE.tolvan, PEOPLE.maja),
    ];
    const error = await importRegister(server, lines, 'bad').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RegisterInputError);
    expect((error as RegisterInputError).problems.map((p) => p.line)).toEqual([2, 4, 5, 6, 7, 8]);
    expect((error as RegisterInputError).message).toMatch(/line 4: represented is not a minor/);
    // Nothing from the file: Tolvan's good lines 1 and 3 gave no basis.
    const res = await pharmacy.check({ agent: person(PEOPLE.tolvan), principal: person(PEOPLE.maja), service: PHARMACY, permission: 'view-prescriptions' });
    expect(res.body.decision).toBe('deny');
    const rows = await server.ctx.database.db.selectFrom('register_entries').select('id').where('source', '=', 'bad').execute();
    expect(rows).toEqual([]);
  });

  // Three runs of the admin command, each compiling and migrating: slow on a busy machine.
  it('imports from the command line and rejects a bad file there with line numbers and exit status', { timeout: 180_000 }, async () => {
    const env: Record<string, string> =
      engine === 'postgres' ? { DATABASE_URL: server.databaseUrl as string, DATA_DIR: server.dataDir } : { DATA_DIR: tempDir('cli') };
    const bad = await admin(['registers', 'import', registerFile([guardian(PEOPLE.anna, PEOPLE.maja), '{nope}', { kind: 'guardian' }])], env);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/line 2: not valid JSON/);
    expect(bad.stderr).toMatch(/line 3:/);
    const good = await admin(['registers', 'import', '--source', 'cli', registerFile([guardian(PEOPLE.anna, PEOPLE.maja)])], env);
    expect(good).toMatchObject({ status: 0, stderr: '' });
    // "replacing 0": the rejected file left nothing behind.
    expect(good.stdout).toMatch(/population register from cli: 1 rows \(replacing 0\)/);
    if (engine === 'postgres') {
      const res = await pharmacy.check({ agent: person(PEOPLE.anna), principal: person(PEOPLE.maja), service: PHARMACY, permission: 'view-prescriptions' });
      expect(res.body).toMatchObject({ decision: 'permit', basis: [{ kind: 'guardian' }] });
    }
    const missing = await admin(['registers', 'import', '/nonexistent/file.jsonl'], env);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/Cannot read/);
  });

  it('ships demo register data in development, the same after every start', async () => {
    await seedDemo(server.ctx);
    await seedDemo(server.ctx);
    const guardianCheck = await pharmacy.check({ agent: person(PEOPLE.erik), principal: person(PEOPLE.maja), service: PHARMACY, permission: 'view-prescriptions' });
    // An earlier test's source lists Erik too: each source's fact is a basis of its own.
    expect(guardianCheck.body.decision).toBe('permit');
    expect(guardianCheck.body.basis).toContainEqual({ kind: 'guardian' });
    const rows = await server.ctx.database.db.selectFrom('register_entries').select(['register']).where('source', '=', 'demo').execute();
    expect(rows.map((r) => r.register).sort()).toEqual(['company', 'company', 'company', 'population', 'trustee']);
  });
});
