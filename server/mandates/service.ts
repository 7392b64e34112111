import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/service.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { RevokedRole } from '../db/schema.ts';
import { ApiError } from '../http/errors.ts';
import { UUID_PATTERN } from '../http/schemas.ts';
import { ensureParty, findPartiesByIds, findPartyByRef, type Party } from '../parties/repository.ts';
import { disclosedName } from '../parties/view.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import { notify, servicesOf } from '../notifications/service.ts';
import { findRegistrations, insertRegistration } from '../officials/repository.ts';
import type { GrantInput, MandateView, PartyView } from './schema.ts';
import { findRepresentedBy, findSignatories } from '../registers/repository.ts';
import {
  findDescendants,
  findMandate,
  insertMandate,
  listMandatesByAgent,
  listMandatesByPrincipal,
  listMandatesDelegatedBy,
  listMandatesOfPrincipals,
  type MandateRecord,
  markActive,
  markRevoked,
  recordApproval,
  type ScopeRow,
} from './repository.ts';

const DAY_MS = 86_400_000;
/** A grant may start slightly in the past: the person's clock and ours differ a little. */
const PAST_START_TOLERANCE_MS = 5 * 60_000;

export type MandateStatus = MandateView['status'];

export function statusAt(m: Pick<MandateRecord, 'state' | 'validTo'>, at: Date): MandateStatus {
  if (m.state === 'revoked') return 'revoked';
  if (m.validTo.getTime() <= at.getTime()) return 'expired';
  return m.state;
}

/** Shows a party; a protected identity's name is shown to nobody but that person. */
export function partyView(party: Party | undefined, viewerId: string): PartyView {
  if (!party) return { type: 'person', id: 'unknown' };
  const view: PartyView = { type: party.kind, id: party.nationalId };
  const name = disclosedName(party, viewerId);
  if (name) view.name = name;
  return view;
}

function groupScopes(scopes: readonly ScopeRow[]): MandateView['scopes'] {
  const byService = new Map<string, MandateView['scopes'][number]>();
  for (const s of scopes) {
    let entry = byService.get(s.service);
    if (!entry) {
      entry = { service: s.service, permissions: [] };
      byService.set(s.service, entry);
    }
    entry.permissions.push(s.permission);
    if (s.maxAmount !== null) entry.constraints = { maxAmount: s.maxAmount };
  }
  return [...byService.values()];
}

export async function viewMandates(db: Queryable, records: readonly MandateRecord[], viewerId: string): Promise<MandateView[]> {
  const ids = records.flatMap((m) => [
    m.principalId,
    m.createdBy,
    ...m.agentIds,
    ...(m.revokedBy ? [m.revokedBy] : []),
    ...m.approvals.map((a) => a.signatoryId),
  ]);
  const [parties, registrations] = await Promise.all([
    findPartiesByIds(db, ids),
    findRegistrations(
      db,
      records.map((m) => m.id),
    ),
  ]);
  const now = new Date();
  return records.map((m) => {
    const view: MandateView = {
      id: m.id,
      principal: partyView(parties.get(m.principalId), viewerId),
      agents: m.agentIds.map((a) => partyView(parties.get(a), viewerId)),
      scopes: groupScopes(m.scopes),
      validFrom: m.validFrom.toISOString(),
      validTo: m.validTo.toISOString(),
      mode: m.mode,
      mayDelegate: m.mayDelegate,
      parentId: m.parentId,
      status: statusAt(m, now),
      createdAt: m.createdAt.toISOString(),
    };
    if (m.revokedAt) view.revokedAt = m.revokedAt.toISOString();
    if (m.revokedBy) view.revokedBy = partyView(parties.get(m.revokedBy), viewerId);
    if (m.revokedRole) view.revokedRole = m.revokedRole;
    if (m.revokeReason) view.revokeReason = m.revokeReason;
    if (m.parentId) view.delegatedBy = partyView(parties.get(m.createdBy), viewerId);
    if (m.approvals.length > 0) {
      view.approvals = m.approvals.map((a) => ({
        signatory: partyView(parties.get(a.signatoryId), viewerId),
        ...(a.approvedAt ? { approvedAt: a.approvedAt.toISOString() } : {}),
      }));
    }
    const registration = registrations.get(m.id);
    if (registration) {
      view.registeredBy = {
        role: 'official',
        reason: registration.reason,
        documentReference: registration.documentReference,
        at: registration.registeredAt.toISOString(),
      };
    }
    return view;
  });
}

