import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';

export type Channel = 'digital' | 'letter';

export interface NewNotification {
  recipientId: string;
  kind: string;
  channel?: Channel;
  data: Record<string, unknown>;
}

export interface ClaimedNotification {
  id: string;
  recipientId: string;
  channel: Channel;
  kind: string;
  data: Record<string, unknown>;
  attempts: number;
  claimToken: string;
}

export async function insertNotifications(trx: Queryable, items: readonly NewNotification[], now: Date): Promise<void> {
  if (items.length === 0) return;
  await trx
    .insertInto('notifications')
    .values(
      items.map((n) => ({
        id: randomUUID(),
        recipient_id: n.recipientId,
        channel: n.channel ?? 'digital',
        kind: n.kind,
        data: JSON.stringify(n.data),
        dedupe_key: null,
        created_at: now,
        state: 'pending' as const,
        next_attempt_at: now,
      })),
    )
    .execute();
}

/**
 * Claims up to `limit` due notifications for `leaseMs`. `SKIP LOCKED` lets several workers
 * claim at once without waiting on, or taking, each other's rows; the claim counts as an attempt
 * so a worker that dies mid-delivery still uses up the row's attempts.
 */
export async function claimDue(db: Queryable, now: Date, limit: number, leaseMs: number): Promise<ClaimedNotification[]> {
  const claimToken = randomUUID();
  const rows = await db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('notifications')
      .select('id')
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    return trx
      .updateTable('notifications')
      .set((eb) => ({
        claimed_until: new Date(now.getTime() + leaseMs),
        claim_token: claimToken,
        attempts: eb('attempts', '+', 1),
      }))
      .where(
        'id',
        'in',
        due.map((d) => d.id),
      )
      .returning(['id', 'recipient_id', 'channel', 'kind', 'data', 'attempts'])
      .execute();
  });
  return rows.map((r) => ({
    id: r.id,
    recipientId: r.recipient_id,
    channel: r.channel,
    kind: r.kind,
    data: r.data as Record<string, unknown>,
    attempts: r.attempts,
    claimToken,
  }));
}

/** Marks a claimed row delivered; a row whose claim was lost to another worker is left alone. */
export async function markSent(db: Queryable, n: ClaimedNotification, at: Date): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ state: 'sent', sent_at: at, claimed_until: null, claim_token: null, last_error: null })
    .where('id', '=', n.id)
    .where('claim_token', '=', n.claimToken)
    .execute();
}

/** Puts a failed delivery back for a later attempt, or gives up on it for good. */
export async function markFailed(
  db: Queryable,
  n: ClaimedNotification,
  outcome: { retryAt: Date | null; error: string },
): Promise<void> {
  await db
    .updateTable('notifications')
    .set({
      state: outcome.retryAt ? 'pending' : 'failed',
      next_attempt_at: outcome.retryAt ?? sql<Date>`next_attempt_at`,
      claimed_until: null,
      claim_token: null,
      last_error: outcome.error.slice(0, 500),
    })
    .where('id', '=', n.id)
    .where('claim_token', '=', n.claimToken)
    .execute();
}

/**
 * Enqueues the expiry reminder now due for every active mandate ending within the largest of
 * `thresholds` (days before the end), to each of its parties. Only the nearest threshold
 * counts: a mandate a week from its end gets the week's reminder, never a late month's one. A
 * mandate granted with less time to run than a threshold gets no reminder for it. A reminder is
 * remembered in `mandate_reminders` in the same statement, so a late scan still sends what it
 * missed and concurrent scans send it once: the loser of the primary key writes nothing. One
 * range read over the index on active mandates' ends, in mandate order so that concurrent
 * scans take the keys in the same order.
 */
