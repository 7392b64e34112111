import type { Context } from 'koa';
import { z } from 'zod';
import { appendAudit } from '../audit/service.ts';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { DEMO_PEOPLE } from '../demo.ts';
import { ApiError } from '../http/errors.ts';
import { freeText, idParam } from '../http/schemas.ts';
import { ensureParty, findPartiesByIds } from '../parties/repository.ts';
import { personNumber } from '../parties/schema.ts';
import { issueAccessToken, tokenRequest, tokenResponse } from './agency-tokens.ts';
import { OIDC_FLOW_COOKIE, OidcSignIn, safeReturnTo } from './oidc.ts';
import {
  authenticationBody,
  authenticationOptions,
  CEREMONY_COOKIE,
  listPasskeys,
  markUsed,
  passkeyView,
  registerPasskey,
  registrationBody,
  registrationOptions,
  removePasskey,
  renamePasskey,
  verifyPasskeySignIn,
} from './passkeys.ts';
import {
  ASSURANCE,
  clearSessionCookie,
  deleteSession,
  endAllSessions,
  endSession,
  listSessions,
  newToken,
  requireSameOrigin,
  requireSession,
  requireStepUp,
  SESSION_COOKIE,
  sessionOf,
  setSessionCookie,
  signIn,
} from './sessions.ts';

const meView = z
  .object({
    party: z.object({ type: z.literal('person'), id: z.string() }),
    name: z.string().nullable(),
    roles: z.array(z.string()),
    assurance: z.enum(['unknown', 'low', 'substantial', 'high']),
    signInMethod: z.string(),
    strongSignInAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: 'Me' });

const signInMethods = z
  .object({
    eid: z.boolean().meta({ description: 'e-ID over OpenID Connect is configured' }),
    passkey: z.boolean(),
    dev: z.boolean().meta({ description: 'Development sign-in by personal number (never in production)' }),
  })
  .meta({ id: 'SignInMethods' });

const demoPeople = z
  .object({
    items: z.array(z.object({ personalNumber: z.string(), name: z.string(), note: z.object({ sv: z.string(), en: z.string() }) })),
  })
  .meta({ id: 'DemoPeople' });
const sessionView = z
  .object({
    id: z.uuid(),
    method: z.string(),
    assurance: z.enum(['unknown', 'low', 'substantial', 'high']),
    createdAt: z.iso.datetime({ offset: true }),
    lastSeenAt: z.iso.datetime({ offset: true }),
    expiresAt: z.iso.datetime({ offset: true }),
    userAgent: z.string().nullable(),
    current: z.boolean(),
  })
  .meta({ id: 'Session' });

/** WebAuthn options are passed to the browser as they are; described loosely here. */
const webauthnOptions = z.looseObject({ challenge: z.string() }).meta({ id: 'WebAuthnOptions' });

const oidcStartQuery = z.strictObject({ returnTo: z.string().max(500).optional() });
/** Providers may add parameters (`iss`, `session_state`); the ones we read must appear once. */
const oidcCallbackQuery = z.looseObject({
  code: z.string().min(1).max(2048).optional(),
  state: z.string().min(1).max(512).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
});

function assuranceName(level: number): keyof typeof ASSURANCE {
  return (Object.entries(ASSURANCE).find(([, v]) => v === level)?.[0] ?? 'unknown') as keyof typeof ASSURANCE;
}

function shortCookie(koa: Context, config: Config, name: string, value: string, path: string, maxAgeMs: number, sameSite: 'lax' | 'strict') {
  koa.cookies.set(name, value, { httpOnly: true, sameSite, secure: config.secureCookies, path, maxAge: maxAgeMs, overwrite: true });
}

const jwks = z.object({ keys: z.array(z.looseObject({ kid: z.string(), kty: z.string() })) }).meta({ id: 'JWKS' });

