import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/service.ts';
import type { Config } from '../config.ts';
import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { UUID_PATTERN } from '../http/schemas.ts';
import type { GrantInput, MandateView } from '../mandates/schema.ts';
import { grantMandate, partyView, scopeRows } from '../mandates/service.ts';
import { notify, servicesOf } from '../notifications/service.ts';
import { ensureParty, findPartiesByIds, type Party, refOf } from '../parties/repository.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import {
  countOpen,
  findRequest,
  insertRequest,
  listRequests,
  lockRequester,
  markDecided,
  recentDeclines,
  type RequestRecord,
} from './repository.ts';
import type { ApproveInput, RequestInput, RequestView } from './schema.ts';

const DAY_MS = 86_400_000;
/** An unanswered request lapses after this many days. */
export const REQUEST_EXPIRY_DAYS = 30;
const PAST_START_TOLERANCE_MS = 5 * 60_000;

export interface RequestDeps {
  database: Database;
  policies: PolicyEngine;
  config: Config;
}

const notFound = () => new ApiError(404, 'not-found', 'There is no such request.');

function statusAt(r: RequestRecord, at: Date): RequestView['status'] {
  if (r.state === 'open' && r.expiresAt.getTime() <= at.getTime()) return 'expired';
  return r.state;
}

async function viewRequests(db: Queryable, records: readonly RequestRecord[], viewerId: string): Promise<RequestView[]> {
  const parties = await findPartiesByIds(
    db,
    records.flatMap((r) => [r.requesterId, r.principalId]),
  );
  const now = new Date();
  return records.map((r) => ({
    id: r.id,
    requester: partyView(parties.get(r.requesterId), viewerId),
    principal: partyView(parties.get(r.principalId), viewerId),
    scopes: r.scopes,
    ...(r.validFrom ? { validFrom: r.validFrom.toISOString() } : {}),
    validTo: r.validTo.toISOString(),
    mayDelegate: r.mayDelegate,
    ...(r.message ? { message: r.message } : {}),
    status: statusAt(r, now),
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    ...(r.decidedAt ? { decidedAt: r.decidedAt.toISOString() } : {}),
    ...(r.declineReason ? { declineReason: r.declineReason } : {}),
    ...(r.mandateId ? { mandateId: r.mandateId } : {}),
  }));
}

async function viewOne(db: Queryable, r: RequestRecord, viewerId: string): Promise<RequestView> {
  return (await viewRequests(db, [r], viewerId))[0] as RequestView;
}

/** The same catalogue and validity rules a grant obeys, checked when the request is made. */
function assertGrantable(policies: PolicyEngine, input: Pick<GrantInput, 'scopes' | 'validTo'> & { validFrom?: Date | undefined }, now: Date): void {
  const { maxDays } = scopeRows(policies, input);
  const from = input.validFrom ?? now;
  if (from.getTime() < now.getTime() - PAST_START_TOLERANCE_MS) {
    throw new ApiError(400, 'invalid-validity', 'validFrom may not be in the past.');
  }
  if (input.validTo.getTime() <= from.getTime()) throw new ApiError(400, 'invalid-validity', 'validTo must be after validFrom.');
  if (input.validTo.getTime() - from.getTime() > maxDays * DAY_MS) {
    throw new ApiError(400, 'validity-exceeds-maximum', `A power of attorney for these services may last at most ${maxDays} days.`, {
      maxValidityDays: maxDays,
    });
  }
}

/**
 * An agent asks a principal for a mandate. Guards against harassment: one open request per
 * principal, a cap on open requests per requester, and a lock-out after repeated declines.
 */