export async function enqueueExpiryReminders(db: Queryable, now: Date, thresholds: readonly number[]): Promise<number> {
  if (thresholds.length === 0) return 0;
  const farthest = Math.max(...thresholds);
  const result = await sql`
    WITH thresholds (days) AS (VALUES ${sql.join(thresholds.map((d) => sql`(${d}::int)`))}),
    due AS (
      SELECT m.id, m.created_at, m.valid_to,
             (SELECT min(t.days) FROM thresholds t WHERE m.valid_to <= ${now}::timestamptz + make_interval(days => t.days)) AS days
      FROM mandates m
      WHERE m.state = 'active'
        AND m.valid_to > ${now}::timestamptz
        AND m.valid_to <= ${now}::timestamptz + make_interval(days => ${farthest}::int)
    ),
    remembered AS (
      INSERT INTO mandate_reminders (mandate_id, days, enqueued_at)
      SELECT id, days, ${now}::timestamptz FROM due
      WHERE created_at <= valid_to - make_interval(days => days)
      ORDER BY id
      ON CONFLICT DO NOTHING
      RETURNING mandate_id, days
    )
    INSERT INTO notifications (id, recipient_id, channel, kind, data, dedupe_key, created_at, state, attempts, next_attempt_at)
    SELECT gen_random_uuid(), p.party_id, 'digital', 'mandate.expiring',
           jsonb_build_object('mandateId', m.id, 'days', r.days, 'validTo', m.valid_to),
           'expiring-' || r.days || ':' || m.id || ':' || p.party_id, ${now}, 'pending', 0, ${now}
    FROM remembered r
    JOIN mandates m ON m.id = r.mandate_id
    CROSS JOIN LATERAL (
      SELECT m.principal_id AS party_id
      UNION SELECT a.agent_id FROM mandate_agents a WHERE a.mandate_id = m.id
    ) p
    ON CONFLICT (dedupe_key) DO NOTHING`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Deletes up to `limit` delivered or given-up notifications finished with before `before`; a
 * pending one is never deleted, however old. Rows another worker is deleting are skipped
 * rather than waited for.
 */
export async function deleteFinishedBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  // The batch is chosen once, in a materialised CTE: as a plain IN subquery Postgres may run it
  // again for each outer row, and each run skips the rows already deleted, so more than `limit` go.
  const result = await db
    .with(
      (cte) => cte('doomed').materialized(),
      (qb) =>
        qb
          .selectFrom('notifications')
          .select('id')
          .where('state', '<>', 'pending')
          .where(sql<Date>`coalesce(sent_at, next_attempt_at)`, '<', before)
          .limit(limit)
          .forUpdate()
          .skipLocked(),
    )
    .deleteFrom('notifications')
    .where('id', 'in', (eb) => eb.selectFrom('doomed').select('id'))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface MailboxRow {
  id: string;
  recipientType: 'person' | 'organisation';
  recipientId: string;
  channel: Channel;
  kind: string;
  data: Record<string, unknown>;
  sentAt: Date;
  attempts: number;
}

/** Delivered notifications, newest first, optionally for one recipient (by national id). */
export async function listDelivered(db: Queryable, options: { limit: number; nationalId?: string }): Promise<MailboxRow[]> {
  let q = db
    .selectFrom('notifications as n')
    .innerJoin('parties as p', 'p.id', 'n.recipient_id')
    .select(['n.id', 'p.kind', 'p.national_id', 'n.channel', 'n.kind as notification_kind', 'n.data', 'n.sent_at', 'n.attempts'])
    .where('n.state', '=', 'sent')
    .orderBy('n.sent_at', 'desc')
    .limit(options.limit);
  if (options.nationalId) q = q.where('p.national_id', '=', options.nationalId);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    recipientType: r.kind,
    recipientId: r.national_id,
    channel: r.channel,
    kind: r.notification_kind,
    data: r.data as Record<string, unknown>,
    sentAt: r.sent_at as Date,
    attempts: r.attempts,
  }));
}

export async function countByState(db: Queryable): Promise<Record<'pending' | 'sent' | 'failed', number>> {
  const rows = await db
    .selectFrom('notifications')
    .select(['state', sql<number>`count(*)::int`.as('n')])
    .groupBy('state')
    .execute();
  const counts = { pending: 0, sent: 0, failed: 0 };
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/** Gives every notification that was given up a fresh set of attempts, due now. */
export async function requeueFailed(db: Queryable, now: Date): Promise<number> {
  const result = await db
    .updateTable('notifications')
    .set({ state: 'pending', attempts: 0, next_attempt_at: now, claimed_until: null, claim_token: null })
    .where('state', '=', 'failed')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
