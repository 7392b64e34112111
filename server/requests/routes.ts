import type { Context } from 'koa';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { idParam } from '../http/schemas.ts';
import { requireSameOrigin, requireSession, requireStepUp, sessionOf } from '../identity/sessions.ts';
import { findPartiesByIds, type Party } from '../parties/repository.ts';
import { approveBody, approveResponse, declineBody, requestBody, requestList, requestListQuery, requestView } from './schema.ts';
import { approveRequest, createRequest, declineRequest, listMyRequests, readRequest, withdrawRequest } from './service.ts';

export function requestRoutes(api: ApiRouter, ctx: AppContext): void {
  const { database, config, policies } = ctx;
  const deps = { database, policies, config };
  const signedIn = requireSession(database.db, config);
  const sameOrigin = requireSameOrigin(config);
  // Approving grants a mandate, so it needs the same recent strong sign-in as a grant.
  const stepUp = requireStepUp(config);
  const me = async (koa: Context): Promise<Party> => {
    const { partyId } = sessionOf(koa);
    const party = (await findPartiesByIds(database.db, [partyId])).get(partyId);
    if (!party) throw new Error('session party missing');
    return party;
  };

  api.add(
    {
      method: 'post',
      path: '/api/requests',
      summary: 'Ask a person for a power of attorney (open requests are capped; repeated declines lock you out for a while)',
      tag: 'Requests',
      security: 'session',
      body: requestBody,
      use: [sameOrigin, signedIn],
      responses: { 201: { description: 'The open request; it expires after 30 days', schema: requestView } },
    },
    async (koa, { body }) => {
      koa.status = 201;
      koa.body = await createRequest(deps, await me(koa), body);
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/requests',
      summary: 'Requests made to me (as=principal) or by me (as=agent)',
      tag: 'Requests',
      security: 'session',
      query: requestListQuery,
      use: [signedIn],
      responses: { 200: { description: 'Requests, newest first', schema: requestList } },
    },
    async (koa, { query }) => {
      koa.body = { items: await listMyRequests(database, sessionOf(koa).partyId, query.as) };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/requests/:id',
      summary: 'One request (404 unless I made it or was asked)',
      tag: 'Requests',
      security: 'session',
      params: idParam,
      use: [signedIn],
      responses: { 200: { description: 'The request', schema: requestView } },
    },
    async (koa, { params }) => {
      koa.body = await readRequest(database, sessionOf(koa).partyId, params.id);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/api/requests/:id/approve',
      summary: 'Approve a request as asked, or narrowed (fewer permissions, shorter window, lower limit)',
      tag: 'Requests',
      security: 'session',
      params: idParam,
      body: approveBody,
      use: [sameOrigin, signedIn, stepUp],
      responses: { 200: { description: 'The approved request and the new mandate', schema: approveResponse } },
    },
    async (koa, { params, body }) => {
      koa.body = await approveRequest(deps, await me(koa), params.id, body);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/api/requests/:id/decline',
      summary: 'Decline a request',
      tag: 'Requests',
      security: 'session',
      params: idParam,
      body: declineBody,
      use: [sameOrigin, signedIn],
      responses: { 200: { description: 'The declined request', schema: requestView } },
    },
    async (koa, { params, body }) => {
      koa.body = await declineRequest(database, sessionOf(koa).partyId, params.id, body.reason);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/api/requests/:id/withdraw',
      summary: 'Withdraw my own open request',
      tag: 'Requests',
      security: 'session',
      params: idParam,
      use: [sameOrigin, signedIn],
      responses: { 200: { description: 'The withdrawn request', schema: requestView } },
    },
    async (koa, { params }) => {
      koa.body = await withdrawRequest(database, sessionOf(koa).partyId, params.id);
    },
  );
}
