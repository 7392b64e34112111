import type { Context, Next } from 'koa';
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { type Agency, findAgency, recordAssertion } from '../agencies/repository.ts';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError, type ErrorCode } from '../http/errors.ts';
import { type AgencyKeySets, keysUnavailable } from './agency-keys.ts';
import { verifyClientSecret } from './client-secret.ts';
import type { KeyRing } from './keys.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Client assertions may use these algorithms only; `none` and HMAC never. */
const ASSERTION_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'];
const MAX_ASSERTION_LIFETIME_S = 300;
const CLOCK_SKEW_S = 30;
const ACCESS_TOKEN_TYP = 'at+jwt';

export const tokenRequest = z.object({
  grant_type: z.string().max(100),
  client_assertion_type: z.string().max(200).optional(),
  client_assertion: z.string().max(8192).optional(),
  scope: z.string().max(200).optional(),
  client_id: z.string().max(100).optional(),
  client_secret: z.string().max(500).optional(),
});

export const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: z.string().optional(),
});

/** The agency an access token was issued to, as its claims say. */
export interface AgencyPrincipal {
  id: string;
  services: readonly string[];
  /** The OAuth scopes granted to this token (e.g. `user:self`); none for a plain v1 token. */
  scopes?: readonly string[];
}

/** OAuth errors carry RFC 6749's `error` member beside our problem fields. */
function oauthError(status: number, code: ErrorCode, error: string, detail: string): ApiError {
  return new ApiError(status, code, detail, { error, error_description: detail });
}

const invalidClient = (detail: string) => oauthError(401, 'invalid-client', 'invalid_client', detail);

export function tokenEndpointUrl(config: Config): string {
  return `${config.publicUrl}/oauth/token`;
}

function apiAudience(config: Config): string {
  return `${config.publicUrl}/api/v1`;
}

type TokenForm = z.infer<typeof tokenRequest>;

/**
 * Client credentials. Two ways to authenticate: `private_key_jwt` (RFC 7523), our own, and a
 * client secret sent as HTTP Basic or in the form (RFC 6749 §2.3.1), as Mina ombud's clients do.
 * Exactly one may be used. Requested scopes must all have been given to the agency.
 */
export async function issueAccessToken(
  db: Queryable,
  config: Config,
  keys: KeyRing,
  agencyKeys: AgencyKeySets,
  form: TokenForm,
  authorization?: string,
): Promise<z.infer<typeof tokenResponse>> {
  if (form.grant_type !== 'client_credentials') {
    throw oauthError(400, 'unsupported-grant-type', 'unsupported_grant_type', 'Only client_credentials is supported.');
  }
  const basic = authorization ? parseBasic(authorization) : undefined;
  const bySecret = basic !== undefined || form.client_secret !== undefined;
  const byAssertion = form.client_assertion !== undefined || form.client_assertion_type !== undefined;
  if ((basic && form.client_secret !== undefined) || (bySecret && byAssertion)) {
    throw oauthError(400, 'invalid-request', 'invalid_request', 'Use exactly one way to authenticate the client.');
  }
  const agency = bySecret ? await authenticateBySecret(db, form, basic) : await authenticateByAssertion(db, config, agencyKeys, form);
  const scopes = grantedScopes(agency, form.scope);
  const accessToken = await keys.sign(
    { sub: agency.id, services: agency.services, ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}) },
    { typ: ACCESS_TOKEN_TYP, issuer: config.publicUrl, audience: apiAudience(config), expiresInSeconds: config.accessTokenSeconds },
  );
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: config.accessTokenSeconds,
    ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
  };
}

/** `Basic base64(urlencode(id):urlencode(secret))`; anything else in the header is a failed authentication. */
function parseBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  const decoded = match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 1) throw invalidClient('The Authorization header must be HTTP Basic with the client id and secret.');
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient('The client id or secret is not correctly encoded.');
  }
}

async function authenticateBySecret(
  db: Queryable,
  form: TokenForm,
  basic: { clientId: string; secret: string } | undefined,
): Promise<Agency> {
  const clientId = basic?.clientId ?? form.client_id;
  const secret = basic?.secret ?? form.client_secret;
  if (!clientId || secret === undefined) throw invalidClient('Send client_id and client_secret.');
  if (basic && form.client_id !== undefined && form.client_id !== basic.clientId) {
    throw invalidClient('client_id and the Basic credentials differ.');
  }
  const agency = clientId.length <= 100 ? await findAgency(db, clientId) : undefined;
  // An unknown client costs as much time as a wrong secret: no oracle for agency ids.
  const ok = await verifyClientSecret(secret, agency?.clientSecretHash);
  if (!agency || !ok) throw invalidClient('Unknown client or wrong client secret.');
  return agency;
}

function grantedScopes(agency: Agency, requested: string | undefined): string[] {
  const scopes = [...new Set((requested ?? '').split(' ').filter((s) => s.length > 0))].sort();
  const allowed = new Set(agency.tokenScopes ?? []);
  const refused = scopes.filter((s) => !allowed.has(s));
  if (refused.length > 0) {
    throw oauthError(400, 'invalid-scope', 'invalid_scope', `This client may not ask for: ${refused.join(' ')}.`);
  }
  return scopes;
}

