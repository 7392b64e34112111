import { randomUUID } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { z } from 'zod';
import { appendAudit } from '../audit/service.ts';
import type { Config } from '../config.ts';
import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { freeText, UUID_PATTERN } from '../http/schemas.ts';
import { refuse, type SecurityDeps } from './security-events.ts';
import { type Session, hashToken } from './sessions.ts';

/** A challenge must be answered within this time, and only once. */
const CHALLENGE_MS = 2 * 60_000;
const MAX_PASSKEYS = 20;
export const CEREMONY_COOKIE = 'ombud_webauthn';

const b64url = z.string().min(1).max(16_384).regex(/^[A-Za-z0-9_-]+={0,2}$/, 'base64url');

/** WebAuthn JSON as `@simplewebauthn/browser` or `PublicKeyCredential.toJSON()` produce it. */
const credentialBase = {
  id: b64url.max(1024),
  rawId: b64url.max(1024),
  type: z.literal('public-key'),
  clientExtensionResults: z.looseObject({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
};

export const registrationBody = z.strictObject({
  ...credentialBase,
  response: z.looseObject({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: z.array(z.string().max(32)).max(10).optional(),
  }),
  /** A name the person gives the passkey; our addition to the WebAuthn JSON. */
  name: freeText(100).pipe(z.string().min(1)).optional(),
});

export const authenticationBody = z.strictObject({
  ...credentialBase,
  response: z.looseObject({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.max(512).optional(),
  }),
});

export const passkeyView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    createdAt: z.iso.datetime({ offset: true }),
    lastUsedAt: z.iso.datetime({ offset: true }).nullable(),
    backedUp: z.boolean(),
  })
  .meta({ id: 'Passkey' });

export type PasskeyView = z.infer<typeof passkeyView>;

export interface PasskeyDeps extends SecurityDeps {
  config: Config;
}

function relyingParty(config: Config): { rpID: string; origin: string } {
  const url = new URL(config.publicUrl);
  return { rpID: url.hostname, origin: url.origin };
}

/** The challenge the browser signed, read from clientDataJSON; undefined if it is not there. */
function signedChallenge(clientDataJSON: string): string | undefined {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof data.challenge === 'string' && data.challenge.length <= 512 ? data.challenge : undefined;
  } catch {
    return undefined;
  }
}

async function issueChallenge(db: Queryable, kind: 'registration' | 'authentication', challenge: string, bindingHash: string, partyId: string | null) {
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<', new Date()).execute();
  await db
    .insertInto('webauthn_challenges')
    .values({ challenge, kind, binding_hash: bindingHash, party_id: partyId, expires_at: new Date(Date.now() + CHALLENGE_MS) })
    .execute();
}

/** Takes (deletes) a live challenge of this kind and binding; a second use finds nothing. */
async function takeChallenge(db: Queryable, kind: 'registration' | 'authentication', challenge: string | undefined, bindingHash: string | undefined) {
  if (!challenge || !bindingHash) return undefined;
  const row = await db
    .deleteFrom('webauthn_challenges')
    .where('challenge', '=', challenge)
    .where('kind', '=', kind)
    .where('binding_hash', '=', bindingHash)
    .returningAll()
    .executeTakeFirst();
  return row && row.expires_at.getTime() > Date.now() ? row : undefined;
}

function toView(row: { id: string; name: string; created_at: Date; last_used_at: Date | null; backed_up: boolean }): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at ? row.last_used_at.toISOString() : null,
    backedUp: row.backed_up,
  };
}

/** Options to register a new passkey for the signed-in person; the challenge is bound to the session. */
export async function registrationOptions(
  db: Queryable,
  config: Config,
  session: Session,
  person: { nationalId: string; name: string | null },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await db.selectFrom('passkeys').select(['credential_id', 'transports']).where('party_id', '=', session.partyId).execute();
  if (existing.length >= MAX_PASSKEYS) throw new ApiError(400, 'invalid-request', `At most ${MAX_PASSKEYS} passkeys per person.`);
  const options = await generateRegistrationOptions({
    rpName: 'Ombud',
    rpID: relyingParty(config).rpID,
    userName: person.nationalId,
    userDisplayName: person.name ?? person.nationalId,
    // The user handle is the party's internal id: it names nobody outside this service.
    userID: new TextEncoder().encode(session.partyId),
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    supportedAlgorithmIDs: [-7, -8, -257],
    timeout: CHALLENGE_MS,
  });
  await issueChallenge(db, 'registration', options.challenge, session.idHash, session.partyId);
  return options;
}