/** Checks the requested scopes against the catalogue and returns one row per permission. */
export function scopeRows(policies: PolicyEngine, input: Pick<GrantInput, 'scopes'>): { rows: ScopeRow[]; maxDays: number } {
  const rows: ScopeRow[] = [];
  const seen = new Set<string>();
  let maxDays = Number.POSITIVE_INFINITY;
  for (const [i, scope] of input.scopes.entries()) {
    const service = policies.service(scope.service);
    if (!service) {
      throw new ApiError(400, 'scope-not-in-catalogue', `There is no service "${scope.service}".`, {
        errors: [{ in: 'body', path: `scopes.${i}.service`, message: 'unknown service' }],
      });
    }
    if (seen.has(scope.service)) {
      throw new ApiError(400, 'duplicate-scope', `The service "${scope.service}" is named twice; list its permissions once.`);
    }
    seen.add(scope.service);
    maxDays = Math.min(maxDays, service.maxValidityDays);
    const codes = new Set(scope.permissions);
    for (const code of codes) {
      const permission = service.permissions.find((p) => p.code === code);
      if (!permission) {
        throw new ApiError(400, 'scope-not-in-catalogue', `"${code}" is not a permission of ${service.id}.`, {
          errors: [{ in: 'body', path: `scopes.${i}.permissions`, message: `unknown permission ${code}` }],
        });
      }
      const limit = scope.constraints?.maxAmount;
      let maxAmount: number | null = null;
      if (permission.amountLimit) {
        if (limit === undefined && permission.amountLimit.required) {
          throw new ApiError(400, 'constraint-required', `"${code}" needs a money limit (constraints.maxAmount).`);
        }
        if (limit !== undefined && limit > permission.amountLimit.max) {
          throw new ApiError(400, 'constraint-not-allowed', `The money limit for "${code}" may be at most ${permission.amountLimit.max}.`);
        }
        maxAmount = limit ?? null;
      }
      rows.push({ service: service.id, permission: code, maxAmount });
    }
    const limited = [...codes].some((c) => service.permissions.find((p) => p.code === c)?.amountLimit);
    if (scope.constraints?.maxAmount !== undefined && !limited) {
      throw new ApiError(400, 'constraint-not-allowed', `None of the permissions of ${service.id} takes a money limit.`);
    }
  }
  return { rows, maxDays };
}

export interface GrantOptions {
  /** How many times a mandate may be passed on; see `Config.maxDelegationDepth`. */
  maxDelegationDepth?: number;
  /** An official registered the mandate for the principal (`granter`), from an office visit or a signed form. */
  registeredBy?: { official: Party; reason: string; documentReference: string };
  /** The request this grant approves; `settle` runs inside the grant's transaction and may refuse it. */
  fromRequest?: { id: string; settle: (trx: Queryable, mandateId: string) => Promise<void> };
}

export const DEFAULT_MAX_DELEGATION_DEPTH = 2;

/** The mandates above `parent`, parent's parent first; bounded so a damaged chain cannot loop. */
async function ancestorsOf(db: Queryable, parent: MandateRecord): Promise<MandateRecord[]> {
  const chain: MandateRecord[] = [];
  for (let id = parent.parentId; id !== null && chain.length <= 10; ) {
    const m = await findMandate(db, id);
    if (!m) break;
    chain.push(m);
    id = m.parentId;
  }
  return chain;
}

