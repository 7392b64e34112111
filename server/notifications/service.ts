import type { Queryable } from '../db/database.ts';
import type { NotificationKind } from './messages.ts';
import { type Channel, insertNotifications } from './repository.ts';

export interface NotifyInput {
  kind: NotificationKind;
  recipientIds: readonly string[];
  data: Record<string, unknown>;
  channel?: Channel;
}

/**
 * Writes notifications to the outbox inside the caller's transaction, so a notification exists
 * exactly when the change it announces has committed. Each recipient is written once.
 */
export async function notify(trx: Queryable, input: NotifyInput, now: Date = new Date()): Promise<void> {
  const recipients = [...new Set(input.recipientIds)];
  await insertNotifications(
    trx,
    recipients.map((recipientId) => ({
      recipientId,
      kind: input.kind,
      data: input.data,
      ...(input.channel ? { channel: input.channel } : {}),
    })),
    now,
  );
}

/** The service ids of a mandate's scopes, for the text of a notification. */
export function servicesOf(scopes: ReadonlyArray<{ service: string }>): string[] {
  return [...new Set(scopes.map((s) => s.service))];
}