export async function registerPasskey(
  deps: PasskeyDeps,
  session: Session,
  body: z.infer<typeof registrationBody>,
): Promise<PasskeyView> {
  const { database, config } = deps;
  const { name, ...response } = body;
  const challenge = await takeChallenge(database.db, 'registration', signedChallenge(body.response.clientDataJSON), session.idHash);
  if (!challenge || challenge.party_id !== session.partyId) {
    throw await refuse(deps, { kind: 'webauthn-challenge-unknown', method: 'passkey', partyId: session.partyId }, {
      status: 400,
      detail: 'This passkey registration was not started here, was already used or took too long. Start again.',
    });
  }
  const { rpID, origin } = relyingParty(config);
  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: challenge.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: true,
    });
  } catch {
    verification = { verified: false };
  }
  if (!verification.verified) {
    throw await refuse(deps, { kind: 'webauthn-mismatch', method: 'passkey', partyId: session.partyId }, {
      status: 400,
      detail: 'The passkey registration did not verify (origin, site or user verification).',
    });
  }
  const info = verification.registrationInfo;
  return database.transaction(async (trx) => {
    const taken = await trx.selectFrom('passkeys').select('id').where('credential_id', '=', info.credential.id).executeTakeFirst();
    if (taken) throw new ApiError(400, 'invalid-request', 'This passkey is already registered.');
    const count = await trx.selectFrom('passkeys').select((eb) => eb.fn.countAll<string | number>().as('n')).where('party_id', '=', session.partyId).executeTakeFirstOrThrow();
    const row = {
      id: randomUUID(),
      party_id: session.partyId,
      credential_id: info.credential.id,
      public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      name: name ?? `Passkey ${Number(count.n) + 1}`,
      assurance: session.assurance,
      backed_up: info.credentialBackedUp,
      created_at: new Date(),
      last_used_at: null,
    };
    await trx.insertInto('passkeys').values(row).execute();
    await appendAudit(trx, [
      { action: 'passkey-added', actor: { type: 'person', partyId: session.partyId }, partyIds: [session.partyId], data: { passkeyId: row.id } },
    ]);
    return toView(row);
  });
}

/** Options for a sign-in with any passkey of this site (discoverable); bound to a ceremony cookie. */
export async function authenticationOptions(db: Queryable, config: Config, ceremony: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(config).rpID,
    userVerification: 'required',
    timeout: CHALLENGE_MS,
  });
  await issueChallenge(db, 'authentication', options.challenge, hashToken(ceremony), null);
  return options;
}

/**
 * Verifies a passkey sign-in and returns who signed in. The challenge is taken first (single
 * use); the signature counter must grow. Failures about a registered passkey go to its owner's
 * audit trail.
 */