/**
 * A passed-on mandate never exceeds its parent (invariant 5): the parent must be in force and
 * allow it, and the new scopes, money limits and window must lie inside the parent's.
 */
async function assertDelegable(
  db: Queryable,
  parent: MandateRecord,
  rows: readonly ScopeRow[],
  window: { validFrom: Date; validTo: Date },
  maxDepth: number,
  now: Date,
): Promise<void> {
  if (!parent.mayDelegate) throw new ApiError(400, 'delegation-not-allowed', 'This power of attorney may not be passed on.');
  if (parent.mode === 'joint') {
    throw new ApiError(400, 'delegation-not-allowed', 'A joint power of attorney cannot be passed on by one of its agents.');
  }
  const ancestors = await ancestorsOf(db, parent);
  if ([parent, ...ancestors].some((m) => statusAt(m, now) !== 'active' || m.validFrom.getTime() > now.getTime())) {
    throw new ApiError(400, 'parent-not-active', 'The power of attorney to pass on is not in force.');
  }
  if (ancestors.length + 1 > maxDepth) {
    throw new ApiError(400, 'delegation-too-deep', `A power of attorney may be passed on at most ${maxDepth} time(s).`, { maxDelegationDepth: maxDepth });
  }
  for (const row of rows) {
    const own = parent.scopes.find((p) => p.service === row.service && p.permission === row.permission);
    if (!own) {
      throw new ApiError(400, 'scope-exceeds-parent', `"${row.permission}" on ${row.service} is not in the power of attorney being passed on.`);
    }
    if (own.maxAmount !== null && (row.maxAmount === null || row.maxAmount > own.maxAmount)) {
      throw new ApiError(400, 'constraint-exceeds-parent', `The money limit for "${row.permission}" may be at most ${own.maxAmount}.`, {
        maxAmount: own.maxAmount,
      });
    }
  }
  if (window.validFrom.getTime() < parent.validFrom.getTime() || window.validTo.getTime() > parent.validTo.getTime()) {
    throw new ApiError(400, 'window-exceeds-parent', 'The validity must lie inside that of the power of attorney being passed on.', {
      parentValidFrom: parent.validFrom.toISOString(),
      parentValidTo: parent.validTo.toISOString(),
    });
  }
}

interface Principalship {
  principal: Party;
  state: 'active' | 'pending';
  approvals: MandateRecord['approvals'];
}

/**
 * Whom the granter grants for: themselves, or an organisation they sign for. A signatory who
 * signs alone makes it active at once; with joint signing it waits for every joint signatory.
 */
async function principalship(db: Queryable, granter: Party, ref: GrantInput['principal'], now: Date): Promise<Principalship> {
  if (!ref || (ref.type === granter.kind && ref.id === granter.nationalId)) return { principal: granter, state: 'active', approvals: [] };
  const organisation = ref.type === 'organisation' ? await findPartyByRef(db, ref) : undefined;
  const signatories = organisation ? await findSignatories(db, organisation.id, now) : [];
  const own = signatories.filter((s) => s.representativeId === granter.id);
  if (!organisation || own.length === 0) {
    throw new ApiError(403, 'not-a-signatory', 'You may grant only on your own behalf or for an organisation you sign for.');
  }
  if (own.some((s) => s.rule === 'alone')) return { principal: organisation, state: 'active', approvals: [] };
  const required = [...new Set(signatories.filter((s) => s.rule === 'jointly').map((s) => s.representativeId))];
  const approvals = required.map((id) => ({ signatoryId: id, approvedAt: id === granter.id ? now : null }));
  return { principal: organisation, state: approvals.every((a) => a.approvedAt) ? 'active' : 'pending', approvals };
}

/**
 * Grants a mandate: for oneself, for an organisation one signs for, or by passing on
 * (`parentId`) a mandate one holds as agent. The mandate and its audit event commit together.
 */
