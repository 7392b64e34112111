import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { agencyOf, requireAgency } from '../identity/agency-tokens.ts';
import { requireSession, sessionOf } from '../identity/sessions.ts';
import { checkBody, checkResponse, myRepresentationsResponse, representationsQuery, representationsResponse } from './schema.ts';
import { type CheckDeps, check, representations, representationsOfPerson } from './service.ts';

/** What the check engine needs from the application; every API that asks checks builds it here. */
export function checkDepsOf(ctx: AppContext): CheckDeps {
  return {
    config: ctx.config,
    database: ctx.database,
    policies: ctx.policies,
    keys: ctx.keys,
    checkLog: ctx.checkLog,
    lookup: ctx.checkLookup,
    checksTotal: ctx.metrics.checksTotal,
  };
}

export function checkRoutes(api: ApiRouter, ctx: AppContext): void {
  const deps = checkDepsOf(ctx);
  const agencyOnly = requireAgency(ctx.config, ctx.keys);

  api.add(
    {
      method: 'post',
      path: '/api/v1/checks',
      summary: 'May the agent act for the principal on this service and permission now (or at `at`)?',
      tag: 'Agencies',
      security: 'agency',
      body: checkBody,
      use: [agencyOnly],
      responses: { 200: { description: 'The logged, signed decision', schema: checkResponse } },
    },
    async (koa, { body }) => {
      koa.body = await check(deps, agencyOf(koa), body);
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/v1/representations',
      summary: 'Whom the agent may act for on a service now',
      tag: 'Agencies',
      security: 'agency',
      query: representationsQuery,
      use: [agencyOnly],
      responses: { 200: { description: 'Principals and permissions', schema: representationsResponse } },
    },
    async (koa, { query }) => {
      koa.body = { items: await representations(deps, agencyOf(koa), query.agent, query.service) };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/representations',
      summary: 'Everyone I may act for now, by mandate or by register (guardian, trustee, signatory), and what I may do for each',
      tag: 'Mandates',
      security: 'session',
      use: [requireSession(ctx.database.db, ctx.config)],
      responses: { 200: { description: 'Principals, my roles and what I may do', schema: myRepresentationsResponse } },
    },
    async (koa) => {
      koa.body = { items: await representationsOfPerson(deps, sessionOf(koa).partyId) };
    },
  );
}
