import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT, type CryptoKey } from 'jose';
import pg from 'pg';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { registerAgency } from '../../server/agencies/service.ts';
import { requestAccessToken } from '../../server/agencies/token-client.ts';
import { createApp } from '../../server/app.ts';
import { readConfig } from '../../server/config.ts';
import { type AppContext, createContext } from '../../server/context.ts';
import { Database } from '../../server/db/database.ts';

export type EngineName = 'postgres' | 'pglite';
export const ENGINES: EngineName[] = ['postgres', 'pglite'];

/** A new, empty database on the given engine: its own Postgres database, or an in-memory PGlite. */
export async function freshDatabase(engine: EngineName): Promise<{ database: Database; url?: string }> {
  if (engine === 'pglite') return { database: await Database.pglite(undefined) };
  const adminUrl = inject('postgresUrl');
  const name = `t_${randomUUID().replace(/-/g, '')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { database: Database.postgres(url.toString()), url: url.toString() };
}

export interface Response<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A browser-like HTTP client: keeps the session cookie, sends our Origin on state changes. */
export class Client {
  constructor(
    readonly baseUrl: string,
    public cookie?: string,
  ) {}

  async send<T = any>(
    method: string,
    urlPath: string,
    options: { json?: unknown; raw?: string; contentType?: string; headers?: Record<string, string>; origin?: string | null } = {},
  ): Promise<Response<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET' && options.origin !== null) headers.origin = options.origin ?? this.baseUrl;
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${urlPath}`, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const parsed = type.includes('json') && text ? JSON.parse(text) : text;
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('ombud_session='));
    if (setCookie) {
      const value = setCookie.split(';')[0] as string;
      this.cookie = value === 'ombud_session=' ? undefined : value;
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(urlPath: string) {
    return this.send<T>('GET', urlPath);
  }

  post<T = any>(urlPath: string, json?: unknown) {
    return this.send<T>('POST', urlPath, json === undefined ? {} : { json });
  }
}

export interface TestAgency {
  id: string;
  kid: string;
  privateKey: CryptoKey;
  /** A client assertion; `claims` override or remove (`undefined`) the defaults. */
  assertion(claims?: Partial<Record<keyof JWTPayload, unknown>>, options?: { key?: CryptoKey; alg?: string }): Promise<string>;
  /** A fresh access token from the real token endpoint. */
  token(): Promise<string>;
  /** A client whose requests carry the agency's Bearer token. */
  check(body: unknown, token?: string): Promise<Response<any>>;
}

export interface TestServer {
  url: string;
  ctx: AppContext;
  engine: EngineName;
  databaseUrl?: string;
  dataDir: string;
  anonymous(): Client;
  signIn(personalNumber: string): Promise<Client>;
  agency(id: string, services: string[]): Promise<TestAgency>;
  close(): Promise<void>;
}

export async function startServer(
  engine: EngineName,
  options: {
    env?: Record<string, string>;
    database?: { database: Database; url?: string };
    dataDir?: string;
    /** The host name in PUBLIC_URL; WebAuthn needs a name (`localhost`), not an IP address. */
    publicHost?: string;
    logger?: Logger;
  } = {},
): Promise<TestServer> {
  const { database, url: databaseUrl } = options.database ?? (await freshDatabase(engine));
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'ombud-test-'));
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `http://${options.publicHost ?? '127.0.0.1'}:${port}`;
  const config = readConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_URL: url,
    DEMO_DATA: 'false',
    ...(options.env ?? {}),
  });
  const ctx = await createContext(config, { database, ...(options.logger ? { logger: options.logger } : {}) });
  server.on('request', createApp(ctx).callback());

  const agency = async (id: string, services: string[]): Promise<TestAgency> => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = `${id}-key`;
    await registerAgency(ctx.database, ctx.policies, {
      id,
      name: `Agency ${id}`,
      services,
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256' }] },
    });
    const assertion: TestAgency['assertion'] = async (claims = {}, opts = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: id,
        sub: id,
        aud: `${url}/oauth/token`,
        jti: randomUUID(),
        iat: now,
        exp: now + 120,
        ...claims,
      };
      for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
      return new SignJWT(payload as JWTPayload)
        .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid })
        .sign(opts.key ?? privateKey);
    };
    const token = async () => {
      const res = await requestAccessToken(`${url}/oauth/token`, await assertion());
      const body = (await res.json()) as { access_token: string };
      if (res.status !== 200) throw new Error(`token failed: ${JSON.stringify(body)}`);
      return body.access_token;
    };
    let cached: string | undefined;
    const check = async (body: unknown, bearer?: string) => {
      cached ??= await token();
      return new Client(url).send('POST', '/api/v1/checks', {
        json: body,
        headers: { authorization: `Bearer ${bearer ?? cached}` },
        origin: null,
      });
    };
    return { id, kid, privateKey, assertion, token, check };
  };

  return {
    url,
    ctx,
    engine,
    ...(databaseUrl ? { databaseUrl } : {}),
    dataDir,
    anonymous: () => new Client(url),
    async signIn(personalNumber: string) {
      const client = new Client(url);
      const res = await client.post('/auth/dev/login', { personalNumber });
      if (res.status !== 204) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
      return client;
    },
    agency,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ctx.database.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Demo-style test people (valid numbers, not real people). */
export const PEOPLE = {
  anna: '194003212380',
  karin: '196805144026',
  erik: '197209083919',
  maja: '201503222463',
  sara: '198511304829',
  tolvan: '191212121212',
} as const;

export function person(id: string) {
  return { type: 'person' as const, id };
}

export function inDays(days: number, from = new Date()): string {
  return new Date(from.getTime() + days * 86_400_000).toISOString();
}
