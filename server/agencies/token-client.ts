import { randomUUID } from 'node:crypto';
import { type CryptoKey, SignJWT } from 'jose';

/**
 * The agency's side of `POST /oauth/token` with `private_key_jwt`, as an agency's own client
 * would do it: the demo command, the tests and the benchmark all ask this one way.
 */
export interface AssertionKey {
  agencyId: string;
  kid: string;
  privateKey: CryptoKey;
}

/** A client assertion for our token endpoint, valid for `lifetimeSeconds` (at most 300 is accepted). */
export function signClientAssertion(tokenUrl: string, key: AssertionKey, lifetimeSeconds = 120): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(key.agencyId)
    .setSubject(key.agencyId)
    .setAudience(tokenUrl)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSeconds)
    .sign(key.privateKey);
}

/** Sends the client-credentials request; the caller reads the response (tests look at refusals too). */
export function requestAccessToken(tokenUrl: string, clientAssertion: string): Promise<Response> {
  return fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
    }),
  });
}
