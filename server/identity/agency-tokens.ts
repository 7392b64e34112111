import type { Context, Next } from 'koa';
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { findAgency, recordAssertion } from '../agencies/repository.ts';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError, type ErrorCode } from '../http/errors.ts';
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
});

export const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
});

/** The agency an access token was issued to, as its claims say. */
export interface AgencyPrincipal {
  id: string;
  services: readonly string[];
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

/**
 * Client credentials with `private_key_jwt` (RFC 7523): the agency signs an assertion with a
 * key it registered; we check issuer = subject = the agency, our token endpoint as audience,
 * a short lifetime and a `jti` never seen before, then issue a short-lived access token.
 */
export async function issueAccessToken(
  db: Queryable,
  config: Config,
  keys: KeyRing,
  form: z.infer<typeof tokenRequest>,
): Promise<z.infer<typeof tokenResponse>> {
  if (form.grant_type !== 'client_credentials') {
    throw oauthError(400, 'unsupported-grant-type', 'unsupported_grant_type', 'Only client_credentials is supported.');
  }
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
    ({ payload } = await jwtVerify(form.client_assertion, createLocalJWKSet(agency.jwks), {
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
  const accessToken = await keys.sign(
    { sub: agency.id, services: agency.services },
    { typ: ACCESS_TOKEN_TYP, issuer: config.publicUrl, audience: apiAudience(config), expiresInSeconds: config.accessTokenSeconds },
  );
  return { access_token: accessToken, token_type: 'Bearer', expires_in: config.accessTokenSeconds };
}

/** Route guard for agency endpoints: a valid Bearer access token we issued. */
export function requireAgency(config: Config, keys: KeyRing) {
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
    try {
      const { payload } = await keys.verify(match[1] as string, {
        typ: ACCESS_TOKEN_TYP,
        issuer: config.publicUrl,
        audience: apiAudience(config),
      });
      const services = Array.isArray(payload.services) ? payload.services.filter((s) => typeof s === 'string') : [];
      if (typeof payload.sub !== 'string') throw fail('The access token names no agency.');
      ctx.state.agency = { id: payload.sub, services } satisfies AgencyPrincipal;
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
