import { type AuditEventInput, appendAudit } from '../audit/service.ts';
import type { Database } from '../db/database.ts';

interface Pending {
  event: AuditEventInput;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 500;

/**
 * Group commit for check events: while one batch is being committed, new events queue up and
 * go together in the next transaction. Each caller's promise settles only after the commit
 * that holds its event, so no answer leaves before its log row is durable.
 */
export class CheckLog {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly database: Database) {}

  record(event: AuditEventInput): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.database.transaction((trx) => appendAudit(trx, batch.map((p) => p.event)));
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
