import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEMO_OFFICIALS } from './demo-people.ts';
import { InvalidIdentityNumberError, parsePersonNumber } from './identity/identity-number.ts';

/** Finds the project root (the folder holding package.json) from this file, built or not. */
function findProjectRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above server/');
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot();

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_READ_URL: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  POLICIES_DIR: z.string().min(1).optional(),
  SIGNING_KEYS_FILE: z.string().min(1).optional(),
  MINA_OMBUD_SIGNING_KEYS_FILE: z.string().min(1).optional(),
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).max(200).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).max(500).optional(),
  OIDC_PERSONAL_NUMBER_CLAIM: z.string().min(1).max(200).default('https://claims.oidc.se/1.0/personalNumber'),
  OIDC_SCOPES: z.string().min(6).max(500).default('openid profile'),
  OIDC_ID_TOKEN_ALG: z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']).default('RS256'),
  OIDC_ACR_VALUES: z.string().min(1).max(500).optional(),
  OIDC_ACR_MAP: z.string().max(2000).optional(),
  JWKS_REFRESH_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  STEP_UP_MINUTES: z.coerce.number().int().min(1).max(60).default(10),
  STEP_UP_ASSURANCE: z.enum(['low', 'substantial', 'high']).default('substantial'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(24 * 7).default(12),
  ACCESS_TOKEN_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  BODY_LIMIT_KB: z.coerce.number().int().min(1).max(1024).default(64),
  DEMO_DATA: z.enum(['true', 'false']).optional(),
  MAX_DELEGATION_DEPTH: z.coerce.number().int().min(0).max(10).default(2),
  OFFICIALS: z.string().max(100_000).optional(),
  REQUESTS_MAX_OPEN: z.coerce.number().int().min(1).max(1000).default(5),
  REQUESTS_DECLINES_BEFORE_LOCKOUT: z.coerce.number().int().min(1).max(100).default(3),
  REQUESTS_LOCKOUT_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  NOTIFY_WEBHOOK_URL: z.url().optional(),
  NOTIFY_POLL_SECONDS: z.coerce.number().min(0.1).max(3600).default(5),
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  NOTIFY_RETRY_BASE_SECONDS: z.coerce.number().min(0.01).max(86_400).default(30),
  NOTIFY_RETAIN_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
});

export interface Config {
  mode: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** The service's own origin, e.g. `http://localhost:3000`; issuer and token audience derive from it. */
  publicUrl: string;
  databaseUrl: string | undefined;
  /** A synchronous standby for check lookups; needs `DATABASE_URL` (the primary) beside it. */
  databaseReadUrl: string | undefined;
  dataDir: string;
  policiesDir: string;
  migrationsDir: string;
  signingKeysFile: string | undefined;
  /** RSA keys for the Mina ombud compatible API's signed answers; without them in production that API is off. */
  minaOmbudSigningKeysFile: string | undefined;
  logLevel: string;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  accessTokenSeconds: number;
  bodyLimitBytes: number;
  /** e-ID sign-in through an OpenID provider; absent when OIDC_ISSUER is not set. */
  oidc: OidcConfig | undefined;
  /** An agency's JWKS URL is fetched again for an unknown kid at most this often. */
  jwksRefreshCooldownMs: number;
  /** How recent a strong sign-in must be for a mandate to be granted, changed or ended. */
  stepUpMs: number;
  /** The lowest assurance level (see ASSURANCE) that counts as a strong e-ID sign-in. */
  strongAssurance: number;
  devSignIn: boolean;
  demoData: boolean;
  secureCookies: boolean;
  /** How many times a mandate may be passed on (0: never, whatever `mayDelegate` says). */
  maxDelegationDepth: number;
  /** Normalised personal numbers of the people who may register mandates as officials. */
  officials: readonly string[];
  requests: { maxOpen: number; declinesBeforeLockout: number; lockoutDays: number };
  notifications: {
    /** `webhook` posts each notification to `webhookUrl`; `dev` logs it and shows it at /dev/mailbox. */
    adapter: 'dev' | 'webhook';
    webhookUrl: string | undefined;
    pollMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    /** Delivered and given-up notifications are deleted this many days after they were finished with. */
    retainDays: number;
  };
  /** The development mailbox page; never in production. */
  devMailbox: boolean;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  personalNumberClaim: string;
  /** Asked for at the provider; must include `openid`. */
  scopes: string;
  /** The one algorithm an ID token may be signed with. */
  idTokenAlg: string;
  /** Asked of the provider as `acr_values`, when set. */
  acrValues: string | undefined;
  /** `acr` value → assurance level. */
  acrLevels: Readonly<Record<string, number>>;
}

/** Assurance levels in the order policies and step-up compare them. */
export const ASSURANCE = { unknown: 0, low: 1, substantial: 2, high: 3 } as const;
export type AssuranceName = keyof typeof ASSURANCE;

/** The Swedish e-ID framework's levels of assurance (Digg), as brokers send them in `acr`. */
const DEFAULT_ACR_MAP = [
  'http://id.elegnamnden.se/loa/1.0/loa2=low',
  'http://id.elegnamnden.se/loa/1.0/loa3=substantial',
  'http://id.swedenconnect.se/loa/1.0/uncertified-loa3=substantial',
  'http://id.elegnamnden.se/loa/1.0/loa4=high',
].join(',');

