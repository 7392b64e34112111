import { AsyncLocalStorage } from 'node:async_hooks';
import { compactVerify, createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { ASSURANCE, type Config, type OidcConfig } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { findPartyByRef } from '../parties/repository.ts';
import { InvalidIdentityNumberError, parsePersonNumber } from './identity-number.ts';
import { refuse, type SecurityDeps, type SecurityEventKind } from './security-events.ts';
import { hashToken, newToken } from './sessions.ts';

/** An authorization request must be completed within this time. */
const FLOW_MS = 10 * 60_000;
const CLOCK_TOLERANCE_S = 30;
export const OIDC_FLOW_COOKIE = 'ombud_oidc';

/** What a verified ID token says about the person who signed in. */
export interface OidcIdentity {
  personalNumber: string;
  name: string | null;
  acr: string | null;
  assurance: number;
  /** When the person actually authenticated at the provider (`auth_time`), which may precede this sign-in. */
  authenticatedAt: Date;
}

interface Provider {
  configuration: client.Configuration;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

/** Same-origin paths only: `/x`, never `//host` or `/\host`, which browsers treat as other origins. */
export function safeReturnTo(value: string | undefined): string | undefined {
  if (value === undefined) return '/';
  if (value.length > 500 || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  // Control characters (including tab and newline, which URL parsing drops) could smuggle a host.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined;
  return value;
}

/**
 * e-ID sign-in through any OpenID provider: authorization code with PKCE, `state` and `nonce`.
 * openid-client does discovery, the code exchange and its checks of the response; the ID token is
 * then verified again with jose against the discovered JWKS, with issuer, audience, expiry, nonce
 * and one algorithm pinned, because openid-client does not check the signature of an ID token
 * that came straight from the token endpoint.
 */
export class OidcSignIn {
  private provider: Promise<Provider> | undefined;
  /** The raw token response of the exchange running in this async context, to attribute failures. */
  private readonly exchange = new AsyncLocalStorage<{ idToken?: string }>();

  constructor(
    private readonly oidc: OidcConfig,
    private readonly redirectUri: string,
    private readonly allowHttp: boolean,
    /** `max_age`: a provider's single sign-on older than this must authenticate the person again. */
    private readonly maxAgeSeconds: number,
    private readonly deps: SecurityDeps,
  ) {}

  static fromConfig(config: Config, deps: SecurityDeps): OidcSignIn | undefined {
    if (!config.oidc) return undefined;
    const allowHttp = config.mode !== 'production' && config.oidc.issuer.startsWith('http://');
    return new OidcSignIn(config.oidc, `${config.publicUrl}/auth/oidc/callback`, allowHttp, Math.round(config.stepUpMs / 1000), deps);
  }

  /** Discovery runs once and is kept; a failed attempt is forgotten so the next sign-in retries. */
  private discover(): Promise<Provider> {
    this.provider ??= this.load().catch((err: unknown) => {
      this.provider = undefined;
      this.deps.logger.error({ err, issuer: this.oidc.issuer }, 'OpenID provider discovery failed');
      throw new ApiError(503, 'sign-in-unavailable', 'e-ID sign-in is unavailable right now; try again shortly.');
    });
    return this.provider;
  }

  private async load(): Promise<Provider> {
    const metadata: Partial<client.ClientMetadata> = {
      id_token_signed_response_alg: this.oidc.idTokenAlg,
      ...(this.oidc.clientSecret ? { client_secret: this.oidc.clientSecret } : {}),
    };
    const auth = this.oidc.clientSecret ? client.ClientSecretBasic(this.oidc.clientSecret) : client.None();
    const configuration = await client.discovery(
      new URL(this.oidc.issuer),
      this.oidc.clientId,
      metadata,
      auth,
      this.allowHttp ? { execute: [client.allowInsecureRequests] } : undefined,
    );
    const meta = configuration.serverMetadata();
    if (!meta.jwks_uri) throw new Error('the provider publishes no jwks_uri');
    const tokenEndpoint = meta.token_endpoint;
    configuration[client.customFetch] = async (url, options) => {
      const response = await fetch(url, options as RequestInit);
      const store = this.exchange.getStore();
      if (store && url === tokenEndpoint && response.ok) {
        const body = (await response
          .clone()
          .json()
          .catch(() => undefined)) as { id_token?: unknown } | undefined;
        if (typeof body?.id_token === 'string') store.idToken = body.id_token;
      }
      return response;
    };
    return { configuration, jwks: createRemoteJWKSet(new URL(meta.jwks_uri)) };
  }

  /** Starts a sign-in: the provider URL to redirect to and the flow row to keep. */
  async start(db: Queryable, returnTo: string): Promise<{ url: string; flowId: string }> {
    const { configuration } = await this.discover();
    const flowId = newToken();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.oidc.scopes,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // A sign-in counts for step-up only if the person authenticated recently, not through an old single sign-on.
      max_age: String(this.maxAgeSeconds),
      ...(this.oidc.acrValues ? { acr_values: this.oidc.acrValues } : {}),
    });
    await db.deleteFrom('oidc_flows').where('expires_at', '<', new Date()).execute();
    await db
      .insertInto('oidc_flows')
      .values({
        flow_hash: hashToken(flowId),
        state,
        nonce,
        code_verifier: codeVerifier,
        return_to: returnTo,
        expires_at: new Date(Date.now() + FLOW_MS),
      })
      .execute();
    return { url: url.href, flowId };
  }

  /**
   * Completes a sign-in from the provider's redirect. The flow row is taken (deleted) first, so a
   * callback can be used once; every failure is a 4xx and a security event.
   */
  async finish(
    db: Queryable,
    flowId: string | undefined,
    query: { state?: string | undefined; error?: string | undefined },
    search: string,
  ): Promise<{ identity: OidcIdentity; returnTo: string }> {
    const flow = flowId
      ? await db.deleteFrom('oidc_flows').where('flow_hash', '=', hashToken(flowId)).returningAll().executeTakeFirst()
      : undefined;
    if (!flow || flow.expires_at.getTime() < Date.now()) {
      throw await this.fail('oidc-flow-missing', 400, 'No e-ID sign-in was started in this browser, or it took too long. Start again.');
    }
    if (query.state !== flow.state) {
      throw await this.fail('oidc-state-mismatch', 400, 'The answer from the e-ID provider does not belong to this sign-in. Start again.');
    }
    if (query.error !== undefined) {
      throw await this.fail('oidc-provider-error', 401, 'The e-ID provider did not complete the sign-in.', undefined, {
        error: query.error.slice(0, 64),
      });
    }
    const provider = await this.discover();
    const store: { idToken?: string } = {};
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await this.exchange.run(store, () =>
        client.authorizationCodeGrant(provider.configuration, new URL(`${this.redirectUri}${search}`), {
          pkceCodeVerifier: flow.code_verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
          maxAge: this.maxAgeSeconds,
        }),
      );
    } catch (err) {
      if (err instanceof ApiError) throw err;
      // fetch rejects with a TypeError when the provider cannot be reached: an outage, not an attack.
      if (err instanceof TypeError || (err instanceof DOMException && err.name === 'TimeoutError')) {
        this.deps.logger.error({ err, issuer: this.oidc.issuer }, 'OpenID provider unreachable at the token endpoint');
        throw new ApiError(503, 'sign-in-unavailable', 'e-ID sign-in is unavailable right now; try again shortly.');
      }
      const kind = classify(err);
      const partyId = store.idToken ? await this.provenParty(db, provider, store.idToken) : undefined;
      throw await this.fail(kind, 401, DETAILS[kind] ?? 'The e-ID sign-in could not be verified.', partyId);
    }
    const idToken = tokens.id_token as string;
    const payload = await this.verifyIdToken(provider, idToken, flow.nonce);
    const claims = await this.withUserInfo(provider, payload, tokens.access_token);
    const claim = claims[this.oidc.personalNumberClaim];
    let personalNumber: string;
    try {
      if (typeof claim !== 'string') throw new InvalidIdentityNumberError('missing');
      personalNumber = parsePersonNumber(claim).value;
    } catch (err) {
      if (!(err instanceof InvalidIdentityNumberError)) throw err;
      throw await this.fail('id-token-claim-missing', 401, 'The e-ID provider did not send a valid personal identity number.', undefined, {
        claim: this.oidc.personalNumberClaim,
      });
    }
    const acr = typeof payload.acr === 'string' ? payload.acr : null;
    const name = typeof claims.name === 'string' ? claims.name.slice(0, 200) : null;
    const authTime = typeof payload.auth_time === 'number' ? new Date(payload.auth_time * 1000) : new Date();
    return {
      identity: {
        personalNumber,
        name,
        acr,
        assurance: (acr && this.oidc.acrLevels[acr]) || ASSURANCE.unknown,
        authenticatedAt: authTime.getTime() > Date.now() ? new Date() : authTime,
      },
      returnTo: flow.return_to,
    };
  }

  /**
   * Providers that keep scope claims out of the ID token (OpenID Connect Core 5.4) answer them at
   * the UserInfo endpoint; it is asked only when the personal number is not in the ID token, and
   * its `sub` must be the ID token's. Identity and assurance still come from the verified ID token.
   */
  private async withUserInfo(provider: Provider, payload: JWTPayload, accessToken: string): Promise<Record<string, unknown>> {
    if (payload[this.oidc.personalNumberClaim] !== undefined || !provider.configuration.serverMetadata().userinfo_endpoint) return payload;
    try {
      const info = await client.fetchUserInfo(provider.configuration, accessToken, payload.sub as string);
      return { ...payload, [this.oidc.personalNumberClaim]: info[this.oidc.personalNumberClaim], name: payload.name ?? info.name };
    } catch (err) {
      if (err instanceof TypeError) throw new ApiError(503, 'sign-in-unavailable', 'e-ID sign-in is unavailable right now; try again shortly.');
      return payload;
    }
  }

  private async verifyIdToken(provider: Provider, idToken: string, nonce: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(idToken, provider.jwks, {
        algorithms: [this.oidc.idTokenAlg],
        issuer: provider.configuration.serverMetadata().issuer,
        audience: this.oidc.clientId,
        requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      if (payload.nonce !== nonce) throw await this.fail('oidc-nonce-mismatch', 401, DETAILS['oidc-nonce-mismatch'] as string);
      return payload;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const kind: SecurityEventKind =
        err instanceof joseErrors.JWTExpired
          ? 'id-token-expired'
          : err instanceof joseErrors.JWTClaimValidationFailed
            ? err.claim === 'iss'
              ? 'id-token-wrong-issuer'
              : err.claim === 'aud'
                ? 'id-token-wrong-audience'
                : 'id-token-invalid'
            : 'id-token-forged';
      throw await this.fail(kind, 401, DETAILS[kind] ?? 'The e-ID sign-in could not be verified.');
    }
  }

  /**
   * The party an ID token names, only if the provider really signed it (an expired token, or
   * one for another sign-in, still proves who it was about). Never creates a party.
   */
  private async provenParty(db: Queryable, provider: Provider, idToken: string): Promise<string | undefined> {
    try {
      const { payload } = await compactVerify(idToken, provider.jwks, { algorithms: [this.oidc.idTokenAlg] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      const claim = claims[this.oidc.personalNumberClaim];
      if (typeof claim !== 'string') return undefined;
      const party = await findPartyByRef(db, { type: 'person', id: parsePersonNumber(claim).value });
      return party?.id;
    } catch {
      return undefined;
    }
  }

  private fail(kind: SecurityEventKind, status: number, detail: string, partyId?: string, data?: Record<string, string>) {
    return refuse(this.deps, { kind, method: 'oidc', ...(partyId ? { partyId } : {}), ...(data ? { data } : {}) }, { status, detail });
  }
}

const DETAILS: Partial<Record<SecurityEventKind, string>> = {
  'oidc-nonce-mismatch': 'The ID token was issued for another sign-in.',
  'oidc-code-rejected': 'The e-ID provider did not accept the sign-in code; start again.',
  'id-token-expired': 'The ID token has expired; start again.',
  'id-token-wrong-issuer': 'The ID token was issued by another provider.',
  'id-token-wrong-audience': 'The ID token was issued to another service.',
  'id-token-forged': 'The ID token signature does not verify with the provider’s keys.',
};

/** Maps openid-client's failures (by class and code, never by message) to a security event. */
function classify(err: unknown): SecurityEventKind {
  if (err instanceof client.ResponseBodyError) return 'oidc-code-rejected';
  if (err instanceof client.AuthorizationResponseError) return 'oidc-provider-error';
  // openid-client wraps oauth4webapi's error, whose own `cause` names the claim.
  const inner = (err as { cause?: { code?: unknown; claim?: unknown; cause?: { claim?: unknown } } }).cause;
  const code = (err as { code?: unknown }).code ?? inner?.code;
  const claim = inner?.cause?.claim ?? inner?.claim;
  if (code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return claim === 'exp' ? 'id-token-expired' : 'id-token-invalid';
  if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') {
    if (claim === 'nonce') return 'oidc-nonce-mismatch';
    if (claim === 'iss') return 'id-token-wrong-issuer';
    if (claim === 'aud' || claim === 'azp') return 'id-token-wrong-audience';
  }
  return 'id-token-invalid';
}
