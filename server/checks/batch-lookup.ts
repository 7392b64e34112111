import type { Database } from '../db/database.ts';
import type { Party } from '../parties/repository.ts';
import type { PartyRef } from '../parties/schema.ts';
import type { Candidate } from './repository.ts';

export interface LookupKey {
  agent: PartyRef;
  principal: PartyRef;
  service: string;
  permission: string;
}

export interface LookupResult {
  agent: Party | undefined;
  principal: Party | undefined;
  /** Every mandate, in any state, from principal to agent that names (service, permission). */
  candidates: Candidate[];
}

interface Pending {
  key: LookupKey;
  resolve: (result: LookupResult) => void;
  reject: (err: unknown) => void;
}

interface Row {
  i: number;
  agent_id: string | null;
  agent_kind: Party['kind'] | null;
  agent_name: string | null;
  agent_protected: boolean | null;
  principal_id: string | null;
  principal_kind: Party['kind'] | null;
  principal_name: string | null;
  principal_protected: boolean | null;
  mandate_id: string | null;
  mode: Candidate['mode'] | null;
  state: Candidate['state'] | null;
  valid_from: Date | null;
  valid_to: Date | null;
  revoked_at: Date | null;
  parent_id: string | null;
  max_amount: number | null;
  agent_ids: string[] | null;
}

// Both parties and every candidate mandate for many checks in one statement: one row per
// (check, candidate), or one row with empty mandate columns when a check has none.
const LOOKUP = `
SELECT q.i::int AS i,
  a.id AS agent_id, a.kind AS agent_kind, a.name AS agent_name, a.protected_identity AS agent_protected,
  p.id AS principal_id, p.kind AS principal_kind, p.name AS principal_name, p.protected_identity AS principal_protected,
  c.id AS mandate_id, c.mode, c.state, c.valid_from, c.valid_to, c.revoked_at, c.parent_id, c.max_amount, c.agent_ids
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
  WITH ORDINALITY AS q(agent_kind, agent_nid, principal_kind, principal_nid, service, permission, i)
LEFT JOIN parties a ON a.national_id = q.agent_nid AND a.kind = q.agent_kind
LEFT JOIN parties p ON p.national_id = q.principal_nid AND p.kind = q.principal_kind
LEFT JOIN LATERAL (
  SELECT m.id, m.mode, m.state, m.valid_from, m.valid_to, m.revoked_at, m.parent_id, s.max_amount,
    (SELECT array_agg(x.agent_id) FROM mandate_agents x WHERE x.mandate_id = m.id) AS agent_ids
  FROM mandates m
  JOIN mandate_agents ma ON ma.mandate_id = m.id AND ma.agent_id = a.id
  JOIN mandate_scopes s ON s.mandate_id = m.id AND s.service = q.service AND s.permission = q.permission
  WHERE m.principal_id = p.id
) c ON true`;

const MAX_BATCH = 256;
const MAX_IN_FLIGHT = 2;

/**
 * Batches the lookups of concurrent checks into one query. A lookup joins the next batch that
 * has not yet been sent, never one already running, so every answer reads what was committed
 * before its own request arrived: batching adds no staleness. The statement is named, so real
 * Postgres plans it once per connection.
 *
 * `database` may be a synchronous standby (`synchronous_commit = remote_apply`): a revoke
 * returns only once the standby has applied it, so reading there is as fresh as the primary.
 */
export class CheckLookup {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly database: Database) {}

  find(key: LookupKey): Promise<LookupResult> {
    const found = new Promise<LookupResult>((resolve, reject) => this.queue.push({ key, resolve, reject }));
    this.schedule();
    return found;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    // Waiting for the end of this turn of the event loop lets the requests already read off
    // the sockets join the same batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight >= MAX_IN_FLIGHT) return;
      const batch = this.queue.splice(0, MAX_BATCH);
      if (batch.length === 0) return;
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
      this.schedule();
    });
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      const keys = batch.map((p) => p.key);
      const { rows } = await this.database.prepared<Row>('ombud_check_lookup', LOOKUP, [
        keys.map((k) => k.agent.type),
        keys.map((k) => k.agent.id),
        keys.map((k) => k.principal.type),
        keys.map((k) => k.principal.id),
        keys.map((k) => k.service),
        keys.map((k) => k.permission),
      ]);
      const results: LookupResult[] = keys.map(() => ({ agent: undefined, principal: undefined, candidates: [] }));
      for (const r of rows) {
        const key = keys[r.i - 1];
        const result = results[r.i - 1];
        if (!key || !result) continue;
        if (r.agent_id && r.agent_kind) result.agent ??= party(r.agent_id, r.agent_kind, key.agent.id, r.agent_name, r.agent_protected);
        if (r.principal_id && r.principal_kind) {
          result.principal ??= party(r.principal_id, r.principal_kind, key.principal.id, r.principal_name, r.principal_protected);
        }
        if (r.mandate_id && r.mode && r.state && r.valid_from && r.valid_to) {
          result.candidates.push({
            id: r.mandate_id,
            mode: r.mode,
            state: r.state,
            validFrom: r.valid_from,
            validTo: r.valid_to,
            revokedAt: r.revoked_at,
            parentId: r.parent_id,
            maxAmount: r.max_amount === null ? null : Number(r.max_amount),
            agentIds: r.agent_ids ?? [],
          });
        }
      }
      batch.forEach((p, n) => p.resolve(results[n] as LookupResult));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

function party(id: string, kind: Party['kind'], nationalId: string, name: string | null, protectedIdentity: boolean | null): Party {
  return { id, kind, nationalId, name, protectedIdentity: protectedIdentity === true };
}
