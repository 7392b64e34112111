import type { Context, Next } from 'koa';
import { findAgency } from '../agencies/repository.ts';
import { checkDepsOf } from '../checks/routes.ts';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { agencyOf, requireAgency } from '../identity/agency-tokens.ts';
import type { KeyRing } from '../identity/keys.ts';
import { PermissionCodes } from './codes.ts';
import { DfmError, validationError } from './errors.ts';
import { verifyIdToken } from './id-token.ts';
import {
  apiError,
  fullmaktMetadataResponse,
  fullmaktParams,
  fullmaktQuery,
  hamtaBehorigheterRequest,
  hamtaBehorigheterResponse,
  hamtaFullmakterRequest,
  hamtaFullmakterResponse,
  jwkSet,
  tredjemanParams,
} from './schema.ts';
import {
  type Caller,
  type FacadeDeps,
  readMandate,
  searchMandates,
  searchPermissions,
  tredjemanJwks,
  tredjemanOf,
  type UserScope,
} from './service.ts';

/** Where the consumer API lives, as in the published `servers` URL. */
export const DFM_PREFIX = '/dfm/formedlare/v2';

const USER_SCOPES: readonly UserScope[] = ['user:self', 'user:other', 'user:any'];
const SERVICE_NAME = /^[a-zA-Z0-9._-]{1,100}$/;
const TAG = 'Mina ombud compatibility (API för digitala fullmakter v2)';
const ERRORS = { description: 'ApiError, as the consumer API defines it', schema: apiError, contentType: 'application/json' };

const forbidden = (detail: string) => new DfmError(403, 'urn:dfm:error:auth', 'auth.error', detail);

/**
 * After the access token: the calling service names itself (`X-Service-Name`), the token carries
 * exactly one end-user scope, and `X-Id-Token` is required with `user:self` and `user:other` and
 * refused with `user:any`, as the consumer API and its clients do it.
 */
function requireCaller(ctx: AppContext) {
  return async (koa: Context, next: Next): Promise<void> => {
    const token = agencyOf(koa);
    const serviceName = koa.get('X-Service-Name');
    if (!SERVICE_NAME.test(serviceName)) {
      throw validationError('X-Service-Name is required: the calling e-service, characters [a-zA-Z0-9._-].', [
        { path: 'X-Service-Name', message: 'required, [a-zA-Z0-9._-]{1,100}' },
      ]);
    }
    const scopes = USER_SCOPES.filter((s) => token.scopes?.includes(s));
    const scope = scopes[0];
    if (scope === undefined || scopes.length !== 1) {
      throw forbidden('The access token must carry exactly one of the scopes user:self, user:other and user:any.');
    }
    const agency = await findAgency(ctx.database.db, token.id);
    if (!agency) throw new DfmError(403, 'urn:dfm:error:auth', 'klient.inaktiv', 'This client is no longer registered.');
    const tredjeman = tredjemanOf(agency);
    const idToken = koa.get('X-Id-Token');
    if (scope === 'user:any' && idToken) throw forbidden('X-Id-Token must not be sent with scope user:any.');
    if (scope !== 'user:any' && !idToken) throw forbidden(`X-Id-Token is required with scope ${scope}.`);
    const endUser = idToken ? await verifyIdToken(idToken, agency, ctx.agencyKeys) : undefined;
    if (scope === 'user:self' && endUser?.kind === 'username') {
      throw forbidden('With scope user:self the ID token must name the user by personal identity or co-ordination number.');
    }
    const requestId = koa.get('X-Request-Id');
    koa.state.caller = {
      tredjeman,
      // The agency's services as they are now, not as when the token was issued.
      agency: { id: agency.id, services: agency.services, scopes: token.scopes ?? [] },
      scope,
      ...(endUser ? { endUser } : {}),
      serviceName,
      ...(requestId ? { requestId } : {}),
    } satisfies Caller;
    await next();
  };
}

function callerOf(koa: Context): Caller {
  const caller = koa.state.caller as Caller | undefined;
  if (!caller) throw forbidden('Not authenticated.');
  return caller;
}

/**
 * The Mina ombud consumer API over our own mandates and check engine. Off when there are no RSA
 * keys to sign its answers with (production without `MINA_OMBUD_SIGNING_KEYS_FILE`).
 */
export function minaOmbudRoutes(api: ApiRouter, ctx: AppContext): void {
  const signer: KeyRing | undefined = ctx.minaOmbudKeys;
  if (!signer) return;
  const deps: FacadeDeps = {
    database: ctx.database,
    policies: ctx.policies,
    codes: new PermissionCodes(ctx.policies),
    signer,
    checks: checkDepsOf(ctx),
  };
  const use = [requireAgency(ctx.config, ctx.keys), requireCaller(ctx)];

  api.add(
    {
      method: 'post',
      path: `${DFM_PREFIX}/sok/behorigheter`,
      summary: 'Sök behörigheter: the permissions an agent holds at this tredje man, per principal, directly or through a firm, signed',
      tag: TAG,
      security: 'agency',
      body: hamtaBehorigheterRequest,
      use,
      errorResponse: ERRORS,
      responses: { 200: { description: 'Behörighetskontexter', schema: hamtaBehorigheterResponse } },
    },
    async (koa, { body }) => {
      koa.body = await searchPermissions(deps, callerOf(koa), body);
    },
  );

  api.add(
    {
      method: 'post',
      path: `${DFM_PREFIX}/sok/fullmakter`,
      summary: "Sök fullmakter: mandates at this tredje man naming an agent and/or a principal; with user:self the agent also finds a client's mandate to the firm they reach it through",
      tag: TAG,
      security: 'agency',
      body: hamtaFullmakterRequest,
      use,
      errorResponse: ERRORS,
      responses: { 200: { description: 'Fullmakter', schema: hamtaFullmakterResponse } },
    },
    async (koa, { body }) => {
      koa.body = await searchMandates(deps, callerOf(koa), body);
    },
  );

  api.add(
    {
      method: 'get',
      path: `${DFM_PREFIX}/tredjeman/:tredjeman/fullmakter/:fullmakt`,
      summary: "Hämta en fullmakt, signed; `utdelning` adds its sub-delegations. With user:self a client's mandate to a firm is shown to the firm's employee only as far as they reach it",
      tag: TAG,
      security: 'agency',
      params: fullmaktParams,
      query: fullmaktQuery,
      use,
      errorResponse: ERRORS,
      responses: { 200: { description: 'Fullmakt with metadata', schema: fullmaktMetadataResponse } },
    },
    async (koa, { params, query }) => {
      koa.body = await readMandate(deps, callerOf(koa), params.tredjeman, params.fullmakt, query.utdelning);
    },
  );

  api.add(
    {
      method: 'get',
      path: `${DFM_PREFIX}/tredjeman/:tredjeman/jwks`,
      summary: "The keys that verify this tredje man's signed answers (`_sig`)",
      tag: TAG,
      params: tredjemanParams,
      errorResponse: ERRORS,
      responses: { 200: { description: 'JSON Web Key Set', schema: jwkSet } },
    },
    async (koa, { params }) => {
      koa.set('Cache-Control', 'public, max-age=300');
      koa.body = await tredjemanJwks(deps, params.tredjeman);
    },
  );
}
