/**
 * The check benchmark: `npm run bench` (about ten minutes) or `npm run bench -- --smoke`
 * (seconds, tiny data, for CI). Starts a throwaway Postgres, seeds it, and measures the bare Koa
 * ceiling, Cerbos, checks and grants through the API, check latency as the data grows, and a
 * staleness probe; prints a table and writes bench/results/latest.json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { registerAgency } from '../server/agencies/service.ts';
import { requestAccessToken, signClientAssertion } from '../server/agencies/token-client.ts';
import { projectRoot, readConfig } from '../server/config.ts';
import { Database } from '../server/db/database.ts';
import { migrate } from '../server/db/migrate.ts';
import { generatePrivateJwk } from '../server/identity/keys.ts';
import { createSession } from '../server/identity/sessions.ts';
import { PolicyEngine } from '../server/policy/engine.ts';
import { startTestPostgres, type TestPostgres } from '../test/support/postgres.ts';
import { cpuPerRequest, postmasterPid, sampleCpu } from './cpu.ts';
import { Http, type LoadResult, load, type ProbeResult, stalenessProbe } from './load.ts';
import { BENCH_SERVICES, personNumber, sampleTuples, seed, type Tuple } from './seed.ts';

const smoke = process.argv.includes('--smoke');
const PLAN = smoke
  ? { sizes: [1_000], seconds: 1, warmup: 1, sample: 200, probeTargets: 20, probeSeconds: 2 }
  : { sizes: [10_000, 100_000, 1_000_000], seconds: 10, warmup: 3, sample: 3_000, probeTargets: 300, probeSeconds: 10 };
const CONNECTIONS = [10, 50] as const;
const AGENCY = 'bench-agency';

const children: ChildProcess[] = [];
let postgres: TestPostgres | undefined;
const workDir = mkdtempSync(path.join(tmpdir(), 'ombud-bench-'));

function log(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

function start(command: string, args: string[], env: Record<string, string>, output: 'inherit' | 'ignore' = 'inherit'): ChildProcess {
  const child = spawn(command, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', output, output] });
  children.push(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  children.splice(children.indexOf(child), 1);
}

/** Resident memory of a process in MB: now (VmRSS) and its peak (VmHWM). */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}

function checkBody(t: Tuple): string {
  return JSON.stringify({
    agent: { type: 'person', id: t.agent },
    principal: { type: 'person', id: t.principal },
    service: t.service,
    permission: t.permission,
    assurance: 'substantial',
  });
}

function cerbosBody(t: Tuple): string {
  return JSON.stringify({
    requestId: randomUUID(),
    principal: { id: t.agent, roles: ['agent'], attr: { assurance: 2 } },
    resources: [
      {
        actions: ['act'],
        resource: {
          kind: 'representation',
          id: t.principal,
          attr: {
            service: t.service,
            permission: t.permission,
            protectedIdentity: t.protectedIdentity,
            mandates: t.mandate ? [{ ...t.mandate, permission: t.permission }] : [],
          },
        },
      },
    ],
  });
}

// The ceiling: the least a Koa JSON endpoint can do, in a plain node process like the built server.
const CEILING = `
import Koa from 'koa';
const app = new Koa();
app.use((ctx) => { ctx.body = { ok: true }; });
app.listen(Number(process.env.PORT), '127.0.0.1');
`;

async function measureCeiling(): Promise<Record<number, LoadResult>> {
  const port = await freePort();
  const child = start(process.execPath, ['--input-type=module', '-e', CEILING], { PORT: String(port), NODE_ENV: 'production' });
  const results: Record<number, LoadResult> = {};
  try {
    await waitFor(`http://127.0.0.1:${port}/`, child);
    await load({ url: `http://127.0.0.1:${port}/`, connections: 50, seconds: PLAN.warmup });
    for (const c of CONNECTIONS) results[c] = await load({ url: `http://127.0.0.1:${port}/`, connections: c, seconds: PLAN.seconds });
  } finally {
    await stop(child);
  }
  return results;
}

