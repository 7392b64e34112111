import { createHash, randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';

export const SESSION_COOKIE = 'ombud_session';

/** Assurance levels in the order the policies compare them. */
export const ASSURANCE = { unknown: 0, low: 1, substantial: 2, high: 3 } as const;

export interface Session {
  idHash: string;
  partyId: string;
  method: string;
  assurance: number;
  authenticatedAt: Date;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a session and returns the token for the cookie; only its hash is stored. */
export async function createSession(
  db: Queryable,
  config: Config,
  partyId: string,
  method: string,
  assurance: number,
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
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
    })
    .execute();
  return token;
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
    partyId: row.party_id,
    method: row.method,
    assurance: row.assurance,
    authenticatedAt: row.authenticated_at,
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
