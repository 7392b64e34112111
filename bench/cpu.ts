import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where the CPU of a run went: the server, Postgres (postmaster and its children) and this process, which drives the load. */
export interface CpuSample {
  server: number;
  postgres: number;
  loadGenerator: number;
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a process in seconds, from /proc; 0 once it has gone. */
function cpuOf(pid: number): { seconds: number; ppid: number } {
  try {
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return { seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND, ppid: Number(fields[1]) };
  } catch {
    return { seconds: 0, ppid: 0 };
  }
}

/** The postmaster's pid from its data directory, or undefined when that cannot be read (another user's cluster). */
export function postmasterPid(dataDirectory: string): number | undefined {
  try {
    return Number(readFileSync(path.join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}

export function sampleCpu(serverPid: number, postmaster: number | undefined): CpuSample {
  let postgres = 0;
  if (postmaster !== undefined) {
    postgres = cpuOf(postmaster).seconds;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const proc = cpuOf(Number(entry));
      if (proc.ppid === postmaster) postgres += proc.seconds;
    }
  }
  const own = process.cpuUsage();
  return { server: cpuOf(serverPid).seconds, postgres, loadGenerator: (own.user + own.system) / 1e6 };
}

/** CPU microseconds per answered request between two samples; Postgres is absent when its processes could not be read. */
export function cpuPerRequest(before: CpuSample, after: CpuSample, requests: number, withPostgres: boolean) {
  const per = (a: number, b: number) => Math.round(((b - a) * 1e6) / Math.max(requests, 1));
  return {
    server: per(before.server, after.server),
    ...(withPostgres ? { postgres: per(before.postgres, after.postgres) } : {}),
    loadGenerator: per(before.loadGenerator, after.loadGenerator),
  };
}