async function measureCerbos(tuples: Tuple[]): Promise<Record<number, LoadResult>> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const policyDir = path.join(workDir, 'cerbos-policies');
  mkdirSync(policyDir, { recursive: true });
  writeFileSync(path.join(policyDir, 'representation.yaml'), readFileSync(path.join(projectRoot, 'bench/cerbos/representation.yaml')));
  const configFile = path.join(workDir, 'cerbos.yaml');
  writeFileSync(
    configFile,
    [
      'server:',
      `  httpListenAddr: "127.0.0.1:${httpPort}"`,
      `  grpcListenAddr: "127.0.0.1:${grpcPort}"`,
      'storage:',
      '  driver: disk',
      '  disk:',
      `    directory: ${policyDir}`,
      '    watchForChanges: false',
      'audit:',
      '  enabled: false',
      'telemetry:',
      '  disabled: true',
      '',
    ].join('\n'),
  );
  const binary = path.join(projectRoot, 'node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64');
  // Its output stays out of the table: it logs each request autocannon cuts off at the end of a run as an error.
  const child = start(binary, ['server', `--config=${configFile}`, '--log-level=warn'], { CERBOS_NO_TELEMETRY: '1' }, 'ignore');
  const url = `http://127.0.0.1:${httpPort}/api/check/resources`;
  const bodies = tuples.map(cerbosBody);
  const results: Record<number, LoadResult> = {};
  try {
    await waitFor(`http://127.0.0.1:${httpPort}/_cerbos/health`, child);
    // The policy must decide as the service does, or the comparison means nothing.
    let agree = 0;
    for (const [k, t] of tuples.slice(0, 50).entries()) {
      const res = await fetch(url, { method: 'POST', body: bodies[k], headers: { 'content-type': 'application/json' } });
      const answer = (await res.json()) as { results: Array<{ actions: Record<string, string> }> };
      const allowed = answer.results[0]?.actions.act === 'EFFECT_ALLOW';
      if (allowed === (t.expected === 'permit')) agree += 1;
    }
    log(`Cerbos agrees with the expected decision for ${agree} of 50 sample requests`);
    await load({ url, connections: 50, seconds: PLAN.warmup, method: 'POST', bodies });
    for (const c of CONNECTIONS) results[c] = await load({ url, connections: c, seconds: PLAN.seconds, method: 'POST', bodies });
  } finally {
    await stop(child);
  }
  return results;
}

interface Agency {
  token: () => Promise<string>;
}

async function benchAgency(database: Database, policies: PolicyEngine, baseUrl: string): Promise<Agency> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  await registerAgency(database, policies, {
    id: AGENCY,
    name: 'Bench agency',
    services: BENCH_SERVICES,
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' }] },
  });
  return {
    token: async () => {
      const tokenUrl = `${baseUrl}/oauth/token`;
      const res = await requestAccessToken(tokenUrl, await signClientAssertion(tokenUrl, { agencyId: AGENCY, kid: 'bench', privateKey }, 60));
      if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
  };
}