export async function grantMandate(
  database: Database,
  policies: PolicyEngine,
  granter: Party,
  input: GrantInput,
  options: GrantOptions = {},
): Promise<MandateView> {
  const { registeredBy, fromRequest } = options;
  const actorId = registeredBy?.official.id ?? granter.id;
  const now = new Date();
  const validFrom = input.validFrom ?? now;
  if (validFrom.getTime() < now.getTime() - PAST_START_TOLERANCE_MS) {
    throw new ApiError(400, 'invalid-validity', 'validFrom may not be in the past.');
  }
  if (input.validTo.getTime() <= validFrom.getTime()) {
    throw new ApiError(400, 'invalid-validity', 'validTo must be after validFrom.');
  }
  const { rows, maxDays } = scopeRows(policies, input);
  if (input.validTo.getTime() - validFrom.getTime() > maxDays * DAY_MS) {
    throw new ApiError(400, 'validity-exceeds-maximum', `A power of attorney for these services may last at most ${maxDays} days.`, {
      maxValidityDays: maxDays,
    });
  }
  const agentKeys = input.agents.map((a) => `${a.type}:${a.id}`);
  if (new Set(agentKeys).size !== agentKeys.length) {
    throw new ApiError(400, 'duplicate-agent', 'The same agent is named twice.');
  }
  if (input.mode === 'joint' && input.agents.length < 2) {
    throw new ApiError(400, 'invalid-request', 'A joint power of attorney needs at least two agents.');
  }
  if (input.parentId && input.principal) {
    throw new ApiError(400, 'invalid-request', 'A power of attorney passed on keeps the principal of the one it comes from; leave out principal.');
  }

  const record = await database.transaction(async (trx) => {
    let grant: Principalship;
    if (input.parentId) {
      const parent = await findMandate(trx, input.parentId, { lock: true });
      if (!parent || !parent.agentIds.includes(granter.id)) throw notFound();
      await assertDelegable(trx, parent, rows, { validFrom, validTo: input.validTo }, options.maxDelegationDepth ?? DEFAULT_MAX_DELEGATION_DEPTH, now);
      const principal = (await findPartiesByIds(trx, [parent.principalId])).get(parent.principalId);
      if (!principal) throw new Error('mandate principal missing');
      grant = { principal, state: 'active', approvals: [] };
    } else {
      grant = await principalship(trx, granter, input.principal, now);
    }
    const { principal } = grant;
    if (input.agents.some((a) => a.type === principal.kind && a.id === principal.nationalId)) {
      throw new ApiError(400, 'agent-is-principal', 'A power of attorney cannot name its principal as agent.');
    }
    if (input.parentId && input.agents.some((a) => a.type === granter.kind && a.id === granter.nationalId)) {
      throw new ApiError(400, 'duplicate-agent', 'You already hold the power of attorney you are passing on.');
    }
    const agents: Party[] = [];
    for (const ref of input.agents) agents.push(await ensureParty(trx, ref));
    const m: MandateRecord = {
      id: randomUUID(),
      principalId: principal.id,
      mode: input.mode,
      mayDelegate: input.mayDelegate,
      validFrom,
      validTo: input.validTo,
      state: grant.state,
      parentId: input.parentId ?? null,
      createdAt: now,
      createdBy: actorId,
      revokedAt: null,
      revokedBy: null,
      revokedRole: null,
      revokeReason: null,
      agentIds: agents.map((a) => a.id),
      scopes: rows,
      approvals: grant.approvals,
    };
    await insertMandate(trx, m);
    if (registeredBy) {
      await insertRegistration(trx, {
        mandateId: m.id,
        officialId: registeredBy.official.id,
        reason: registeredBy.reason,
        documentReference: registeredBy.documentReference,
        registeredAt: now,
      });
    }
    if (fromRequest) await fromRequest.settle(trx, m.id);
    await appendAudit(trx, [
      {
        action: input.parentId ? 'mandate.delegated' : 'mandate.granted',
        actor: { type: 'person', partyId: actorId },
        partyIds: [...new Set([actorId, principal.id, granter.id, ...m.agentIds, ...m.approvals.map((a) => a.signatoryId)])],
        mandateId: m.id,
        at: now,
        data: {
          scopes: groupScopes(rows),
          validFrom: validFrom.toISOString(),
          validTo: m.validTo.toISOString(),
          mode: m.mode,
          mayDelegate: m.mayDelegate,
          status: m.state,
          ...(m.parentId ? { parentId: m.parentId } : {}),
          ...(principal.id !== granter.id ? { principalId: principal.id } : {}),
          ...(registeredBy
            ? { registeredBy: 'official', reason: registeredBy.reason, documentReference: registeredBy.documentReference }
            : {}),
          ...(fromRequest ? { requestId: fromRequest.id } : {}),
        },
      },
    ]);
    const about = { mandateId: m.id, services: servicesOf(rows), validTo: m.validTo.toISOString() };
    if (registeredBy) {
      // The principal did not sign in: a letter tells them, so a registration they do not recognise is noticed.
      await notify(
        trx,
        { kind: 'mandate.registered-by-official', recipientIds: [principal.id], channel: 'letter', data: { ...about, documentReference: registeredBy.documentReference } },
        now,
      );
    }
    await notify(trx, { kind: 'mandate.granted', recipientIds: m.agentIds.filter((id) => id !== actorId), data: about }, now);
    return m;
  });
  return (await viewMandates(database.db, [record], actorId))[0] as MandateView;
}