/**
 * `private_key_jwt` (RFC 7523): the agency signs an assertion with a key it registered; we check
 * issuer = subject = the agency, our token endpoint as audience, a short lifetime and a `jti`
 * never seen before.
 */
async function authenticateByAssertion(db: Queryable, config: Config, agencyKeys: AgencyKeySets, form: TokenForm): Promise<Agency> {
  if (form.client_assertion_type !== JWT_BEARER || !form.client_assertion) {
    throw invalidClient(`Authenticate with client_assertion_type=${JWT_BEARER} and a signed client_assertion.`);
  }
  let claimedIssuer: unknown;
  try {
    claimedIssuer = decodeJwt(form.client_assertion).iss;
  } catch {
    throw invalidClient('The client assertion is not a JWT.');
  }
  if (typeof claimedIssuer !== 'string' || claimedIssuer.length > 100) throw invalidClient('The client assertion has no issuer.');
  if (form.client_id !== undefined && form.client_id !== claimedIssuer) throw invalidClient('client_id and the assertion issuer differ.');
  const agency = await findAgency(db, claimedIssuer);
  if (!agency) throw invalidClient('Unknown client.');

  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(form.client_assertion, agencyKeys.for(agency), {
      algorithms: ASSERTION_ALGS,
      issuer: agency.id,
      subject: agency.id,
      audience: tokenEndpointUrl(config),
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_S,
    }));
  } catch (err) {
    const detail =
      err instanceof joseErrors.JWTExpired
        ? 'The client assertion has expired.'
        : err instanceof joseErrors.JWTClaimValidationFailed
          ? `The client assertion's ${err.claim} claim is not accepted.`
          : keysUnavailable(err)
            ? "The agency's published keys could not be fetched."
            : 'The client assertion signature does not verify with the registered keys.';
    throw invalidClient(detail);
  }
  const nowS = Math.floor(Date.now() / 1000);
  const exp = payload.exp as number;
  if (exp - nowS > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
    throw invalidClient(`The client assertion may be valid for at most ${MAX_ASSERTION_LIFETIME_S} seconds.`);
  }
  const jti = payload.jti as string;
  if (jti.length === 0 || jti.length > 200) throw invalidClient('The client assertion jti is not accepted.');
  if (!(await recordAssertion(db, agency.id, jti, new Date(exp * 1000)))) {
    throw oauthError(400, 'invalid-grant', 'invalid_grant', 'This client assertion was already used.');
  }
  return agency;
}

const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Access tokens we verified, by their exact text, with the agency they name, their expiry and
 * the key that signed them. A token cannot change, so its signature and claims need checking
 * only once; the expiry, and that its key is still published, are checked on every request.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { agency: AgencyPrincipal; expiresAtMs: number; kid: string }>();

  async get(token: string, keys: KeyRing): Promise<AgencyPrincipal | undefined> {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= Date.now() || !(await keys.isLive(entry.kid))) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.agency;
  }

  set(token: string, agency: AgencyPrincipal, expiresAtMs: number, kid: string): void {
    // Agencies hold few live tokens; a full map means old ones piled up, so start afresh.
    if (this.entries.size >= VERIFIED_CACHE_SIZE) this.entries.clear();
    this.entries.set(token, { agency, expiresAtMs, kid });
  }
}

/** Route guard for agency endpoints: a valid Bearer access token we issued. */
export function requireAgency(config: Config, keys: KeyRing) {
  const verified = new VerifiedTokens();
  return async (ctx: Context, next: Next): Promise<void> => {
    const header = ctx.get('Authorization');
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
    const fail = (detail: string) => {
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      return new ApiError(401, 'invalid-token', detail);
    };
    if (!match) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new ApiError(401, 'unauthenticated', 'Send an access token from /oauth/token as a Bearer token.');
    }
    const token = match[1] as string;
    const known = await verified.get(token, keys);
    if (known) {
      ctx.state.agency = known;
      await next();
      return;
    }
    try {
      const { payload, protectedHeader } = await keys.verify(token, {
        typ: ACCESS_TOKEN_TYP,
        issuer: config.publicUrl,
        audience: apiAudience(config),
      });
      const services = Array.isArray(payload.services) ? payload.services.filter((s) => typeof s === 'string') : [];
      if (typeof payload.sub !== 'string') throw fail('The access token names no agency.');
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter((s) => s.length > 0) : [];
      const agency: AgencyPrincipal = { id: payload.sub, services, scopes };
      // Our tokens always carry exp; one without it would simply be verified every time.
      if (typeof payload.exp === 'number' && protectedHeader.kid) verified.set(token, agency, payload.exp * 1000, protectedHeader.kid);
      ctx.state.agency = agency;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw fail(err instanceof joseErrors.JWTExpired ? 'The access token has expired.' : 'The access token is not valid.');
    }
    await next();
  };
}

export function agencyOf(ctx: Context): AgencyPrincipal {
  const agency = ctx.state.agency as AgencyPrincipal | undefined;
  if (!agency) throw new ApiError(401, 'unauthenticated', 'Send an access token as a Bearer token.');
  return agency;
}
