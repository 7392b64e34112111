import { type AuditEventInput, appendAudit, type ChainHead, chainEvents } from '../audit/service.ts';
import { insertEventsAtHead } from '../audit/repository.ts';
import type { Database } from '../db/database.ts';

interface Pending {
  event: AuditEventInput;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 500;

/**
 * Group commit for check events: while a batch is being committed, new events queue up and
 * go together in the next commit. Each caller's promise settles only after the commit that
 * holds its event, so no answer leaves before its log row is durable.
 *
 * The log remembers the chain's head after its last commit and appends the next batch in a
 * single statement that succeeds only if the head is still that one: one round trip and one
 * commit per batch. When another writer (a grant, a revoke) has moved the head, or the head is
 * not yet known, the batch goes through the ordinary locked append, which tells the new head.
 * One batch at a time: two on separate connections could reach Postgres out of order, and the
 * later one would then find the head moved and fall back to the slower locked append.
 */
export class CheckLog {
  private queue: Pending[] = [];
  private committing = false;
  private head: ChainHead | undefined;

  constructor(private readonly database: Database) {}

  record(event: AuditEventInput): Promise<void> {
    // The batch starts outside the promise's executor: V8 (Node 20) can crash deoptimising a
    // function while an inlined Promise executor that ran much code is on the stack.
    const committed = new Promise<void>((resolve, reject) => this.queue.push({ event, resolve, reject }));
    this.pump();
    return committed;
  }

  private pump(): void {
    if (this.committing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    const events = batch.map((p) => ({ ...p.event, at: p.event.at ?? new Date() }));
    this.committing = true;
    void this.commit(events)
      .then(
        (head) => {
          this.head = head;
          for (const p of batch) p.resolve();
        },
        (err: unknown) => {
          this.head = undefined;
          for (const p of batch) p.reject(err);
        },
      )
      .finally(() => {
        this.committing = false;
        this.pump();
      });
  }

  private async commit(events: AuditEventInput[]): Promise<ChainHead> {
    if (this.head) {
      const linked = chainEvents(this.head, events);
      if (await insertEventsAtHead(this.database, this.head, linked.rows, linked.head)) return linked.head;
    }
    return this.database.transaction((trx) => appendAudit(trx, events));
  }
}
