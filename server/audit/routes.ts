import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { requireSession, sessionOf } from '../identity/sessions.ts';
import { ApiError } from '../http/errors.ts';
import { isoDateTime } from '../http/schemas.ts';
import { AUDIT_KINDS, type AuditKind, eventsAboutParty } from './repository.ts';
import { auditList, eventPageQuery, nextBefore, viewAuditRows } from './view.ts';

const auditQuery = z.strictObject({
  ...eventPageQuery,
  action: z
    .string()
    .max(200)
    .optional()
    .transform((s) => (s ? s.split(',').filter(Boolean) : undefined))
    .meta({ description: 'Comma-separated actions, e.g. check,mandate.revoked' }),
  kind: z
    .string()
    .max(100)
    .optional()
    .transform((s, c) => {
      const kinds = s ? s.split(',').filter(Boolean) : [];
      const unknown = kinds.find((k) => !(AUDIT_KINDS as readonly string[]).includes(k));
      if (unknown) {
        c.addIssue({ code: 'custom', message: `Unknown kind ${unknown}; use ${AUDIT_KINDS.join(', ')}.` });
        return z.NEVER;
      }
      return kinds.length > 0 ? (kinds as AuditKind[]) : undefined;
    })
    .meta({ description: `Comma-separated kinds of event: ${AUDIT_KINDS.join(', ')}` }),
  from: isoDateTime.optional().meta({ description: 'Only events at or after this time' }),
  to: isoDateTime.optional().meta({ description: 'Only events before this time' }),
});

export function auditRoutes(api: ApiRouter, ctx: AppContext): void {
  const { database, config } = ctx;
  api.add(
    {
      method: 'get',
      path: '/api/audit',
      summary: 'Every event that concerns the signed-in person, newest first, including agency checks',
      tag: 'Activity',
      security: 'session',
      query: auditQuery,
      use: [requireSession(database.db, config)],
      responses: { 200: { description: 'Events', schema: auditList } },
    },
    async (koa, { query }) => {
      const session = sessionOf(koa);
      if (query.from && query.to && query.to <= query.from) throw new ApiError(400, 'invalid-request', 'to must be after from.');
      const rows = await eventsAboutParty(database.db, session.partyId, {
        limit: query.limit,
        ...(query.before !== undefined ? { beforeSeq: query.before } : {}),
        ...(query.action ? { actions: query.action } : {}),
        ...(query.kind ? { kinds: query.kind } : {}),
        ...(query.from ? { from: query.from } : {}),
        ...(query.to ? { to: query.to } : {}),
      });
      koa.body = { items: await viewAuditRows(database.db, rows, session.partyId), ...nextBefore(rows, query.limit) };
    },
  );
}