export async function createRequest(deps: RequestDeps, requester: Party, input: RequestInput): Promise<RequestView> {
  const { database, policies, config } = deps;
  if (input.principal.type !== 'person') {
    throw new ApiError(400, 'invalid-request', 'A request can be sent to a person only.', {
      errors: [{ in: 'body', path: 'principal.type', message: 'must be person' }],
    });
  }
  if (input.principal.id === requester.nationalId && requester.kind === 'person') {
    throw new ApiError(400, 'agent-is-principal', 'You cannot ask yourself for a power of attorney.');
  }
  const now = new Date();
  assertGrantable(policies, input, now);
  const scopes = input.scopes.map((s) => ({ service: s.service, permissions: [...new Set(s.permissions)], ...(s.constraints ? { constraints: s.constraints } : {}) }));

  const record = await database.transaction(async (trx) => {
    const principal = await ensureParty(trx, input.principal);
    await lockRequester(trx, requester.id);
    const { declinesBeforeLockout, lockoutDays, maxOpen } = config.requests;
    const declines = await recentDeclines(trx, requester.id, principal.id, new Date(now.getTime() - lockoutDays * DAY_MS), declinesBeforeLockout);
    const oldest = declines[declinesBeforeLockout - 1];
    if (oldest) {
      const until = new Date(oldest.getTime() + lockoutDays * DAY_MS);
      throw new ApiError(429, 'requests-locked-out', 'This person has declined your requests several times; you cannot ask them again yet.', {
        retryAfter: until.toISOString(),
      });
    }
    if ((await countOpen(trx, requester.id, now, principal.id)) > 0) {
      throw new ApiError(409, 'request-already-open', 'You already have an open request to this person.');
    }
    if ((await countOpen(trx, requester.id, now)) >= maxOpen) {
      throw new ApiError(429, 'too-many-open-requests', `You may have at most ${maxOpen} open requests at a time.`, { maxOpen });
    }
    const r: RequestRecord = {
      id: randomUUID(),
      requesterId: requester.id,
      principalId: principal.id,
      scopes,
      validFrom: input.validFrom ?? null,
      validTo: input.validTo,
      mayDelegate: input.mayDelegate,
      message: input.message?.length ? input.message : null,
      state: 'open',
      createdAt: now,
      expiresAt: new Date(now.getTime() + REQUEST_EXPIRY_DAYS * DAY_MS),
      decidedAt: null,
      declineReason: null,
      mandateId: null,
    };
    await insertRequest(trx, r);
    // The message stays with the request: the permanent audit trail is no place for free text from a stranger.
    await appendAudit(trx, [
      {
        action: 'request.created',
        actor: { type: 'person', partyId: requester.id },
        partyIds: [requester.id, principal.id],
        at: now,
        data: { requestId: r.id, scopes, validTo: r.validTo.toISOString(), expiresAt: r.expiresAt.toISOString() },
      },
    ]);
    await notify(
      trx,
      { kind: 'request.received', recipientIds: [principal.id], data: { requestId: r.id, services: servicesOf(scopes), expiresAt: r.expiresAt.toISOString() } },
      now,
    );
    return r;
  });
  return viewOne(database.db, record, requester.id);
}

export async function listMyRequests(database: Database, viewerId: string, as: 'principal' | 'agent'): Promise<RequestView[]> {
  return viewRequests(database.db, await listRequests(database.db, viewerId, as), viewerId);
}

/** A request exists only for its requester and its principal. */
async function involved(db: Queryable, viewerId: string, id: string, options: { lock?: boolean } = {}): Promise<RequestRecord> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  const r = await findRequest(db, id, options);
  if (!r || (r.requesterId !== viewerId && r.principalId !== viewerId)) throw notFound();
  return r;
}

export async function readRequest(database: Database, viewerId: string, id: string): Promise<RequestView> {
  return viewOne(database.db, await involved(database.db, viewerId, id), viewerId);
}

function assertOpen(r: RequestRecord, now: Date): void {
  const status = statusAt(r, now);
  if (status !== 'open') throw new ApiError(409, 'request-not-open', `The request is ${status}.`, { status });
}

const exceeds = (detail: string) => new ApiError(400, 'approval-exceeds-request', detail);

/** What the principal approves: the request itself, or a narrower version of it, never more. */
function narrowed(r: RequestRecord, body: ApproveInput, now: Date): Omit<GrantInput, 'agents'> {
  const scopes = body.scopes ?? r.scopes;
  for (const s of scopes) {
    const asked = r.scopes.find((x) => x.service === s.service);
    if (!asked) throw exceeds(`The request does not ask for ${s.service}.`);
    const extra = s.permissions.find((p) => !asked.permissions.includes(p));
    if (extra) throw exceeds(`The request does not ask for "${extra}" on ${s.service}.`);
    const askedLimit = asked.constraints?.maxAmount;
    if (askedLimit !== undefined && (s.constraints?.maxAmount === undefined || s.constraints.maxAmount > askedLimit)) {
      throw exceeds(`The money limit on ${s.service} may be at most the requested ${askedLimit}.`);
    }
  }
  if (body.validFrom && r.validFrom && body.validFrom < r.validFrom) throw exceeds('validFrom may not be earlier than requested.');
  if (body.validTo && body.validTo > r.validTo) throw exceeds('validTo may not be later than requested.');
  if (body.mayDelegate && !r.mayDelegate) throw exceeds('The request does not ask for the right to delegate.');
  const requestedFrom = r.validFrom && r.validFrom > now ? r.validFrom : undefined;
  const validFrom = body.validFrom ?? requestedFrom;
  return {
    scopes,
    validTo: body.validTo ?? r.validTo,
    ...(validFrom ? { validFrom } : {}),
    mode: 'several',
    mayDelegate: body.mayDelegate ?? r.mayDelegate,
  };
}