export async function verifyPasskeySignIn(
  deps: PasskeyDeps,
  ceremony: string | undefined,
  body: z.infer<typeof authenticationBody>,
): Promise<{ partyId: string; passkeyId: string; assurance: number; newCounter: number }> {
  const { database, config } = deps;
  const stored = await database.db.selectFrom('passkeys').selectAll().where('credential_id', '=', body.id).executeTakeFirst();
  const partyId = stored?.party_id;
  const data = stored ? { passkeyId: stored.id } : undefined;
  const challenge = await takeChallenge(
    database.db,
    'authentication',
    signedChallenge(body.response.clientDataJSON),
    ceremony ? hashToken(ceremony) : undefined,
  );
  if (!challenge) {
    throw await refuse(deps, { kind: 'webauthn-challenge-unknown', method: 'passkey', ...(partyId ? { partyId } : {}), ...(data ? { data } : {}) }, {
      status: 400,
      detail: 'This passkey answer is not for a sign-in started in this browser, was already used or took too long.',
    });
  }
  if (!stored) {
    throw await refuse(deps, { kind: 'webauthn-unknown-credential', method: 'passkey' }, { status: 401, detail: 'This passkey is not registered here.' });
  }
  // A discoverable credential names its user; it must be the one the passkey was registered to.
  const userHandle = body.response.userHandle;
  if (userHandle !== undefined && Buffer.from(userHandle, 'base64url').toString('utf8') !== stored.party_id) {
    throw await refuse(deps, { kind: 'webauthn-mismatch', method: 'passkey', partyId: stored.party_id, data: { passkeyId: stored.id } }, {
      status: 401,
      detail: 'The passkey answer names another user than the passkey belongs to.',
    });
  }
  const { rpID, origin } = relyingParty(config);
  let newCounter: number | undefined;
  try {
    const result = await verifyAuthenticationResponse({
      response: body as AuthenticationResponseJSON,
      expectedChallenge: challenge.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: true,
      credential: {
        id: stored.credential_id,
        publicKey: new Uint8Array(Buffer.from(stored.public_key, 'base64url')),
        counter: Number(stored.counter),
        transports: stored.transports as AuthenticatorTransport[],
      },
    });
    if (result.verified) newCounter = result.authenticationInfo.newCounter;
  } catch {
    newCounter = undefined;
  }
  if (newCounter === undefined) {
    throw await refuse(deps, { kind: 'webauthn-mismatch', method: 'passkey', partyId: stored.party_id, data: { passkeyId: stored.id } }, {
      status: 401,
      detail: 'The passkey answer did not verify (origin, site, signature, counter or user verification).',
    });
  }
  return { partyId: stored.party_id, passkeyId: stored.id, assurance: stored.assurance, newCounter };
}

/** Records a passkey's use inside the sign-in transaction. */
export async function markUsed(trx: Queryable, passkeyId: string, counter: number): Promise<void> {
  await trx.updateTable('passkeys').set({ counter, last_used_at: new Date() }).where('id', '=', passkeyId).execute();
}

export async function listPasskeys(db: Queryable, partyId: string): Promise<PasskeyView[]> {
  const rows = await db
    .selectFrom('passkeys')
    .select(['id', 'name', 'created_at', 'last_used_at', 'backed_up'])
    .where('party_id', '=', partyId)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(toView);
}

/** Renames one of the person's passkeys; someone else's is 404. */
export async function renamePasskey(database: Database, partyId: string, id: string, name: string): Promise<PasskeyView> {
  if (!UUID_PATTERN.test(id)) throw new ApiError(404, 'not-found', 'You have no passkey with that id.');
  return database.transaction(async (trx) => {
    const row = await trx
      .updateTable('passkeys')
      .set({ name })
      .where('id', '=', id)
      .where('party_id', '=', partyId)
      .returning(['id', 'name', 'created_at', 'last_used_at', 'backed_up'])
      .executeTakeFirst();
    if (!row) throw new ApiError(404, 'not-found', 'You have no passkey with that id.');
    await appendAudit(trx, [{ action: 'passkey-renamed', actor: { type: 'person', partyId }, partyIds: [partyId], data: { passkeyId: id } }]);
    return toView(row);
  });
}

export async function removePasskey(database: Database, partyId: string, id: string): Promise<void> {
  if (!UUID_PATTERN.test(id)) throw new ApiError(404, 'not-found', 'You have no passkey with that id.');
  await database.transaction(async (trx) => {
    const row = await trx.deleteFrom('passkeys').where('id', '=', id).where('party_id', '=', partyId).returning('id').executeTakeFirst();
    if (!row) throw new ApiError(404, 'not-found', 'You have no passkey with that id.');
    await appendAudit(trx, [{ action: 'passkey-removed', actor: { type: 'person', partyId }, partyIds: [partyId], data: { passkeyId: id } }]);
  });
}
