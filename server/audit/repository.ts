import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';

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
  options: { beforeSeq?: number; limit: number; actions?: readonly string[] },
): Promise<AuditRow[]> {
  let q = db
    .selectFrom('audit_events')
    .selectAll()
    .where(sql<boolean>`party_ids @> ARRAY[${partyId}]::uuid[]`);
  if (options.beforeSeq !== undefined) q = q.where('seq', '<', options.beforeSeq);
  if (options.actions && options.actions.length > 0) q = q.where('action', 'in', [...options.actions]);
  return (await q.orderBy('seq', 'desc').limit(options.limit).execute()) as AuditRow[];
}

export async function eventsAboutMandate(db: Queryable, mandateId: string, limit: number): Promise<AuditRow[]> {
  return (await db
    .selectFrom('audit_events')
    .selectAll()
    .where('mandate_id', '=', mandateId)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute()) as AuditRow[];
}
