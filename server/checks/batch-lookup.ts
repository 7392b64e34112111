import type { Database } from '../db/database.ts';
import type { Party } from '../parties/repository.ts';
import type { PartyRef } from '../parties/schema.ts';

export interface LookupKey {
  agent: PartyRef;
  principal: PartyRef;
}

export interface LookupResult {
  agent: Party | undefined;
  principal: Party | undefined;
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
}

// Both parties of many checks in one statement, one row per check.
const LOOKUP = `
SELECT q.i::int AS i,
  a.id AS agent_id, a.kind AS agent_kind, a.name AS agent_name, a.protected_identity AS agent_protected,
  p.id AS principal_id, p.kind AS principal_kind, p.name AS principal_name, p.protected_identity AS principal_protected
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
  WITH ORDINALITY AS q(agent_kind, agent_nid, principal_kind, principal_nid, i)
LEFT JOIN parties a ON a.national_id = q.agent_nid AND a.kind = q.agent_kind
LEFT JOIN parties p ON p.national_id = q.principal_nid AND p.kind = q.principal_kind`;

const MAX_BATCH = 256;
const MAX_IN_FLIGHT = 2;

/**
 * Where checks read, and the first read of each batched: the two parties of concurrent checks
 * are found with one query. A lookup joins the next batch that has not yet been sent, never one
 * already running, so every answer reads what was committed before its own request arrived:
 * batching adds no staleness. The statement is named, so real Postgres plans it once per
 * connection.
 *
 * `database` may be a synchronous standby (`synchronous_commit = remote_apply`): a revoke
 * returns only once the standby has applied it, so reading there is as fresh as the primary.
 */
export class CheckLookup {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(readonly database: Database) {}

  parties(key: LookupKey): Promise<LookupResult> {
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
      const { rows } = await this.database.prepared<Row>('ombud_check_parties', LOOKUP, [
        keys.map((k) => k.agent.type),
        keys.map((k) => k.agent.id),
        keys.map((k) => k.principal.type),
        keys.map((k) => k.principal.id),
      ]);
      const results: LookupResult[] = keys.map(() => ({ agent: undefined, principal: undefined }));
      for (const r of rows) {
        const key = keys[r.i - 1];
        const result = results[r.i - 1];
        if (!key || !result) continue;
        if (r.agent_id && r.agent_kind) result.agent = party(r.agent_id, r.agent_kind, key.agent.id, r.agent_name, r.agent_protected);
        if (r.principal_id && r.principal_kind) {
          result.principal = party(r.principal_id, r.principal_kind, key.principal.id, r.principal_name, r.principal_protected);
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