/** The principal approves, possibly narrowed; the mandate and the request's new state commit together. */
export async function approveRequest(
  deps: RequestDeps,
  principal: Party,
  id: string,
  body: ApproveInput,
): Promise<{ request: RequestView; mandate: MandateView }> {
  const { database, policies } = deps;
  const r = await involved(database.db, principal.id, id);
  if (r.principalId !== principal.id) throw new ApiError(403, 'forbidden', 'Only the person asked may approve a request.');
  const now = new Date();
  assertOpen(r, now);
  const requester = (await findPartiesByIds(database.db, [r.requesterId])).get(r.requesterId);
  if (!requester) throw notFound();
  const input: GrantInput = { agents: [refOf(requester)], ...narrowed(r, body, now) };
  const mandate = await grantMandate(database, policies, principal, input, {
    fromRequest: {
      id: r.id,
      settle: async (trx, mandateId) => {
        const locked = await findRequest(trx, r.id, { lock: true });
        if (!locked) throw notFound();
        assertOpen(locked, new Date());
        await markDecided(trx, r.id, { state: 'approved', at: now, mandateId });
        await appendAudit(trx, [
          {
            action: 'request.approved',
            actor: { type: 'person', partyId: principal.id },
            partyIds: [principal.id, r.requesterId],
            mandateId,
            at: now,
            data: { requestId: r.id, narrowed: Object.keys(body).length > 0 },
          },
        ]);
        await notify(
          trx,
          { kind: 'request.approved', recipientIds: [r.requesterId], data: { requestId: r.id, mandateId, services: servicesOf(input.scopes) } },
          now,
        );
      },
    },
  });
  return { request: await readRequest(database, principal.id, r.id), mandate };
}

/**
 * Closes an open request without a mandate: the principal declines (which counts towards the
 * requester's lock-out and tells the requester), or the requester withdraws (which frees a place
 * under the cap).
 */
async function closeRequest(
  database: Database,
  actorId: string,
  id: string,
  how: { state: 'declined' | 'withdrawn'; reason?: string | undefined },
): Promise<RequestView> {
  const declining = how.state === 'declined';
  const record = await database.transaction(async (trx) => {
    const r = await involved(trx, actorId, id, { lock: true });
    if ((declining ? r.principalId : r.requesterId) !== actorId) {
      throw new ApiError(403, 'forbidden', declining ? 'Only the person asked may decline a request.' : 'Only the requester may withdraw a request.');
    }
    const now = new Date();
    assertOpen(r, now);
    const declineReason = declining && how.reason?.length ? how.reason : null;
    await markDecided(trx, r.id, { state: how.state, at: now, reason: declineReason });
    await appendAudit(trx, [
      {
        action: declining ? 'request.declined' : 'request.withdrawn',
        actor: { type: 'person', partyId: actorId },
        partyIds: [r.principalId, r.requesterId],
        at: now,
        data: { requestId: r.id },
      },
    ]);
    if (declining) await notify(trx, { kind: 'request.declined', recipientIds: [r.requesterId], data: { requestId: r.id } }, now);
    return { ...r, state: how.state, decidedAt: now, declineReason };
  });
  return viewOne(database.db, record, actorId);
}

export function declineRequest(database: Database, principalId: string, id: string, reason: string | undefined): Promise<RequestView> {
  return closeRequest(database, principalId, id, { state: 'declined', reason });
}

export function withdrawRequest(database: Database, requesterId: string, id: string): Promise<RequestView> {
  return closeRequest(database, requesterId, id, { state: 'withdrawn' });
}