async function countChecksLogged(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'check'`);
  return rows[0]?.n ?? 0;
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

async function main(): Promise<void> {
  const began = Date.now();
  log(smoke ? 'smoke run: tiny data, short runs' : 'full run');
  postgres = await startTestPostgres();
  const admin = new pg.Client({ connectionString: postgres.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const databaseUrl = postgres.url('bench');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const keysFile = path.join(workDir, 'signing-keys.json');
  writeFileSync(keysFile, JSON.stringify({ keys: [await generatePrivateJwk()] }), { mode: 0o600 });
  const serverEnv = {
    NODE_ENV: 'production',
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    DATABASE_URL: databaseUrl,
    SIGNING_KEYS_FILE: keysFile,
    // The e-ID provider is configured but never reached: the benchmark signs people in directly.
    OIDC_ISSUER: 'https://idp.invalid',
    OIDC_CLIENT_ID: 'ombud-bench',
    DATA_DIR: path.join(workDir, 'data'),
    LOG_LEVEL: 'warn',
    ACCESS_TOKEN_SECONDS: '3600',
  };
  const config = readConfig(serverEnv);
  const policies = PolicyEngine.load(config.policiesDir);
  const database = Database.postgres(databaseUrl);
  await migrate(database, config.migrationsDir);
  const agency = await benchAgency(database, policies, baseUrl);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();

  const latency: Array<{ mandates: number; result: LoadResult }> = [];
  let checks: Record<number, LoadResult> = {};
  let grants: LoadResult | undefined;
  let probe: ProbeResult | undefined;
  let memory = { rssMb: 0, peakMb: 0 };
  let tuples: Tuple[] = [];
  let answered = 0;
  let cpu: ReturnType<typeof cpuPerRequest> | undefined;
  const loggedBefore = await countChecksLogged(client);
  const { rows: dataDirectory } = await client.query<{ data_directory: string }>('SHOW data_directory');
  const postmaster = postmasterPid(dataDirectory[0]?.data_directory ?? '');

  // Production-like: the compiled server under plain node, as `npm start` runs it.
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: projectRoot, stdio: 'inherit' });
  const server = start(process.execPath, ['dist/server/main.js'], serverEnv);
  try {
    await waitFor(`${baseUrl}/healthz`, server);
    for (const size of PLAN.sizes) {
      const t0 = Date.now();
      await seed(client, size);
      log(`seeded ${size.toLocaleString('en')} mandates in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      tuples = await sampleTuples(client, PLAN.sample);
      const bodies = tuples.map(checkBody);
      const headers = { authorization: `Bearer ${await agency.token()}` };
      const url = `${baseUrl}/api/v1/checks`;
      await load({ url, connections: 50, seconds: PLAN.warmup, method: 'POST', headers, bodies });
      const cpuBefore = sampleCpu(server.pid as number, postmaster);
      const at50 = await load({ url, connections: 50, seconds: PLAN.seconds, method: 'POST', headers, bodies });
      // Kept for the last, largest size.
      cpu = cpuPerRequest(cpuBefore, sampleCpu(server.pid as number, postmaster), at50.ok, postmaster !== undefined);
      latency.push({ mandates: size, result: at50 });
      answered += at50.ok;
      log(`checks at ${size.toLocaleString('en')} mandates: ${at50.reqPerSec}/s, p99 ${at50.p99Ms} ms`);
      if (size === PLAN.sizes.at(-1)) {
        memory = memoryOf(server.pid as number);
        const at10 = await load({ url, connections: 10, seconds: PLAN.seconds, method: 'POST', headers, bodies });
        answered += at10.ok;
        checks = { 10: at10, 50: at50 };
      }
    }
    const mandates = PLAN.sizes.at(-1) as number;

    // Grants through the API, each principal signed in (a session as the e-ID sign-in makes).
    const { rows: principals } = await client.query<{ id: string; n: number }>(
      'SELECT id, n FROM bench_people ORDER BY random() LIMIT 50',
    );
    const sessionCookies = await Promise.all(
      principals.map(async (p) => ({ cookie: `ombud_session=${await createSession(database.db, config, p.id, 'bench', 3, { strongAt: new Date() })}`, n: p.n })),
    );
    const validTo = new Date(Date.now() + 100 * 86_400_000).toISOString();
    const grantBodies = Array.from({ length: 500 }, (_, k) =>
      JSON.stringify({
        agents: [{ type: 'person', id: personNumber(1_000_000 + k) }],
        scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return'] }],
        validTo,
      }),
    );
    grants = await load({
      url: `${baseUrl}/api/mandates`,
      connections: 50,
      seconds: PLAN.seconds,
      method: 'POST',
      headers: { origin: baseUrl },
      bodies: grantBodies,
      headerSets: sessionCookies.map((s) => ({ cookie: s.cookie })),
    });
    log(`grants: ${grants.reqPerSec}/s (${grants.failed} failed)`);

    // The staleness probe, on mandates not used by the other runs.
    const targets = (await sampleTuples(client, Math.ceil(PLAN.probeTargets / 0.7) + 10))
      .filter((t) => t.expected === 'permit' && t.mandateId)
      .slice(0, PLAN.probeTargets);
    const probeTargets = await Promise.all(
      targets.map(async (t) => ({
        mandateId: t.mandateId as string,
        body: checkBody(t),
        cookie: `ombud_session=${await createSession(database.db, config, t.principalPartyId, 'bench', 3, { strongAt: new Date() })}`,
      })),
    );
    const http = new Http(baseUrl);
    try {
      probe = await stalenessProbe({
        http,
        token: await agency.token(),
        origin: baseUrl,
        targets: probeTargets,
        background: tuples.map(checkBody),
        workers: 50,
        seconds: PLAN.probeSeconds,
      });
    } finally {
      http.close();
    }
    answered += probe.checks;
    const memoryAfter = memoryOf(server.pid as number);
    memory = { rssMb: memory.rssMb, peakMb: memoryAfter.peakMb };
    log(
      `staleness probe: ${probe.revoked} revoked, ${probe.checksAfterRevoke} checks of them after the revoke, ${probe.stalePermits} stale permits`,
    );
    await stop(server);
    const logged = (await countChecksLogged(client)) - loggedBefore;

    const ceiling = await measureCeiling();
    const cerbos = await measureCerbos(tuples);

    const c50 = checks[50] as LoadResult;
    const ceil50 = ceiling[50] as LoadResult;
    const cerbos50 = cerbos[50] as LoadResult;
    const rows: Array<[string, LoadResult, string]> = [
      ...CONNECTIONS.map((c): [string, LoadResult, string] => [`ceiling (bare Koa), ${c} conn`, ceiling[c] as LoadResult, '']),
      ...CONNECTIONS.map((c): [string, LoadResult, string] => [`Cerbos PDP, ${c} conn`, cerbos[c] as LoadResult, '']),
      ...CONNECTIONS.map((c): [string, LoadResult, string] => [
        `checks @ ${mandates.toLocaleString('en')}, ${c} conn`,
        checks[c] as LoadResult,
        c === 50 ? `${memory.rssMb}` : '',
      ]),
      ...latency.map((l): [string, LoadResult, string] => [`checks @ ${l.mandates.toLocaleString('en')}, 50 conn`, l.result, '']),
      ['grants, 50 conn', grants, ''],
    ];
    process.stdout.write(`\n${'run'.padEnd(36)}${pad('req/s', 9)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}${pad('RSS MB', 8)}\n`);
    for (const [name, r, rss] of rows) {
      process.stdout.write(`${name.padEnd(36)}${pad(r.reqPerSec, 9)}${pad(r.p50Ms, 8)}${pad(r.p99Ms, 8)}${pad(r.failed, 8)}${pad(rss, 8)}\n`);
    }
    const ratioCeiling = c50.reqPerSec / ceil50.reqPerSec;
    const ratioCerbos = c50.reqPerSec / cerbos50.reqPerSec;
    process.stdout.write(
      `\nchecks/ceiling ${ratioCeiling.toFixed(2)} (goal ≥ 0.5)   checks/Cerbos ${ratioCerbos.toFixed(2)} (goal ≥ 2)   ` +
        `p99 ${c50.p99Ms} ms (goal ≤ 20)   server RSS ${memory.rssMb} MB, peak ${memory.peakMb} MB (goal ≤ 300)\n` +
        `stale permits ${probe.stalePermits} (${probe.checksAfterRevoke} checks after ${probe.revoked} revokes)   ` +
        `checks logged ${logged} for ${answered} answered\n` +
        `CPU per check at ${mandates.toLocaleString('en')} mandates, 50 conn: server ${cpu?.server ?? '?'} µs, ` +
        `Postgres ${cpu?.postgres ?? '?'} µs, load generator ${cpu?.loadGenerator ?? '?'} µs\n`,
    );

    const result = {
      when: new Date().toISOString(),
      smoke,
      mandates,
      connections: 50,
      checksPerSec: c50.reqPerSec,
      ceilingPerSec: ceil50.reqPerSec,
      cerbosPerSec: cerbos50.reqPerSec,
      p50Ms: c50.p50Ms,
      p99Ms: c50.p99Ms,
      stalePermits: probe.stalePermits,
      rssMb: memory.rssMb,
      peakRssMb: memory.peakMb,
      ratios: { checksToCeiling: Number(ratioCeiling.toFixed(3)), checksToCerbos: Number(ratioCerbos.toFixed(3)) },
      at10Connections: { checks: checks[10], ceiling: ceiling[10], cerbos: cerbos[10] },
      grantsPerSec: grants.reqPerSec,
      latencyBySize: latency.map((l) => ({ mandates: l.mandates, reqPerSec: l.result.reqPerSec, p50Ms: l.result.p50Ms, p99Ms: l.result.p99Ms })),
      probe,
      cpuPerCheckUs: cpu,
      checksLogged: logged,
      checksAnswered: answered,
      seconds: Math.round((Date.now() - began) / 1000),
    };
    mkdirSync(path.join(projectRoot, 'bench/results'), { recursive: true });
    // A smoke run must not overwrite the figures of the last full run.
    const resultFile = `bench/results/${smoke ? 'smoke' : 'latest'}.json`;
    writeFileSync(path.join(projectRoot, resultFile), `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${resultFile} (${result.seconds} s in all)`);
    if (probe.stalePermits > 0 || logged < answered) process.exitCode = 1;
  } finally {
    await client.end();
    await database.close();
  }
}

async function cleanUp(): Promise<void> {
  for (const child of [...children]) await stop(child);
  await postgres?.stop();
  postgres = undefined;
  rmSync(workDir, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  void cleanUp().finally(() => process.exit(130));
});

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanUp());
