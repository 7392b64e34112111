import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { personNumber } from '../parties/schema.ts';
import { render } from './messages.ts';
import { countByState, listDelivered, type MailboxRow } from './repository.ts';

const mailboxQuery = z.strictObject({
  to: personNumber.optional().meta({ description: 'Only what was sent to this person' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Every value on the page goes through here: notification text carries what people typed. */
function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function row(n: MailboxRow): string {
  const m = render(n.kind, n.data);
  return `<tr>
<td>${esc(n.sentAt.toISOString())}</td>
<td>${esc(n.recipientType)} ${esc(n.recipientId)}</td>
<td>${esc(n.channel === 'letter' ? 'brev / letter' : 'digital')}</td>
<td>${esc(n.kind)}</td>
<td><strong lang="sv">${esc(m.subject.sv)}</strong><p lang="sv">${esc(m.text.sv)}</p>
<strong lang="en">${esc(m.subject.en)}</strong><p lang="en">${esc(m.text.en)}</p></td>
<td>${esc(n.attempts)}</td>
</tr>`;
}

/**
 * Development only: the mailbox of the development adapter. A plain page with no scripts or
 * inline styles, so the strict Content-Security-Policy holds.
 */
export function devMailboxRoutes(api: ApiRouter, ctx: AppContext): void {
  if (!ctx.config.devMailbox) return;
  const { database } = ctx;
  api.add(
    {
      method: 'get',
      path: '/dev/mailbox',
      summary: 'Delivered notifications, newest first (development mode only)',
      tag: 'Development',
      query: mailboxQuery,
      responses: { 200: { description: 'An HTML page', contentType: 'text/html', schema: z.string() } },
    },
    async (koa, { query }) => {
      const [items, counts] = await Promise.all([
        listDelivered(database.db, { limit: query.limit, ...(query.to ? { nationalId: query.to } : {}) }),
        countByState(database.db),
      ]);
      koa.type = 'text/html; charset=utf-8';
      koa.body = `<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><title>Ombud – brevlåda (utveckling) / mailbox (development)</title></head>
<body>
<h1>Brevlåda / Mailbox</h1>
<p>Levererade ${esc(counts.sent)}, väntar ${esc(counts.pending)}, misslyckade ${esc(counts.failed)} /
delivered ${esc(counts.sent)}, pending ${esc(counts.pending)}, failed ${esc(counts.failed)}</p>
<table>
<thead><tr><th>Skickat / Sent</th><th>Till / To</th><th>Kanal / Channel</th><th>Typ / Kind</th><th>Meddelande / Message</th><th>Försök / Attempts</th></tr></thead>
<tbody>
${items.map(row).join('\n')}
</tbody>
</table>
</body>
</html>
`;
    },
  );
}
