import { type AuditEventInput, appendAudit, type ChainHead, chainEvents } from '../audit/service.ts';
import { insertEventsAtHead } from '../audit/repository.ts';
import type { Database } from '../db/database.ts';

interface Pending {
  event: AuditEventInput;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 500;
/** Batches sent before the one ahead has committed: the next waits in Postgres on the head's lock. */
const MAX_IN_FLIGHT = 2;

/**
 * Group commit for check events: while a batch is being committed, new events queue up and
 * go together in the next commit. Each caller's promise settles only after the commit that
 * holds its event, so no answer leaves before its log row is durable.
 *
 * The log keeps the head the chain will have once the batches it sent commit, and appends the
 * next batch in a single statement that succeeds only if the head is still that one, so a batch
 * costs one round trip and one commit, and the next can already be on its way. When another
 * writer (a grant, a revoke) has moved the head, or the batch ahead failed, that batch goes
 * through the ordinary locked append instead, which also tells the new head. The condition in
 * the database keeps the chain whole whatever the log believes.
 */
export class CheckLog {
  private queue: Pending[] = [];
  private inFlight = 0;
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
    // With the head unknown, only one batch at a time: the locked append finds it.
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT && (this.head !== undefined || this.inFlight === 0)) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const events = batch.map((p) => ({ ...p.event, at: p.event.at ?? new Date() }));
      const expected = this.head;
      const linked = expected ? chainEvents(expected, events) : undefined;
      this.head = linked?.head;
      this.inFlight += 1;
      void this.commit(events, expected, linked)
        .then(
          () => {
            for (const p of batch) p.resolve();
          },
          (err: unknown) => {
            this.head = undefined;
            for (const p of batch) p.reject(err);
          },
        )
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
  }

  private async commit(
    events: AuditEventInput[],
    expected: ChainHead | undefined,
    linked: ReturnType<typeof chainEvents> | undefined,
  ): Promise<void> {
    if (expected && linked && (await insertEventsAtHead(this.database, expected, linked.rows, linked.head))) return;
    this.head = undefined;
    const head = await this.database.transaction((trx) => appendAudit(trx, events));
    // Only with nothing else in flight is this surely the newest head; otherwise the next batch finds it.
    if (this.inFlight === 1) this.head = head;
  }
}
