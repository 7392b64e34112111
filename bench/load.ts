import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface LoadResult {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
}

/** A fixed-time autocannon run; each request's body is drawn at random from `bodies`. */
export async function load(options: {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  bodies?: readonly string[];
  /** Several headers to draw from per request (e.g. one session cookie per principal). */
  headerSets?: ReadonlyArray<Record<string, string>>;
}): Promise<LoadResult> {
  const { bodies, headerSets } = options;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    method: options.method ?? 'GET',
    headers: { ...(options.headers ?? {}), ...(bodies ? { 'content-type': 'application/json' } : {}) },
    requests: [
      {
        setupRequest: (req) => {
          const next = { ...req };
          if (bodies) next.body = bodies[Math.floor(Math.random() * bodies.length)] as string;
          if (headerSets) next.headers = { ...req.headers, ...headerSets[Math.floor(Math.random() * headerSets.length)] };
          return next;
        },
      },
    ],
  });
  return {
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/** A small keep-alive HTTP client whose timings the probe can trust. */
export class Http {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });

  constructor(private readonly base: string) {}

  post(path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.base}${path}`,
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface ProbeTarget {
  mandateId: string;
  body: string;
  /** The principal's session cookie, to revoke through the API as they would. */
  cookie: string;
}

export interface ProbeResult {
  revoked: number;
  checks: number;
  checksAfterRevoke: number;
  stalePermits: number;
  reqPerSec: number;
}

/**
 * The staleness probe. Workers check the targets' mandates (and other traffic) continuously
 * while the targets' principals revoke them one by one through the API. A permit counts as
 * stale when its request was sent after the revoke's response arrived, i.e. after it committed.
 */
export async function stalenessProbe(options: {
  http: Http;
  token: string;
  origin: string;
  targets: readonly ProbeTarget[];
  background: readonly string[];
  workers: number;
  seconds: number;
}): Promise<ProbeResult> {
  const { http, targets } = options;
  const revokedAt = new Map<string, number>();
  const auth = { authorization: `Bearer ${options.token}` };
  const started = performance.now();
  // The checks go on until a moment after the last revoke, however long the revokes take.
  let endAt = Number.POSITIVE_INFINITY;
  let checks = 0;
  let checksAfterRevoke = 0;
  let stalePermits = 0;
  let revoked = 0;

  const worker = async () => {
    while (performance.now() < endAt) {
      const target = Math.random() < 0.5 ? targets[Math.floor(Math.random() * targets.length)] : undefined;
      const body = target?.body ?? (options.background[Math.floor(Math.random() * options.background.length)] as string);
      const sentAt = performance.now();
      const res = await http.post('/api/v1/checks', body, auth);
      if (res.status !== 200) throw new Error(`check failed during the probe: ${res.status} ${res.body}`);
      checks += 1;
      if (!target) continue;
      const revokeTime = revokedAt.get(target.mandateId);
      if (revokeTime === undefined || sentAt <= revokeTime) continue;
      checksAfterRevoke += 1;
      // Another mandate between the same two people may still permit; only one on this basis is stale.
      const answer = JSON.parse(res.body) as { decision: string; basis: Array<{ mandateId?: string }> };
      if (answer.decision === 'permit' && answer.basis.some((b) => b.mandateId === target.mandateId)) stalePermits += 1;
    }
  };

  const revoker = async () => {
    const gap = (options.seconds * 1000 * 0.8) / targets.length;
    await new Promise((r) => setTimeout(r, options.seconds * 100));
    for (const t of targets) {
      const res = await http.post(`/api/mandates/${t.mandateId}/revoke`, '{"reason":"probe"}', {
        cookie: t.cookie,
        origin: options.origin,
      });
      if (res.status !== 200) throw new Error(`revoke failed: ${res.status} ${res.body}`);
      revokedAt.set(t.mandateId, performance.now());
      revoked += 1;
      await new Promise((r) => setTimeout(r, gap));
    }
    endAt = performance.now() + 1000;
  };

  await Promise.all([revoker(), ...Array.from({ length: options.workers }, worker)]);
  const elapsed = (performance.now() - started) / 1000;
  return { revoked, checks, checksAfterRevoke, stalePermits, reqPerSec: Math.round(checks / elapsed) };
}
