import { z } from 'zod';
import { appendAudit } from '../audit/service.ts';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { DEMO_PEOPLE } from '../demo.ts';
import { ensureParty, findPartiesByIds } from '../parties/repository.ts';
import { personNumber } from '../parties/schema.ts';
import { issueAccessToken, tokenRequest, tokenResponse } from './agency-tokens.ts';
import {
  ASSURANCE,
  clearSessionCookie,
  createSession,
  deleteSession,
  requireSameOrigin,
  requireSession,
  SESSION_COOKIE,
  sessionOf,
  setSessionCookie,
} from './sessions.ts';

const meView = z
  .object({
    party: z.object({ type: z.literal('person'), id: z.string() }),
    name: z.string().nullable(),
    roles: z.array(z.string()),
    assurance: z.enum(['unknown', 'low', 'substantial', 'high']),
    signInMethod: z.string(),
  })
  .meta({ id: 'Me' });

const demoPeople = z
  .object({
    items: z.array(z.object({ personalNumber: z.string(), name: z.string(), note: z.object({ sv: z.string(), en: z.string() }) })),
  })
  .meta({ id: 'DemoPeople' });

const jwks = z.object({ keys: z.array(z.looseObject({ kid: z.string(), kty: z.string() })) }).meta({ id: 'JWKS' });

export function identityRoutes(api: ApiRouter, ctx: AppContext): void {
  const { database, config, keys } = ctx;
  const sameOrigin = requireSameOrigin(config);

  if (config.devSignIn) {
    api.add(
      {
        method: 'post',
        path: '/auth/dev/login',
        summary: 'Development sign-in by personal number (development mode only)',
        tag: 'Sign-in',
        body: z.strictObject({ personalNumber: personNumber }),
        use: [sameOrigin],
        responses: { 204: { description: 'Signed in; session cookie set' } },
      },
      async (koa, { body }) => {
        const previous = koa.cookies.get(SESSION_COOKIE);
        const token = await database.transaction(async (trx) => {
          if (previous) await deleteSession(trx, previous);
          const party = await ensureParty(trx, { type: 'person', id: body.personalNumber });
          // The built-in dev identity provider counts as a strong sign-in; it exists only in development.
          const created = await createSession(trx, config, party.id, 'dev', ASSURANCE.high);
          await appendAudit(trx, [
            { action: 'signed-in', actor: { type: 'person', partyId: party.id }, partyIds: [party.id], data: { method: 'dev' } },
          ]);
          return created;
        });
        setSessionCookie(koa, config, token);
        koa.status = 204;
      },
    );
  }

  if (config.devSignIn) {
    api.add(
      {
        method: 'get',
        path: '/auth/dev/people',
        summary: 'Demo people for one-click sign-in (development mode only)',
        tag: 'Sign-in',
        responses: { 200: { description: 'Demo people', schema: demoPeople } },
      },
      async (koa) => {
        koa.body = { items: DEMO_PEOPLE.map((p) => ({ personalNumber: p.id, name: p.name, note: p.note })) };
      },
    );
  }

  api.add(
    {
      method: 'post',
      path: '/auth/logout',
      summary: 'Sign out',
      tag: 'Sign-in',
      use: [sameOrigin],
      responses: { 204: { description: 'Signed out' } },
    },
    async (koa) => {
      const token = koa.cookies.get(SESSION_COOKIE);
      if (token) await deleteSession(database.db, token);
      clearSessionCookie(koa, config);
      koa.status = 204;
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/me',
      summary: 'The signed-in person',
      tag: 'Sign-in',
      security: 'session',
      use: [requireSession(database.db, config)],
      responses: { 200: { description: 'Me', schema: meView } },
    },
    async (koa) => {
      const session = sessionOf(koa);
      const party = (await findPartiesByIds(database.db, [session.partyId])).get(session.partyId);
      if (!party) throw new Error('session party missing');
      const level = (Object.entries(ASSURANCE).find(([, v]) => v === session.assurance)?.[0] ?? 'unknown') as keyof typeof ASSURANCE;
      koa.body = {
        party: { type: 'person', id: party.nationalId },
        name: party.name,
        roles: ['principal', 'agent'],
        assurance: level,
        signInMethod: session.method,
      };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/oauth/token',
      summary: 'OAuth 2.0 client credentials for agencies: private_key_jwt (RFC 7523) or a client secret (Basic or form)',
      tag: 'Agencies',
      body: tokenRequest,
      bodyType: 'form',
      responses: { 200: { description: 'Access token', schema: tokenResponse } },
    },
    async (koa, { body }) => {
      koa.set('Cache-Control', 'no-store');
      koa.body = await issueAccessToken(database.db, config, keys, body, koa.get('Authorization') || undefined);
    },
  );

  api.add(
    {
      method: 'get',
      path: '/.well-known/jwks.json',
      summary: 'Public keys that verify decision and access tokens',
      tag: 'Agencies',
      responses: { 200: { description: 'JWKS', schema: jwks } },
    },
    async (koa) => {
      koa.set('Cache-Control', 'public, max-age=300');
      koa.body = keys.jwks();
    },
  );
}
