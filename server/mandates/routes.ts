import { z } from 'zod';
import { eventsAboutMandate } from '../audit/repository.ts';
import { auditList, eventPageQuery, nextBefore, viewAuditRows } from '../audit/view.ts';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { idParam } from '../http/schemas.ts';
import { requireSameOrigin, requireSession, requireStepUp, sessionOf } from '../identity/sessions.ts';
import { findPartiesByIds } from '../parties/repository.ts';
import { grantBody, listQuery, mandateList, mandateView, revokeBody } from './schema.ts';
import { approveMandate, grantMandate, listMandates, readMandate, revokeMandate } from './service.ts';

export function mandateRoutes(api: ApiRouter, ctx: AppContext): void {
  const { database, config, policies } = ctx;
  const signedIn = requireSession(database.db, config);
  const sameOrigin = requireSameOrigin(config);
  const stepUp = requireStepUp(config);

  api.add(
    {
      method: 'post',
      path: '/api/mandates',
      summary: 'Grant a power of attorney',
      tag: 'Mandates',
      security: 'session',
      body: grantBody,
      use: [sameOrigin, signedIn, stepUp],
      responses: { 201: { description: 'The new mandate', schema: mandateView } },
    },
    async (koa, { body }) => {
      const session = sessionOf(koa);
      const granter = (await findPartiesByIds(database.db, [session.partyId])).get(session.partyId);
      if (!granter) throw new Error('session party missing');
      koa.status = 201;
      koa.body = await grantMandate(database, policies, granter, body, { maxDelegationDepth: config.maxDelegationDepth });
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/mandates',
      summary: 'Mandates I gave (as=principal), that name me (as=agent), of organisations I sign for (as=signatory) or that I passed on (as=delegator)',
      tag: 'Mandates',
      security: 'session',
      query: listQuery,
      use: [signedIn],
      responses: { 200: { description: 'Mandates, newest first', schema: mandateList } },
    },
    async (koa, { query }) => {
      koa.body = { items: await listMandates(database, sessionOf(koa).partyId, query.as) };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/mandates/:id',
      summary: 'One mandate (404 unless I am its principal or an agent)',
      tag: 'Mandates',
      security: 'session',
      params: idParam,
      use: [signedIn],
      responses: { 200: { description: 'The mandate', schema: mandateView } },
    },
    async (koa, { params }) => {
      koa.body = await readMandate(database, sessionOf(koa).partyId, params.id);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/api/mandates/:id/revoke',
      summary: 'Revoke (as principal) or return (as agent) a mandate; idempotent',
      tag: 'Mandates',
      security: 'session',
      params: idParam,
      body: revokeBody,
      use: [sameOrigin, signedIn, stepUp],
      responses: { 200: { description: 'The mandate as it now stands', schema: mandateView } },
    },
    async (koa, { params, body }) => {
      koa.body = await revokeMandate(database, sessionOf(koa).partyId, params.id, body.reason);
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/mandates/:id/activity',
      summary: 'Checks and events about one mandate, newest first, a page at a time (404 unless I am its principal or an agent)',
      tag: 'Mandates',
      security: 'session',
      params: idParam,
      query: z.strictObject(eventPageQuery),
      use: [signedIn],
      responses: { 200: { description: 'Events', schema: auditList } },
    },
    async (koa, { params, query }) => {
      const viewerId = sessionOf(koa).partyId;
      const mandate = await readMandate(database, viewerId, params.id);
      const rows = await eventsAboutMandate(database.db, mandate.id, {
        limit: query.limit,
        ...(query.before !== undefined ? { beforeSeq: query.before } : {}),
      });
      koa.body = { items: await viewAuditRows(database.db, rows, viewerId), ...nextBefore(rows, query.limit) };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/api/mandates/:id/approve',
      summary: "Approve, as one of its joint signatories, an organisation's pending mandate; the last approval activates it",
      tag: 'Mandates',
      security: 'session',
      params: idParam,
      use: [sameOrigin, signedIn, stepUp],
      responses: { 200: { description: 'The mandate as it now stands', schema: mandateView } },
    },
    async (koa, { params }) => {
      koa.body = await approveMandate(database, sessionOf(koa).partyId, params.id);
    },
  );
}