/**
 * A required signatory approves an organisation's pending mandate; the last approval makes it
 * active. Idempotent; anyone else is answered as if the mandate did not exist.
 */
export async function approveMandate(database: Database, actorId: string, id: string): Promise<MandateView> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  const record = await database.transaction(async (trx) => {
    const m = await findMandate(trx, id, { lock: true });
    const mine = m?.approvals.find((a) => a.signatoryId === actorId);
    if (!m || !mine) throw notFound();
    if (mine.approvedAt || m.state !== 'pending') return m;
    const now = new Date();
    await recordApproval(trx, m.id, actorId, now);
    const approvals = m.approvals.map((a) => (a.signatoryId === actorId ? { ...a, approvedAt: now } : a));
    const complete = approvals.every((a) => a.approvedAt);
    if (complete) await markActive(trx, m.id);
    await appendAudit(trx, [
      {
        action: complete ? 'mandate.activated' : 'mandate.approved',
        actor: { type: 'person', partyId: actorId },
        partyIds: [...new Set([m.principalId, ...m.agentIds, ...approvals.map((a) => a.signatoryId)])],
        mandateId: m.id,
        at: now,
        data: { approved: approvals.filter((a) => a.approvedAt).length, required: approvals.length, principalId: m.principalId },
      },
    ]);
    return { ...m, approvals, state: complete ? ('active' as const) : m.state };
  });
  return (await viewMandates(database.db, [record], actorId))[0] as MandateView;
}

export type ListRole = 'principal' | 'agent' | 'signatory' | 'delegator';

export async function listMandates(database: Database, viewerId: string, as: ListRole): Promise<MandateView[]> {
  const db = database.db;
  let records: MandateRecord[];
  switch (as) {
    case 'principal':
      records = await listMandatesByPrincipal(db, viewerId);
      break;
    case 'agent':
      records = await listMandatesByAgent(db, viewerId);
      break;
    case 'signatory': {
      const organisations = await findRepresentedBy(db, viewerId, new Date(), 'signatory');
      records = await listMandatesOfPrincipals(db, [...new Set(organisations.map((o) => o.representedId))]);
      break;
    }
    case 'delegator':
      records = await listMandatesDelegatedBy(db, viewerId);
      break;
  }
  return viewMandates(db, records, viewerId);
}

