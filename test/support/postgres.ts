import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A throwaway PostgreSQL cluster in a temp dir, on a unix socket and a loopback port. */
export interface TestPostgres {
  url: (database: string) => string;
  stop: () => Promise<void>;
  port: number;
}

function findBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = path.join(base, v, 'bin');
    if (existsSync(path.join(bin, 'initdb'))) return bin;
  }
  throw new Error(
    'PostgreSQL server binaries not found under /usr/lib/postgresql. Install them (apt-get install -y postgresql) ' +
      'or set TEST_DATABASE_URL to a server the tests may create databases on.',
  );
}

const asRoot = process.getuid?.() === 0;

/** initdb and postgres refuse to run as root; run them as the postgres user then. */
function runAs(cmd: string, args: string[]): string[] {
  return asRoot ? ['runuser', '-u', 'postgres', '--', cmd, ...args] : [cmd, ...args];
}

/** A temp dir the postgres user owns, for one cluster's data, socket and log. */
function clusterDir(): { dir: string; dataDir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ombud-pg-'));
  chmodSync(dir, 0o777);
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  return { dir, dataDir: path.join(dir, 'data') };
}

/**
 * Starts the cluster in `dataDir` on a random loopback port. pg_ctl daemonises the server and
 * waits until it accepts connections; stopping goes through pg_ctl too, so no signal has to
 * find its way through runuser.
 */
function startCluster(bin: string, dir: string, dataDir: string): TestPostgres {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const options = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB`;
  const pgCtl = path.join(bin, 'pg_ctl');
  const [startCmd, ...startArgs] = runAs(pgCtl, ['-D', dataDir, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  try {
    execFileSync(startCmd as string, startArgs, { stdio: 'pipe' });
  } catch (err) {
    const log = existsSync(path.join(dir, 'log')) ? readFileSync(path.join(dir, 'log'), 'utf8').slice(-2000) : '';
    throw new Error(`test Postgres did not start: ${(err as Error).message}\n${log}`);
  }
  const url = (database: string) => `postgres://ombud@127.0.0.1:${port}/${database}`;
  return {
    url,
    port,
    stop: async () => {
      const [stopCmd, ...stopArgs] = runAs(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      try {
        execFileSync(stopCmd as string, stopArgs, { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = findBinDir();
  const { dir, dataDir } = clusterDir();
  const [initCmd, ...initArgs] = runAs(path.join(bin, 'initdb'), [
    '-D', dataDir, '-U', 'ombud', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8',
  ]);
  execFileSync(initCmd as string, initArgs, { stdio: 'pipe' });
  return startCluster(bin, dir, dataDir);
}

/**
 * A streaming-replication standby of `primary` (pg_basebackup), connecting as `name`, so that
 * the primary can name it in synchronous_standby_names. initdb's trust rules admit
 * replication from loopback.
 */
export async function startTestStandby(primary: TestPostgres, name: string): Promise<TestPostgres> {
  const bin = findBinDir();
  const { dir, dataDir } = clusterDir();
  const [backupCmd, ...backupArgs] = runAs(path.join(bin, 'pg_basebackup'), [
    '-D', dataDir, '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'ombud', '-X', 'stream', '-R', '--no-sync', '--checkpoint=fast',
  ]);
  execFileSync(backupCmd as string, backupArgs, { stdio: 'pipe' });
  appendFileSync(
    path.join(dataDir, 'postgresql.auto.conf'),
    `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=ombud application_name=${name}'\n`,
  );
  return startCluster(bin, dir, dataDir);
}
