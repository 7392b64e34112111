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
 * Group commit for check events: while one batch is being committed, new events queue up and
 * go together in the next commit. Each caller's promise settles only after the commit that
 * holds its event, so no answer leaves before its log row is durable.
 *
 * The log remembers the chain's head it last wrote and appends the next batch in a single
 * statement that succeeds only if the head is still that one, so a batch costs one round trip
 * and one commit. When another writer (a grant, a revoke) has moved the head meanwhile, that
 * batch goes through the ordinary locked append instead, which also tells the new head.
 */
export class CheckLog {
  private queue: Pending[] = [];
  private flushing = false;
  private head: ChainHead | undefined;

  constructor(private readonly database: Database) {}

  record(event: AuditEventInput): Promise<void> {
    // The flush starts outside the promise's executor: V8 (Node 20) can crash deoptimising a
    // function while an inlined Promise executor that ran much code is on the stack.
    const committed = new Promise<void>((resolve, reject) => this.queue.push({ event, resolve, reject }));
    if (!this.flushing) void this.flush();
    return committed;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.commit(batch.map((p) => ({ ...p.event, at: p.event.at ?? new Date() })));
          for (const p of batch) p.resolve();
        } catch (err) {
          this.head = undefined;
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commit(events: AuditEventInput[]): Promise<void> {
    if (this.head) {
      const linked = chainEvents(this.head, events);
      if (await insertEventsAtHead(this.database, this.head, linked.rows, linked.head)) {
        this.head = linked.head;
        return;
      }
    }
    this.head = await this.database.transaction((trx) => appendAudit(trx, events));
  }
}
