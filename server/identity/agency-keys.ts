import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import type { Agency } from '../agencies/repository.ts';

/**
 * The public keys an agency signs its client assertions with: the JWKS registered with it, or
 * the one it publishes at its JWKS URL. A published set is cached and fetched again when an
 * assertion names a `kid` it does not hold (the agency rotated), at most once per cooldown so
 * that made-up kids cannot turn us into a request amplifier.
 */
export class AgencyKeySets {
  private readonly remote = new Map<string, JWTVerifyGetKey>();

  constructor(private readonly options: { cacheMaxAgeMs: number; cooldownMs: number; timeoutMs: number }) {}

  for(agency: Agency): JWTVerifyGetKey {
    if (!agency.jwksUrl) return createLocalJWKSet(agency.jwks);
    let keys = this.remote.get(agency.jwksUrl);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(agency.jwksUrl), {
        cacheMaxAge: this.options.cacheMaxAgeMs,
        cooldownDuration: this.options.cooldownMs,
        timeoutDuration: this.options.timeoutMs,
      });
      this.remote.set(agency.jwksUrl, keys);
    }
    return keys;
  }
}

/**
 * Whether verifying failed because the agency's published keys could not be had (no answer, a
 * timeout, not a key set) rather than on the token itself; either way the token is refused.
 */
export function keysUnavailable(err: unknown): boolean {
  return !(err instanceof joseErrors.JOSEError) || err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid;
}
