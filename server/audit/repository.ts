import { sql } from 'kysely';
import type { Database, Queryable } from '../db/database.ts';

export interface AuditRow {
  seq: number;
  id: string;
  at: Date;
  action: string;
  actor: unknown;
  party_ids: string[];
  mandate_id: string | null;
  data: unknown;
  prev_hash: string;
  hash: string;
}

/** Locks the chain's head for the rest of the transaction; every appender waits here in turn. */
/** What a person filters their activity by; each kind is a family of actions. */
export const AUDIT_KINDS = ['check', 'mandate', 'sign-in'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];
const KIND_PATTERNS: Record<AuditKind, string[]> = {
  check: ['check', 'representations.%', 'minaombud.%'],
  mandate: ['mandate.%', 'request.%'],
  'sign-in': ['signed-in', 'signed-out%', 'sign-in-%', 'session-%', 'passkey-%'],
};

export async function lockHead(trx: Queryable): Promise<{ seq: number; hash: string }> {
  return trx.selectFrom('audit_head').select(['seq', 'hash']).forUpdate().executeTakeFirstOrThrow();
}

export async function insertEvents(trx: Queryable, rows: readonly AuditRow[], head: { seq: number; hash: string }) {
  await trx
    .insertInto('audit_events')
    .values(
      rows.map((r) => ({
        seq: r.seq,
        id: r.id,
        at: r.at,
        action: r.action,
        actor: JSON.stringify(r.actor),
        party_ids: r.party_ids,
        mandate_id: r.mandate_id,
        data: JSON.stringify(r.data),
        prev_hash: r.prev_hash,
        hash: r.hash,
      })),
    )
    .execute();
  await trx.updateTable('audit_head').set({ seq: head.seq, hash: head.hash }).execute();
}

const INSERT_AT_HEAD = `
WITH head AS (
  UPDATE audit_head SET seq = $3, hash = $4 WHERE seq = $1 AND hash = $2 RETURNING 1
)
INSERT INTO audit_events (seq, id, at, action, actor, party_ids, mandate_id, data, prev_hash, hash)
SELECT r.seq, r.id, r.at, r.action, r.actor, r.party_ids, r.mandate_id, r.data, r.prev_hash, r.hash
FROM jsonb_to_recordset($5::jsonb) AS r(
  seq bigint, id uuid, at timestamptz, action text, actor jsonb, party_ids uuid[],
  mandate_id uuid, data jsonb, prev_hash text, hash text
)
WHERE EXISTS (SELECT 1 FROM head)`;

/**
 * Appends rows in one statement, and so in one commit, provided the head is still `expected`;
 * moves the head to `next`. False when someone else appended meanwhile (nothing is written then).
 * Waiting on the head's row lock serialises this with every other appender.
 */
export async function insertEventsAtHead(
  database: Database,
  expected: { seq: number; hash: string },
  rows: readonly AuditRow[],
  next: { seq: number; hash: string },
): Promise<boolean> {
  const { rowCount } = await database.prepared('ombud_audit_insert_at_head', INSERT_AT_HEAD, [
    expected.seq,
    expected.hash,
    next.seq,
    next.hash,
    JSON.stringify(rows),
  ]);
  return rowCount === rows.length;
}

export async function readHead(db: Queryable): Promise<{ seq: number; hash: string }> {
  return db.selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
}

export async function readPage(db: Queryable, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return (await db
    .selectFrom('audit_events')
    .selectAll()
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute()) as AuditRow[];
}

export async function eventsAboutParty(
  db: Queryable,
  partyId: string,
  options: { beforeSeq?: number; limit: number; actions?: readonly string[]; from?: Date; to?: Date; kinds?: readonly AuditKind[] },
): Promise<AuditRow[]> {
  let q = db
    .selectFrom('audit_events')
    .selectAll()
    .where(sql<boolean>`party_ids @> ARRAY[${partyId}]::uuid[]`);
  if (options.beforeSeq !== undefined) q = q.where('seq', '<', options.beforeSeq);
  if (options.actions && options.actions.length > 0) q = q.where('action', 'in', [...options.actions]);
  if (options.from) q = q.where('at', '>=', options.from);
  if (options.to) q = q.where('at', '<', options.to);
  const kinds = options.kinds;
  if (kinds && kinds.length > 0) {
    q = q.where((eb) => eb.or(kinds.flatMap((k) => KIND_PATTERNS[k].map((pattern) => eb('action', 'like', pattern)))));
  }
  return (await q.orderBy('seq', 'desc').limit(options.limit).execute()) as AuditRow[];
}

export async function eventsAboutMandate(db: Queryable, mandateId: string, options: { beforeSeq?: number; limit: number }): Promise<AuditRow[]> {
  let q = db.selectFrom('audit_events').selectAll().where('mandate_id', '=', mandateId);
  if (options.beforeSeq !== undefined) q = q.where('seq', '<', options.beforeSeq);
  return (await q.orderBy('seq', 'desc').limit(options.limit).execute()) as AuditRow[];
}
