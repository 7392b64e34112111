import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Database } from '../db/database.ts';
import { findPartiesByIds } from '../parties/repository.ts';
import type { NotificationAdapter } from './adapters.ts';
import { render } from './messages.ts';
import { claimDue, markFailed, markSent, enqueueExpiryReminders, type ClaimedNotification } from './repository.ts';

const BATCH = 50;
/** Longer than any delivery may take (the webhook adapter gives up after 10 s). */
const LEASE_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 24 * 3_600_000;
/** The reminder scan reads a range of mandates; once a minute is plenty for day-sized thresholds. */
const REMINDER_SCAN_MS = 60_000;
/** Reminder thresholds, in days before a mandate ends. */
const REMINDER_DAYS = [30, 7] as const;
/**
 * How far back a scan looks for thresholds it has not yet seen. Shorter than the gap between
 * thresholds, so one mandate is never in two windows; a service down for longer than this
 * skips the reminders whose moment fell into the outage.
 */
const REMINDER_LOOKBACK_DAYS = 2;

export interface WorkerSettings {
  pollMs: number;
  maxAttempts: number;
  retryBaseMs: number;
}

export interface TickResult {
  delivered: number;
  failed: number;
  reminders: number;
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
  private lastReminderScan = 0;
  private stopped = true;

  constructor(
    private readonly database: Database,
    private readonly adapter: NotificationAdapter,
    private readonly logger: Logger,
    private readonly settings: WorkerSettings,
    private readonly outcomes?: Counter<'outcome'>,
  ) {}

  /** Enqueues the expiry reminders due at `now`, each once. */
  async scheduleReminders(now: Date = new Date()): Promise<number> {
    let count = 0;
    for (const days of REMINDER_DAYS) {
      count += await enqueueExpiryReminders(this.database.db, now, days, REMINDER_LOOKBACK_DAYS);
    }
    return count;
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

  /** One round: reminders (at most once a minute unless `now` is given) and delivery. */
  async tick(now?: Date): Promise<TickResult> {
    const at = now ?? new Date();
    let reminders = 0;
    if (now || at.getTime() - this.lastReminderScan >= REMINDER_SCAN_MS) {
      reminders = await this.scheduleReminders(at);
      this.lastReminderScan = at.getTime();
    }
    return { ...(await this.deliverDue(at)), reminders };
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
