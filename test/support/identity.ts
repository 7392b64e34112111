import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWTPayload, SignJWT, type CryptoKey } from 'jose';
import Provider from 'oidc-provider';

export const PERSONAL_NUMBER_CLAIM = 'https://claims.oidc.se/1.0/personalNumber';
export const LOA3 = 'http://id.elegnamnden.se/loa/1.0/loa3';
export const LOA2 = 'http://id.elegnamnden.se/loa/1.0/loa2';

/** Who the next sign-in at the test provider is, and what it says about them. */
export interface TestAccount {
  personalNumber?: string;
  acr: string;
  name?: string;
}

/** A rewrite of the ID token on its way out of the token endpoint, signed with `key`. */
export type Tamper = (claims: JWTPayload, keys: { provider: CryptoKey; stranger: CryptoKey }) => { claims: JWTPayload; key: 'provider' | 'stranger' };

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  account: TestAccount;
  tamper: Tamper | undefined;
  /** Registers the client, once the service's redirect URI is known. */
  register(redirectUri: string): void;
  close(): Promise<void>;
}

/**
 * A real, certified OpenID provider (`oidc-provider`) on loopback. Its login step signs in
 * `account` without a form; consent is implied for the one client. Scope claims go into the ID
 * token unless `claimsInIdToken` is false. `tamper` rewrites ID tokens
 * leaving the token endpoint, re-signed with the provider's own key or a stranger's.
 */
export async function startOidcProvider(options: { claimsInIdToken?: boolean } = {}): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const signing = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256');
  const kid = 'provider-key-1';
  const privateJwk = { ...(await exportJWK(signing.privateKey)), kid, alg: 'RS256', use: 'sig' };
  const state: TestProvider = {
    issuer,
    clientId: 'ombud',
    clientSecret: randomBytes(24).toString('base64url'),
    account: { personalNumber: '191212121212', acr: LOA3 },
    tamper: undefined,
    register: () => undefined,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  state.register = (redirectUri: string) => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: state.clientId,
          client_secret: state.clientSecret,
          redirect_uris: [redirectUri],
          response_types: ['code'],
          grant_types: ['authorization_code'],
          id_token_signed_response_alg: 'RS256',
        },
      ],
      jwks: { keys: [privateJwk] },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      claims: { openid: ['sub'], profile: ['name', PERSONAL_NUMBER_CLAIM], acr: null },
      // Conforming providers put scope claims only at the UserInfo endpoint when an access token is issued.
      conformIdTokenClaims: options.claimsInIdToken === false,
      acrValues: [LOA2, LOA3],
      pkce: { required: () => true },
      ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Session: 3600, Grant: 3600 },
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx, sub) => ({
        accountId: sub,
        claims: () => ({
          sub,
          ...(state.account.name ? { name: state.account.name } : {}),
          ...(state.account.personalNumber ? { [PERSONAL_NUMBER_CLAIM]: state.account.personalNumber } : {}),
        }),
      }),
      loadExistingGrant: async (ctx) => {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope('openid profile');
        grant.addOIDCClaims(['name', PERSONAL_NUMBER_CLAIM, 'acr']);
        await grant.save();
        return grant;
      },
    });
    provider.use(async (ctx, next) => {
      if (ctx.path.startsWith('/interaction/')) {
        const accountId = `acct-${state.account.personalNumber ?? 'none'}`;
        await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId, acr: state.account.acr } }, { mergeWithLastSubmission: false });
        ctx.respond = false;
        return;
      }
      await next();
      const body = ctx.body as { id_token?: string } | undefined;
      if (ctx.path === '/token' && state.tamper && typeof body?.id_token === 'string') {
        const { claims, key } = state.tamper(decodeJwt(body.id_token), { provider: signing.privateKey, stranger: stranger.privateKey });
        body.id_token = await new SignJWT(claims).setProtectedHeader({ ...decodeProtectedHeader(body.id_token), alg: 'RS256', kid }).sign(key === 'provider' ? signing.privateKey : stranger.privateKey);
      }
    });
    server.on('request', provider.callback());
  };
  return state;
}

/** A minimal browser: follows redirects and keeps cookies per origin. */
export class CookieBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  cookies(origin: string): Map<string, string> {
    let cookies = this.jar.get(origin);
    if (!cookies) this.jar.set(origin, (cookies = new Map()));
    return cookies;
  }

  async fetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
    const target = new URL(url);
    const cookies = this.cookies(target.origin);
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq).trim();
      const value = (pair as string).slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return res;
  }

  /** Follows redirects until one points at `stop` (returned unfollowed) or a page answers. */
  async follow(url: string, stop: string): Promise<{ url: string; response?: Response }> {
    let next = url;
    for (let hop = 0; hop < 20; hop++) {
      if (next.startsWith(stop)) return { url: next };
      const res = await this.fetch(next);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: next, response: res };
      await res.arrayBuffer();
      next = new URL(location, next).href;
    }
    throw new Error('too many redirects');
  }
}

/** A JSON request from a page of `origin` (our own by default), as the browser would send it. */
export async function postJson(browser: CookieBrowser, baseUrl: string, path: string, body?: unknown, origin = baseUrl): Promise<Response> {
  return browser.fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { origin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
