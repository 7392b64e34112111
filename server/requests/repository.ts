import type { Queryable } from '../db/database.ts';
import type { GrantInput } from '../mandates/schema.ts';

export type RequestState = 'open' | 'approved' | 'declined' | 'withdrawn';

export interface RequestRecord {
  id: string;
  requesterId: string;
  principalId: string;
  scopes: GrantInput['scopes'];
  validFrom: Date | null;
  validTo: Date;
  mayDelegate: boolean;
  message: string | null;
  state: RequestState;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  declineReason: string | null;
  mandateId: string | null;
}

const byRow = (r: {
  id: string;
  requester_id: string;
  principal_id: string;
  scopes: unknown;
  valid_from: Date | null;
  valid_to: Date;
  may_delegate: boolean;
  message: string | null;
  state: RequestState;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decline_reason: string | null;
  mandate_id: string | null;
}): RequestRecord => ({
  id: r.id,
  requesterId: r.requester_id,
  principalId: r.principal_id,
  scopes: r.scopes as GrantInput['scopes'],
  validFrom: r.valid_from,
  validTo: r.valid_to,
  mayDelegate: r.may_delegate,
  message: r.message,
  state: r.state,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  decidedAt: r.decided_at,
  declineReason: r.decline_reason,
  mandateId: r.mandate_id,
});

export async function insertRequest(trx: Queryable, r: RequestRecord): Promise<void> {
  await trx
    .insertInto('mandate_requests')
    .values({
      id: r.id,
      requester_id: r.requesterId,
      principal_id: r.principalId,
      scopes: JSON.stringify(r.scopes),
      valid_from: r.validFrom,
      valid_to: r.validTo,
      may_delegate: r.mayDelegate,
      message: r.message,
      state: r.state,
      created_at: r.createdAt,
      expires_at: r.expiresAt,
      decided_at: null,
      decline_reason: null,
      mandate_id: null,
    })
    .execute();
}

export async function findRequest(db: Queryable, id: string, options: { lock?: boolean } = {}): Promise<RequestRecord | undefined> {
  let q = db.selectFrom('mandate_requests').selectAll().where('id', '=', id);
  if (options.lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && byRow(row);
}

export async function listRequests(db: Queryable, partyId: string, as: 'principal' | 'agent'): Promise<RequestRecord[]> {
  const rows = await db
    .selectFrom('mandate_requests')
    .selectAll()
    .where(as === 'principal' ? 'principal_id' : 'requester_id', '=', partyId)
    .orderBy('created_at', 'desc')
    .limit(500)
    .execute();
  return rows.map(byRow);
}

/** Serialises one requester's request-making, so the cap on open requests holds under concurrency. */
export async function lockRequester(trx: Queryable, partyId: string): Promise<void> {
  await trx.selectFrom('parties').select('id').where('id', '=', partyId).forUpdate().execute();
}

/** The requester's open, unexpired requests: all of them, or those to one principal. */
export async function countOpen(db: Queryable, requesterId: string, now: Date, principalId?: string): Promise<number> {
  let q = db
    .selectFrom('mandate_requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('requester_id', '=', requesterId)
    .where('state', '=', 'open')
    .where('expires_at', '>', now);
  if (principalId) q = q.where('principal_id', '=', principalId);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

/** When the principal declined this requester, most recent first, since `since`. */
export async function recentDeclines(
  db: Queryable,
  requesterId: string,
  principalId: string,
  since: Date,
  limit: number,
): Promise<Date[]> {
  const rows = await db
    .selectFrom('mandate_requests')
    .select('decided_at')
    .where('requester_id', '=', requesterId)
    .where('principal_id', '=', principalId)
    .where('state', '=', 'declined')
    .where('decided_at', '>', since)
    .orderBy('decided_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.decided_at as Date);
}

export async function markDecided(
  trx: Queryable,
  id: string,
  decision: { state: Exclude<RequestState, 'open'>; at: Date; reason?: string | null; mandateId?: string },
): Promise<void> {
  await trx
    .updateTable('mandate_requests')
    .set({
      state: decision.state,
      decided_at: decision.at,
      decline_reason: decision.reason ?? null,
      mandate_id: decision.mandateId ?? null,
    })
    .where('id', '=', id)
    .execute();
}