function parseAcrMap(text: string): Record<string, number> | string {
  const map: Record<string, number> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const at = pair.lastIndexOf('=');
    const level = pair.slice(at + 1) as AssuranceName;
    if (at < 1 || !(level in ASSURANCE) || level === 'unknown') return `OIDC_ACR_MAP: "${pair}" is not acr=low|substantial|high`;
    map[pair.slice(0, at)] = ASSURANCE[level];
  }
  return map;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the environment once, fails fast with every problem named, and returns a frozen config. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');

  const officials: string[] = [];
  for (const raw of (e.OFFICIALS ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    try {
      officials.push(parsePersonNumber(raw).value);
    } catch (err) {
      if (!(err instanceof InvalidIdentityNumberError)) throw err;
      throw new ConfigError(`Invalid configuration:\n  OFFICIALS: "${raw}" is not a valid personal identity number`);
    }
  }

  if (production) {
    const missing: string[] = [];
    if (!e.SIGNING_KEYS_FILE) missing.push('SIGNING_KEYS_FILE (signing keys are never generated in production)');
    if (!e.PUBLIC_URL) missing.push('PUBLIC_URL');
    if (!e.OIDC_ISSUER) missing.push('OIDC_ISSUER');
    else if (!e.OIDC_ISSUER.startsWith('https://')) missing.push('OIDC_ISSUER must be an https URL');
    if (!e.OIDC_CLIENT_ID) missing.push('OIDC_CLIENT_ID');
    if (e.DEMO_DATA === 'true') missing.push('DEMO_DATA must not be true in production');
    if (missing.length > 0) {
      throw new ConfigError(`Production mode refuses to start:\n  ${missing.join('\n  ')}`);
    }
  }

  const demoData = !production && e.DEMO_DATA !== 'false';

  if (e.DATABASE_READ_URL && !e.DATABASE_URL) {
    throw new ConfigError('Invalid configuration:\n  DATABASE_READ_URL needs DATABASE_URL (the primary) beside it');
  }
  if (e.OIDC_ISSUER && !e.OIDC_CLIENT_ID) throw new ConfigError('Invalid configuration:\n  OIDC_CLIENT_ID is required with OIDC_ISSUER');
  if (!e.OIDC_SCOPES.split(' ').includes('openid')) throw new ConfigError('Invalid configuration:\n  OIDC_SCOPES must include openid');
  const acrLevels = parseAcrMap(e.OIDC_ACR_MAP ?? DEFAULT_ACR_MAP);
  if (typeof acrLevels === 'string') throw new ConfigError(`Invalid configuration:\n  ${acrLevels}`);
  const oidc: OidcConfig | undefined =
    e.OIDC_ISSUER && e.OIDC_CLIENT_ID
      ? Object.freeze({
          issuer: e.OIDC_ISSUER,
          clientId: e.OIDC_CLIENT_ID,
          clientSecret: e.OIDC_CLIENT_SECRET,
          personalNumberClaim: e.OIDC_PERSONAL_NUMBER_CLAIM,
          scopes: e.OIDC_SCOPES,
          idTokenAlg: e.OIDC_ID_TOKEN_ALG,
          acrValues: e.OIDC_ACR_VALUES,
          acrLevels: Object.freeze(acrLevels),
        })
      : undefined;

  return Object.freeze({
    mode: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    databaseUrl: e.DATABASE_URL,
    databaseReadUrl: e.DATABASE_READ_URL,
    dataDir: path.resolve(e.DATA_DIR),
    policiesDir: path.resolve(e.POLICIES_DIR ?? path.join(projectRoot, 'policies')),
    migrationsDir: path.join(projectRoot, 'migrations'),
    signingKeysFile: e.SIGNING_KEYS_FILE,
    minaOmbudSigningKeysFile: e.MINA_OMBUD_SIGNING_KEYS_FILE,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    sessionIdleMs: e.SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: e.SESSION_ABSOLUTE_HOURS * 3_600_000,
    accessTokenSeconds: e.ACCESS_TOKEN_SECONDS,
    bodyLimitBytes: e.BODY_LIMIT_KB * 1024,
    oidc,
    jwksRefreshCooldownMs: e.JWKS_REFRESH_COOLDOWN_SECONDS * 1000,
    stepUpMs: e.STEP_UP_MINUTES * 60_000,
    strongAssurance: ASSURANCE[e.STEP_UP_ASSURANCE],
    devSignIn: !production,
    demoData,
    secureCookies: production,
    maxDelegationDepth: e.MAX_DELEGATION_DEPTH,
    // With demo data and no OFFICIALS, the demo official lets the assisted registration be tried; production has no default.
    officials: Object.freeze([...new Set(e.OFFICIALS === undefined && demoData ? DEMO_OFFICIALS : officials)]),
    requests: {
      maxOpen: e.REQUESTS_MAX_OPEN,
      declinesBeforeLockout: e.REQUESTS_DECLINES_BEFORE_LOCKOUT,
      lockoutDays: e.REQUESTS_LOCKOUT_DAYS,
    },
    notifications: {
      adapter: e.NOTIFY_WEBHOOK_URL ? ('webhook' as const) : ('dev' as const),
      webhookUrl: e.NOTIFY_WEBHOOK_URL,
      pollMs: Math.round(e.NOTIFY_POLL_SECONDS * 1000),
      maxAttempts: e.NOTIFY_MAX_ATTEMPTS,
      retryBaseMs: Math.round(e.NOTIFY_RETRY_BASE_SECONDS * 1000),
      retainDays: e.NOTIFY_RETAIN_DAYS,
    },
    devMailbox: !production,
  });
}
