import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Database } from '../db/database.ts';
import { findPartiesByIds } from '../parties/repository.ts';
import type { NotificationAdapter } from './adapters.ts';
import { render } from './messages.ts';
import { claimDue, deleteFinishedBefore, enqueueExpiryReminders, markFailed, markSent, type ClaimedNotification } from './repository.ts';

const BATCH = 50;
/** Longer than any delivery may take (the webhook adapter gives up after 10 s). */
const LEASE_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 24 * 3_600_000;
/**
 * The periodic scan (reminders and retention) reads a range of mandates and deletes old rows;
 * once a minute is plenty for day-sized thresholds and a retention counted in days.
 */
const SCAN_MS = 60_000;
/** Reminder thresholds, in days before a mandate ends. */
const REMINDER_DAYS = [30, 7] as const;
/**
 * Old rows are deleted in batches, each its own short statement, so deleting never holds many
 * row locks or a long transaction; a backlog beyond the batches of one scan waits for the next.
 */
const RETENTION_BATCH = 1000;
const RETENTION_BATCHES_PER_SCAN = 10;
const DAY_MS = 86_400_000;

export interface WorkerSettings {
  pollMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Delivered and given-up notifications are deleted this many days after they were finished with. */
  retainDays: number;
}

export interface TickResult {
  delivered: number;
  failed: number;
  reminders: number;
  deleted: number;
}

/** Exponential back-off: base, 2×base, 4×base … capped at a day. */
export function backoffMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/**
 * Delivers the outbox through an adapter. Any number of workers (in one process or many) may
 * run against one database: each row is claimed by one of them before it is delivered.
 */
export class NotificationWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastScan = 0;
  private stopped = true;

  constructor(
    private readonly database: Database,
    private readonly adapter: NotificationAdapter,
    private readonly logger: Logger,
    private readonly settings: WorkerSettings,
    private readonly outcomes?: Counter<'outcome'>,
  ) {}

  /** Enqueues each expiry reminder due at `now` that no earlier scan has enqueued. */
  async scheduleReminders(now: Date = new Date()): Promise<number> {
    return enqueueExpiryReminders(this.database.db, now, REMINDER_DAYS);
  }

  /**
   * Deletes delivered and given-up notifications older than the retention, in bounded batches.
   * The audit trail is separate and keeps what happened; these rows only record a delivery.
   */
  async deleteExpired(now: Date = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.settings.retainDays * DAY_MS);
    let deleted = 0;
    for (let batch = 0; batch < RETENTION_BATCHES_PER_SCAN; batch++) {
      const n = await deleteFinishedBefore(this.database.db, before, RETENTION_BATCH);
      deleted += n;
      if (n < RETENTION_BATCH) break;
    }
    if (deleted > 0) this.logger.info({ deleted, before }, 'old notifications deleted');
    return deleted;
  }

  /** Claims and delivers what is due at `now`. */
  async deliverDue(now: Date = new Date()): Promise<{ delivered: number; failed: number }> {
    const claimed = await claimDue(this.database.db, now, BATCH, LEASE_MS);
    if (claimed.length === 0) return { delivered: 0, failed: 0 };
    const parties = await findPartiesByIds(
      this.database.db,
      claimed.map((n) => n.recipientId),
    );
    let delivered = 0;
    let failed = 0;
    for (const n of claimed) {
      const recipient = parties.get(n.recipientId);
      try {
        if (!recipient) throw new Error('recipient not found');
        await this.adapter.deliver({
          id: n.id,
          kind: n.kind,
          channel: n.channel,
          recipient: { type: recipient.kind, id: recipient.nationalId },
          message: render(n.kind, n.data),
          data: n.data,
        });
        await markSent(this.database.db, n, new Date());
        this.outcomes?.inc({ outcome: 'delivered' });
        delivered += 1;
      } catch (err) {
        failed += 1;
        await this.retryLater(n, now, err);
      }
    }
    return { delivered, failed };
  }

  private async retryLater(n: ClaimedNotification, now: Date, err: unknown): Promise<void> {
    const error = err instanceof Error ? err.message : String(err);
    const giveUp = n.attempts >= this.settings.maxAttempts;
    const retryAt = giveUp ? null : new Date(now.getTime() + backoffMs(n.attempts, this.settings.retryBaseMs));
    await markFailed(this.database.db, n, { retryAt, error });
    this.outcomes?.inc({ outcome: giveUp ? 'failed' : 'retry' });
    const log = { notificationId: n.id, kind: n.kind, attempts: n.attempts, adapter: this.adapter.name, error };
    if (giveUp) this.logger.error(log, 'notification could not be delivered; giving up');
    else this.logger.warn({ ...log, retryAt }, 'notification delivery failed; will retry');
  }

  /** One round: the scan for reminders and old rows (at most once a minute unless `now` is given) and delivery. */
  async tick(now?: Date): Promise<TickResult> {
    const at = now ?? new Date();
    let reminders = 0;
    let deleted = 0;
    if (now || at.getTime() - this.lastScan >= SCAN_MS) {
      reminders = await this.scheduleReminders(at);
      deleted = await this.deleteExpired(at);
      this.lastScan = at.getTime();
    }
    return { ...(await this.deliverDue(at)), reminders, deleted };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.error({ err }, 'notification worker round failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.settings.pollMs);
        });
    };
    loop();
  }

  /** Stops polling and waits for the round in progress, so the database can close after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