/**
 * How the party stands to the mandate, if at all: its principal (or a signatory of the
 * organisation that is), an agent, the agent who passed it on, or a signatory asked to approve.
 */
async function relationTo(db: Queryable, m: MandateRecord, partyId: string): Promise<RevokedRole | 'approver' | undefined> {
  if (m.principalId === partyId) return 'principal';
  if (m.agentIds.includes(partyId)) return 'agent';
  if (m.parentId !== null && m.createdBy === partyId) return 'delegator';
  const signs = await findRepresentedBy(db, partyId, new Date(), 'signatory');
  if (signs.some((s) => s.representedId === m.principalId)) return 'principal';
  if (m.approvals.some((a) => a.signatoryId === partyId)) return 'approver';
  return undefined;
}

const notFound = () => new ApiError(404, 'not-found', 'There is no such power of attorney.');

/** Someone else's mandate is answered exactly like a missing one: no existence leak. */
export async function readMandate(database: Database, viewerId: string, id: string): Promise<MandateView> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  const m = await findMandate(database.db, id);
  if (!m || !(await relationTo(database.db, m, viewerId))) throw notFound();
  return (await viewMandates(database.db, [m], viewerId))[0] as MandateView;
}

/**
 * The principal (or a signatory of an organisation principal) revokes, an agent returns, the
 * agent who passed it on takes it back. Everything passed on from it ends in the same
 * transaction. Idempotent: a mandate that has already ended is answered as it stands.
 */
export async function revokeMandate(
  database: Database,
  actorId: string,
  id: string,
  reason: string | undefined,
): Promise<MandateView> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  const record = await database.transaction(async (trx) => {
    const m = await findMandate(trx, id, { lock: true });
    const relation = m ? await relationTo(trx, m, actorId) : undefined;
    if (!m || !relation) throw notFound();
    const now = new Date();
    if (m.state === 'revoked' || statusAt(m, now) === 'expired') return m;
    // A signatory asked to approve may decline by revoking; it is the organisation's refusal.
    const role: RevokedRole = relation === 'approver' ? 'principal' : relation;
    const revocation = { at: now, by: actorId, role, reason: reason?.length ? reason : null };
    await markRevoked(trx, m.id, revocation);
    const subtree = (await findDescendants(trx, m.id)).filter((d) => d.state !== 'revoked');
    for (const d of subtree) await markRevoked(trx, d.id, { ...revocation, reason: null });
    await appendAudit(trx, [
      {
        action: role === 'agent' ? 'mandate.returned' : 'mandate.revoked',
        actor: { type: 'person', partyId: actorId },
        partyIds: [...new Set([m.principalId, ...m.agentIds, m.createdBy])],
        mandateId: m.id,
        at: now,
        data: { ...(reason ? { reason } : {}), ...(subtree.length > 0 ? { endedWithIt: subtree.length } : {}) },
      },
      ...subtree.map((d) => ({
        action: 'mandate.revoked',
        actor: { type: 'person' as const, partyId: actorId },
        partyIds: [...new Set([d.principalId, ...d.agentIds, d.createdBy])],
        mandateId: d.id,
        at: now,
        data: { cause: 'parent-ended', parentId: m.id },
      })),
    ]);
    await notify(
      trx,
      {
        kind: role === 'agent' ? 'mandate.returned' : 'mandate.revoked',
        // Everyone whose mandate ended: this one's parties and those of every mandate passed on from it.
        recipientIds: [m, ...subtree].flatMap((d) => [d.principalId, ...d.agentIds]).filter((id) => id !== actorId),
        data: { mandateId: m.id, services: servicesOf(m.scopes) },
      },
      now,
    );
    return { ...m, state: 'revoked' as const, revokedAt: now, revokedBy: actorId, revokedRole: role, revokeReason: revocation.reason };
  });
  return (await viewMandates(database.db, [record], actorId))[0] as MandateView;
}
