import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Message } from './messages.ts';
import type { Channel } from './repository.ts';

/** One notification on its way out. `id` is stable across attempts: adapters pass it on as an idempotency key. */
export interface OutgoingNotification {
  id: string;
  kind: string;
  channel: Channel;
  recipient: { type: 'person' | 'organisation'; id: string };
  message: Message;
  data: Record<string, unknown>;
}

/** Delivers one notification or throws; a throw is retried later with back-off. */
export interface NotificationAdapter {
  readonly name: string;
  deliver(notification: OutgoingNotification): Promise<void>;
}

/**
 * Development: a delivered notification is what /dev/mailbox shows; the log gets one line
 * without personal data.
 */
export class DevAdapter implements NotificationAdapter {
  readonly name = 'dev';
  constructor(private readonly logger: Logger) {}

  deliver(n: OutgoingNotification): Promise<void> {
    this.logger.info({ notificationId: n.id, kind: n.kind, channel: n.channel }, 'notification delivered to the development mailbox');
    return Promise.resolve();
  }
}

const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * Production: posts each notification as JSON to a mail/digital-mailbox gateway, which turns
 * `channel` into e-mail, digital mail or a printed letter. The gateway must treat the
 * `Idempotency-Key` header as the message id, so a retry after a lost answer is not sent again.
 */
export class WebhookAdapter implements NotificationAdapter {
  readonly name = 'webhook';
  constructor(private readonly url: string) {}

  async deliver(n: OutgoingNotification): Promise<void> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': n.id },
      body: JSON.stringify(n),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`gateway answered ${res.status}`);
  }
}

export function adapterFor(config: Config, logger: Logger): NotificationAdapter {
  const { adapter, webhookUrl } = config.notifications;
  return adapter === 'webhook' && webhookUrl ? new WebhookAdapter(webhookUrl) : new DevAdapter(logger);
}
