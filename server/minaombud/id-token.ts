import { errors as joseErrors, type JWTPayload, jwtVerify } from 'jose';
import type { Agency } from '../agencies/repository.ts';
import { type AgencyKeySets, keysUnavailable } from '../identity/agency-keys.ts';
import { InvalidIdentityNumberError, parsePersonNumber } from '../identity/identity-number.ts';
import { DfmError } from './errors.ts';

/** The end user a calling service vouches for in `X-Id-Token`. */
export type EndUser =
  | { kind: 'pnr' | 'samnr'; id: string; assurance?: Assurance }
  | { kind: 'username'; id: string; assurance?: Assurance };

type Assurance = 'low' | 'substantial' | 'high';

/** Mina ombud asks for RS256/384/512; our agencies' own keys are usually EC or Ed25519. */
const ID_TOKEN_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256', 'EdDSA'];
const CLOCK_SKEW_S = 30;
const PERSONAL_NUMBER = 'https://claims.oidc.se/1.0/personalNumber';
const COORDINATION_NUMBER = 'https://claims.oidc.se/1.0/coordinationNumber';

/** OIDC Sweden's levels of assurance (`acr`) in the terms our policies use. */
const ACR: Record<string, Assurance> = {
  'http://id.elegnamnden.se/loa/1.0/loa2': 'low',
  'http://id.elegnamnden.se/loa/1.0/loa3': 'substantial',
  'http://id.elegnamnden.se/loa/1.0/loa4': 'high',
  'http://id.swedenconnect.se/loa/1.0/uncertified-loa2': 'low',
  'http://id.swedenconnect.se/loa/1.0/uncertified-loa3': 'substantial',
};

const denied = (detail: string) => new DfmError(401, 'urn:dfm:error:auth', 'auth.error', detail);

function personFrom(claim: unknown, kind: 'pnr' | 'samnr'): string {
  if (typeof claim !== 'string') throw denied(`The ID token's ${kind === 'pnr' ? PERSONAL_NUMBER : COORDINATION_NUMBER} claim must be a string.`);
  try {
    const parsed = parsePersonNumber(claim);
    if ((parsed.kind === 'samordningsnummer') !== (kind === 'samnr')) throw new InvalidIdentityNumberError('wrong kind');
    return parsed.value;
  } catch (err) {
    if (err instanceof InvalidIdentityNumberError) throw denied('The ID token names the user with an invalid identity number.');
    throw err;
  }
}

function endUserOf(payload: JWTPayload): EndUser {
  const acr = typeof payload.acr === 'string' ? ACR[payload.acr] : undefined;
  const extra = acr ? { assurance: acr } : {};
  if (payload[PERSONAL_NUMBER] !== undefined) return { kind: 'pnr', id: personFrom(payload[PERSONAL_NUMBER], 'pnr'), ...extra };
  if (payload[COORDINATION_NUMBER] !== undefined) return { kind: 'samnr', id: personFrom(payload[COORDINATION_NUMBER], 'samnr'), ...extra };
  const username = payload.preferred_username;
  if (typeof username === 'string' && username.length > 0 && username.length <= 200) return { kind: 'username', id: username, ...extra };
  throw denied(`The ID token names no user (${PERSONAL_NUMBER}, ${COORDINATION_NUMBER} or preferred_username).`);
}

/**
 * Verifies the JWS a calling service signs about its end user, with the keys its agency
 * registered or publishes at its JWKS URL (cached, fetched again for an unknown `kid`; when
 * they cannot be fetched the token is refused), and the issuer and audience the agency
 * registered (when it did). As Mina ombud requires: `kid` and `alg` in the header, `typ`
 * absent or `JWT`, `sub` present, and `azp` when there are several audiences. We also require
 * `exp` so that a leaked token stops working.
 */
export async function verifyIdToken(token: string, agency: Agency, agencyKeys: AgencyKeySets): Promise<EndUser> {
  if (token.length > 16_384) throw denied('The ID token is too large.');
  try {
    const { payload, protectedHeader } = await jwtVerify(token, agencyKeys.for(agency), {
      algorithms: ID_TOKEN_ALGS,
      requiredClaims: ['sub', 'exp'],
      clockTolerance: CLOCK_SKEW_S,
      ...(agency.idTokenIssuer ? { issuer: agency.idTokenIssuer } : {}),
      ...(agency.idTokenAudience ? { audience: agency.idTokenAudience } : {}),
    });
    if (!protectedHeader.kid) throw denied('The ID token header has no kid.');
    if (protectedHeader.typ !== undefined && protectedHeader.typ.toUpperCase() !== 'JWT') throw denied('The ID token typ must be JWT or absent.');
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && typeof payload.azp !== 'string') {
      throw denied('An ID token with several audiences must name azp.');
    }
    return endUserOf(payload);
  } catch (err) {
    if (err instanceof DfmError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw denied('The ID token has expired.');
    if (err instanceof joseErrors.JWTClaimValidationFailed) throw denied(`The ID token's ${err.claim} claim is not accepted.`);
    if (keysUnavailable(err)) throw denied("The agency's published keys could not be fetched.");
    throw denied("The ID token does not verify with the agency's registered keys.");
  }
}