export function identityRoutes(api: ApiRouter, ctx: AppContext): void {
  const { database, config, keys, logger, metrics } = ctx;
  const sameOrigin = requireSameOrigin(config);
  const signedIn = requireSession(database.db, config);
  const stepUp = requireStepUp(config);
  const oidc = OidcSignIn.fromConfig(config, { database, logger, metrics });
  const passkeyDeps = { database, logger, metrics, config };

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
        const token = await database.transaction(async (trx) => {
          const party = await ensureParty(trx, { type: 'person', id: body.personalNumber });
          // The built-in dev identity provider counts as strong; it exists only outside production.
          return signIn(trx, config, {
            previousToken: koa.cookies.get(SESSION_COOKIE),
            partyId: party.id,
            method: 'dev',
            assurance: ASSURANCE.high,
            strongAt: config.mode !== 'production' ? new Date() : undefined,
            userAgent: koa.get('User-Agent'),
          });
        });
        setSessionCookie(koa, config, token);
        koa.status = 204;
      },
    );
  }

  api.add(
    {
      method: 'get',
      path: '/auth/methods',
      summary: 'The ways to sign in that this server offers, so the start page shows only those',
      tag: 'Sign-in',
      responses: { 200: { description: 'Sign-in methods', schema: signInMethods } },
    },
    async (koa) => {
      koa.body = { eid: oidc !== undefined, passkey: true, dev: config.devSignIn };
    },
  );

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
      method: 'get',
      path: '/auth/oidc/start',
      summary: 'Start an e-ID sign-in: redirects to the OpenID provider (authorization code with PKCE)',
      tag: 'Sign-in',
      query: oidcStartQuery,
      responses: { 302: { description: 'To the provider' } },
    },
    async (koa, { query }) => {
      if (!oidc) throw new ApiError(404, 'not-found', 'e-ID sign-in is not configured on this server.');
      const returnTo = safeReturnTo(query.returnTo);
      if (!returnTo) throw new ApiError(400, 'invalid-request', 'returnTo must be a path on this site, such as /mandates.');
      const { url, flowId } = await oidc.start(database.db, returnTo);
      // Lax: the provider sends the browser back with a top-level GET from its own site.
      shortCookie(koa, config, OIDC_FLOW_COOKIE, flowId, '/auth/oidc', 10 * 60_000, 'lax');
      koa.redirect(url);
    },
  );

  api.add(
    {
      method: 'get',
      path: '/auth/oidc/callback',
      summary: 'Where the OpenID provider returns; starts a session and redirects to returnTo',
      tag: 'Sign-in',
      query: oidcCallbackQuery,
      responses: { 302: { description: 'Signed in; session cookie set' } },
    },
    async (koa, { query }) => {
      if (!oidc) throw new ApiError(404, 'not-found', 'e-ID sign-in is not configured on this server.');
      const flowId = koa.cookies.get(OIDC_FLOW_COOKIE);
      shortCookie(koa, config, OIDC_FLOW_COOKIE, '', '/auth/oidc', 0, 'lax');
      const { identity, returnTo } = await oidc.finish(database.db, flowId, query, koa.search);
      const token = await database.transaction(async (trx) => {
        const party = await ensureParty(trx, { type: 'person', id: identity.personalNumber }, { name: identity.name });
        return signIn(
          trx,
          config,
          {
            previousToken: koa.cookies.get(SESSION_COOKIE),
            partyId: party.id,
            method: 'oidc',
            assurance: identity.assurance,
            strongAt: identity.assurance >= config.strongAssurance ? identity.authenticatedAt : undefined,
            userAgent: koa.get('User-Agent'),
          },
          identity.acr ? { acr: identity.acr } : {},
        );
      });
      setSessionCookie(koa, config, token);
      koa.redirect(returnTo);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/passkeys/registration/options',
      summary: 'Options to register a passkey (signed in, after a recent strong sign-in)',
      tag: 'Sign-in',
      security: 'session',
      use: [sameOrigin, signedIn, stepUp],
      responses: { 200: { description: 'PublicKeyCredentialCreationOptionsJSON', schema: webauthnOptions } },
    },
    async (koa) => {
      const session = sessionOf(koa);
      const party = (await findPartiesByIds(database.db, [session.partyId])).get(session.partyId);
      if (!party) throw new Error('session party missing');
      koa.body = await registrationOptions(database.db, config, session, party);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/passkeys/registration/verify',
      summary: 'Register the passkey the browser created',
      tag: 'Sign-in',
      security: 'session',
      body: registrationBody,
      use: [sameOrigin, signedIn],
      responses: { 201: { description: 'The new passkey', schema: passkeyView } },
    },
    async (koa, { body }) => {
      koa.status = 201;
      koa.body = await registerPasskey(passkeyDeps, sessionOf(koa), body);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/passkeys/authentication/options',
      summary: 'Options to sign in with a passkey (discoverable; no user named)',
      tag: 'Sign-in',
      use: [sameOrigin],
      responses: { 200: { description: 'PublicKeyCredentialRequestOptionsJSON', schema: webauthnOptions } },
    },
    async (koa) => {
      const ceremony = newToken();
      koa.body = await authenticationOptions(database.db, config, ceremony);
      shortCookie(koa, config, CEREMONY_COOKIE, ceremony, '/auth/passkeys', 2 * 60_000, 'strict');
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/passkeys/authentication/verify',
      summary: 'Sign in with a passkey; a strong sign-in for step-up',
      tag: 'Sign-in',
      body: authenticationBody,
      use: [sameOrigin],
      responses: { 204: { description: 'Signed in; session cookie set' } },
    },
    async (koa, { body }) => {
      const ceremony = koa.cookies.get(CEREMONY_COOKIE);
      shortCookie(koa, config, CEREMONY_COOKIE, '', '/auth/passkeys', 0, 'strict');
      const result = await verifyPasskeySignIn(passkeyDeps, ceremony, body);
      const token = await database.transaction(async (trx) => {
        await markUsed(trx, result.passkeyId, result.newCounter);
        return signIn(
          trx,
          config,
          {
            previousToken: koa.cookies.get(SESSION_COOKIE),
            partyId: result.partyId,
            method: 'passkey',
            assurance: result.assurance,
            strongAt: new Date(),
            userAgent: koa.get('User-Agent'),
          },
          { passkeyId: result.passkeyId },
        );
      });
      setSessionCookie(koa, config, token);
      koa.status = 204;
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/passkeys',
      summary: 'My passkeys',
      tag: 'Sign-in',
      security: 'session',
      use: [signedIn],
      responses: { 200: { description: 'Passkeys, newest first', schema: z.object({ items: z.array(passkeyView) }) } },
    },
    async (koa) => {
      koa.body = { items: await listPasskeys(database.db, sessionOf(koa).partyId) };
    },
  );

  api.add(
    {
      method: 'patch',
      path: '/api/passkeys/:id',
      summary: 'Rename one of my passkeys',
      tag: 'Sign-in',
      security: 'session',
      params: idParam,
      body: z.strictObject({ name: freeText(100).pipe(z.string().min(1)) }),
      use: [sameOrigin, signedIn],
      responses: { 200: { description: 'The passkey', schema: passkeyView } },
    },
    async (koa, { params, body }) => {
      koa.body = await renamePasskey(database, sessionOf(koa).partyId, params.id, body.name);
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/api/passkeys/:id',
      summary: 'Remove one of my passkeys',
      tag: 'Sign-in',
      security: 'session',
      params: idParam,
      use: [sameOrigin, signedIn],
      responses: { 204: { description: 'Removed' } },
    },
    async (koa, { params }) => {
      await removePasskey(database, sessionOf(koa).partyId, params.id);
      koa.status = 204;
    },
  );

  api.add(
    {
      method: 'get',
      path: '/api/sessions',
      summary: 'My active sessions',
      tag: 'Sign-in',
      security: 'session',
      use: [signedIn],
      responses: { 200: { description: 'Sessions, newest first', schema: z.object({ items: z.array(sessionView) }) } },
    },
    async (koa) => {
      const session = sessionOf(koa);
      const items = await listSessions(database.db, config, session.partyId, session.idHash);
      koa.body = {
        items: items.map((s) => ({
          ...s,
          assurance: assuranceName(s.assurance),
          createdAt: s.createdAt.toISOString(),
          lastSeenAt: s.lastSeenAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
        })),
      };
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/api/sessions/:id',
      summary: 'End one of my sessions (another device, or this one)',
      tag: 'Sign-in',
      security: 'session',
      params: idParam,
      use: [sameOrigin, signedIn],
      responses: { 204: { description: 'Ended' } },
    },
    async (koa, { params }) => {
      const session = sessionOf(koa);
      const ended = await database.transaction(async (trx) => {
        if (!(await endSession(trx, session.partyId, params.id))) return false;
        await appendAudit(trx, [
          { action: 'session-ended', actor: { type: 'person', partyId: session.partyId }, partyIds: [session.partyId], data: { sessionId: params.id } },
        ]);
        return true;
      });
      if (!ended) throw new ApiError(404, 'not-found', 'You have no session with that id.');
      if (params.id === session.publicId) clearSessionCookie(koa, config);
      koa.status = 204;
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/logout-everywhere',
      summary: 'Sign out on every device',
      tag: 'Sign-in',
      security: 'session',
      use: [sameOrigin, signedIn],
      responses: { 204: { description: 'Every session ended' } },
    },
    async (koa) => {
      const { partyId } = sessionOf(koa);
      await database.transaction(async (trx) => {
        const count = await endAllSessions(trx, partyId);
        await appendAudit(trx, [{ action: 'signed-out-everywhere', actor: { type: 'person', partyId }, partyIds: [partyId], data: { sessions: count } }]);
      });
      clearSessionCookie(koa, config);
      koa.status = 204;
    },
  );

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
      use: [signedIn],
      responses: { 200: { description: 'Me', schema: meView } },
    },
    async (koa) => {
      const session = sessionOf(koa);
      const party = (await findPartiesByIds(database.db, [session.partyId])).get(session.partyId);
      if (!party) throw new Error('session party missing');
      koa.body = {
        party: { type: 'person', id: party.nationalId },
        name: party.name,
        roles: config.officials.includes(party.nationalId) ? ['principal', 'agent', 'official'] : ['principal', 'agent'],
        assurance: assuranceName(session.assurance),
        signInMethod: session.method,
        strongSignInAt: session.strongAt ? session.strongAt.toISOString() : null,
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
      koa.body = await issueAccessToken(database.db, config, keys, ctx.agencyKeys, body, koa.get('Authorization') || undefined);
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
      await keys.reloadIfChanged();
      koa.set('Cache-Control', 'public, max-age=300');
      koa.body = keys.jwks();
    },
  );
}
