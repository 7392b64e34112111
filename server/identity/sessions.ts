import { createHash, randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import { appendAudit } from '../audit/service.ts';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { UUID_PATTERN } from '../http/schemas.ts';

export { ASSURANCE } from '../config.ts';

export const SESSION_COOKIE = 'ombud_session';

export interface Session {
  idHash: string;
  /** The id the person sees in their list of sessions; never the cookie value. */
  publicId: string;
  partyId: string;
  method: string;
  assurance: number;
  authenticatedAt: Date;
  /** When this session last proved a strong sign-in (step-up); null if it never did. */
  strongAt: Date | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Creates a session and returns the token for the cookie; only its hash is stored. */
export async function createSession(
  db: Queryable,
  config: Config,
  partyId: string,
  method: string,
  assurance: number,
  options: { strongAt?: Date | undefined; userAgent?: string } = {},
): Promise<string> {
  const token = newToken();
  const now = new Date();
  await db
    .insertInto('sessions')
    .values({
      id_hash: hashToken(token),
      party_id: partyId,
      method,
      assurance,
      created_at: now,
      authenticated_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + config.sessionAbsoluteMs),
      strong_at: options.strongAt ?? null,
      user_agent: options.userAgent ? options.userAgent.slice(0, 200) : null,
    })
    .execute();
  return token;
}

/**
 * A completed sign-in: the session the browser had (if any) ends and a new one with a new id
 * starts, so a session id planted before sign-in is worth nothing after it. Runs in the
 * caller's transaction together with its audit event.
 */
export async function signIn(
  trx: Queryable,
  config: Config,
  sign: {
    previousToken: string | undefined;
    partyId: string;
    method: string;
    assurance: number;
    /** When the person proved a strong sign-in, if this one is strong. */
    strongAt: Date | undefined;
    userAgent: string;
  },
  data: Record<string, unknown> = {},
): Promise<string> {
  if (sign.previousToken) await deleteSession(trx, sign.previousToken);
  const token = await createSession(trx, config, sign.partyId, sign.method, sign.assurance, {
    strongAt: sign.strongAt,
    userAgent: sign.userAgent,
  });
  await appendAudit(trx, [
    {
      action: 'signed-in',
      actor: { type: 'person', partyId: sign.partyId },
      partyIds: [sign.partyId],
      data: { method: sign.method, assurance: sign.assurance, ...data },
    },
  ]);
  return token;
}

export interface SessionSummary {
  id: string;
  method: string;
  assurance: number;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  current: boolean;
}

/** A person's live sessions, newest first. */
export async function listSessions(db: Queryable, config: Config, partyId: string, currentHash: string): Promise<SessionSummary[]> {
  const idleSince = new Date(Date.now() - config.sessionIdleMs);
  const rows = await db
    .selectFrom('sessions')
    .selectAll()
    .where('party_id', '=', partyId)
    .where('expires_at', '>', new Date())
    .where('last_seen_at', '>', idleSince)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.public_id,
    method: r.method,
    assurance: r.assurance,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    userAgent: r.user_agent,
    current: r.id_hash === currentHash,
  }));
}

/** Ends one of the person's sessions; false if they have none with that id. */
export async function endSession(db: Queryable, partyId: string, publicId: string): Promise<boolean> {
  if (!UUID_PATTERN.test(publicId)) return false;
  const ended = await db.deleteFrom('sessions').where('party_id', '=', partyId).where('public_id', '=', publicId).returning('id_hash').execute();
  return ended.length > 0;
}

/** Ends every session the person has, this one included; returns how many. */
export async function endAllSessions(db: Queryable, partyId: string): Promise<number> {
  const ended = await db.deleteFrom('sessions').where('party_id', '=', partyId).returning('id_hash').execute();
  return ended.length;
}

export async function deleteSession(db: Queryable, token: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', hashToken(token)).execute();
}

/** Reads the session cookie; an expired or idle session is deleted and treated as none. */
export async function findSession(db: Queryable, config: Config, token: string): Promise<Session | undefined> {
  const row = await db.selectFrom('sessions').selectAll().where('id_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row) return undefined;
  const now = Date.now();
  if (row.expires_at.getTime() <= now || row.last_seen_at.getTime() + config.sessionIdleMs <= now) {
    await db.deleteFrom('sessions').where('id_hash', '=', row.id_hash).execute();
    return undefined;
  }
  // Touch at most once a minute: the idle timeout does not need more precision than that.
  if (now - row.last_seen_at.getTime() > 60_000) {
    await db.updateTable('sessions').set({ last_seen_at: new Date(now) }).where('id_hash', '=', row.id_hash).execute();
  }
  return {
    idHash: row.id_hash,
    publicId: row.public_id,
    partyId: row.party_id,
    method: row.method,
    assurance: row.assurance,
    authenticatedAt: row.authenticated_at,
    strongAt: row.strong_at,
  };
}

export function setSessionCookie(ctx: Context, config: Config, token: string): void {
  ctx.cookies.set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secureCookies,
    path: '/',
    maxAge: config.sessionAbsoluteMs,
    overwrite: true,
  });
}

export function clearSessionCookie(ctx: Context, config: Config): void {
  ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, path: '/', maxAge: 0 });
}

/** Route guard: a signed-in person, or 401. */
export function requireSession(db: Queryable, config: Config) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const token = ctx.cookies.get(SESSION_COOKIE);
    const session = token ? await findSession(db, config, token) : undefined;
    if (!session) throw new ApiError(401, 'unauthenticated', 'Sign in to continue.');
    ctx.state.session = session;
    await next();
  };
}

/**
 * Route guard after `requireSession`: the change needs a strong sign-in (e-ID at the required
 * level, or a passkey) within the last `STEP_UP_MINUTES`.
 */
export function requireStepUp(config: Config) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const { strongAt } = sessionOf(ctx);
    if (!strongAt || Date.now() - strongAt.getTime() > config.stepUpMs) {
      throw new ApiError(401, 'step-up-required', 'Sign in again with e-ID or a passkey to confirm this change.', {
        maxAgeMinutes: Math.round(config.stepUpMs / 60_000),
      });
    }
    await next();
  };
}

/**
 * Cookie-authenticated state changes must come from our own pages: the `Origin` header has
 * to match the service's origin. Requests without one are refused too.
 */
export function requireSameOrigin(config: Config) {
  const own = new URL(config.publicUrl).origin;
  return async (ctx: Context, next: Next): Promise<void> => {
    const origin = ctx.get('Origin');
    if (origin !== own) {
      throw new ApiError(403, 'foreign-origin', 'This request must come from the Ombud site itself.');
    }
    await next();
  };
}

export function sessionOf(ctx: Context): Session {
  const session = ctx.state.session as Session | undefined;
  if (!session) throw new ApiError(401, 'unauthenticated', 'Sign in to continue.');
  return session;
}
