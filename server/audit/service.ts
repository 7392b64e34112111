import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../db/database.ts';
import { chainHash, GENESIS_HASH } from './hash.ts';
import { type AuditRow, insertEvents, lockHead, readHead, readPage } from './repository.ts';

/** Who did something. Parties are kept by internal id and named only when shown. */
export type Actor =
  | { type: 'person'; partyId: string }
  | { type: 'agency'; agencyId: string }
  | { type: 'operator' }
  | { type: 'system' };

export interface AuditEventInput {
  action: string;
  actor: Actor;
  /** Every party the event concerns: they see it in their activity. */
  partyIds: readonly string[];
  mandateId?: string | null;
  data?: Record<string, unknown>;
  at?: Date;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

/** Links events onto the chain after `head`: their rows, and the head they leave behind. */
export function chainEvents(head: ChainHead, events: readonly AuditEventInput[]): { rows: AuditRow[]; head: ChainHead } {
  let { seq, hash } = head;
  const rows: AuditRow[] = events.map((e) => {
    seq += 1;
    const row = {
      seq,
      id: randomUUID(),
      at: e.at ?? new Date(),
      action: e.action,
      actor: e.actor,
      partyIds: [...new Set(e.partyIds)],
      mandateId: e.mandateId ?? null,
      data: e.data ?? {},
    };
    const prev = hash;
    hash = chainHash(prev, row);
    return {
      seq: row.seq,
      id: row.id,
      at: row.at,
      action: row.action,
      actor: row.actor,
      party_ids: row.partyIds,
      mandate_id: row.mandateId,
      data: row.data,
      prev_hash: prev,
      hash,
    };
  });
  return { rows, head: { seq, hash } };
}

/**
 * Appends events to the chain inside the caller's transaction, so an event commits
 * together with the change it records or not at all. Returns the new head.
 */
export async function appendAudit(trx: Queryable, events: readonly AuditEventInput[]): Promise<ChainHead> {
  if (events.length === 0) return readHead(trx);
  const head = await lockHead(trx);
  const linked = chainEvents(head, events);
  await insertEvents(trx, linked.rows, linked.head);
  return linked.head;
}

export type VerifyResult =
  | { ok: true; events: number; head: string }
  | { ok: false; events: number; brokenAt: { seq: number; id: string | null }; problem: string };

/** Walks the whole chain from its start and names the first link that does not hold. */
export async function verifyAuditChain(database: Database, pageSize = 2000): Promise<VerifyResult> {
  let expectedPrev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (;;) {
    const page = await readPage(database.db, expectedSeq - 1, pageSize);
    for (const row of page) {
      const fail = (problem: string): VerifyResult => ({
        ok: false,
        events: count,
        brokenAt: { seq: row.seq, id: row.id },
        problem,
      });
      if (row.seq !== expectedSeq) {
        return { ok: false, events: count, brokenAt: { seq: expectedSeq, id: null }, problem: 'event missing' };
      }
      if (row.prev_hash !== expectedPrev) return fail('previous-hash does not match the event before it');
      const recomputed = chainHash(expectedPrev, {
        seq: row.seq,
        id: row.id,
        at: row.at,
        action: row.action,
        actor: row.actor,
        partyIds: row.party_ids,
        mandateId: row.mandate_id,
        data: row.data,
      });
      if (recomputed !== row.hash) return fail('content does not match its hash (altered)');
      expectedPrev = row.hash;
      expectedSeq += 1;
      count += 1;
    }
    if (page.length < pageSize) break;
  }
  const head = await readHead(database.db);
  if (head.seq !== count || head.hash !== expectedPrev) {
    return {
      ok: false,
      events: count,
      brokenAt: { seq: count + 1, id: null },
      problem: `the chain ends at ${count} but its head says ${head.seq} (events removed at the end)`,
    };
  }
  return { ok: true, events: count, head: expectedPrev };
}
