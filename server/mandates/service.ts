import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/service.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { RevokedRole } from '../db/schema.ts';
import { ApiError } from '../http/errors.ts';
import { UUID_PATTERN } from '../http/schemas.ts';
import { ensureParty, findPartiesByIds, type Party } from '../parties/repository.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import { notify, servicesOf } from '../notifications/service.ts';
import { findRegistrations, insertRegistration } from '../officials/repository.ts';
import type { GrantInput, MandateView, PartyView } from './schema.ts';
import {
  findMandate,
  insertMandate,
  listMandatesByAgent,
  listMandatesByPrincipal,
  type MandateRecord,
  markRevoked,
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
  if (party.name && (!party.protectedIdentity || party.id === viewerId)) view.name = party.name;
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
  const ids = records.flatMap((m) => [m.principalId, ...m.agentIds, ...(m.revokedBy ? [m.revokedBy] : [])]);
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
  /** An official registered the mandate for the principal (`granter`), from an office visit or a signed form. */
  registeredBy?: { official: Party; reason: string; documentReference: string };
  /** The request this grant approves; `settle` runs inside the grant's transaction and may refuse it. */
  fromRequest?: { id: string; settle: (trx: Queryable, mandateId: string) => Promise<void> };
}

export async function grantMandate(
  database: Database,
  policies: PolicyEngine,
  granter: Party,
  input: GrantInput,
  options: GrantOptions = {},
): Promise<MandateView> {
  const { registeredBy, fromRequest } = options;
  const actorId = registeredBy?.official.id ?? granter.id;
  if (input.principal && (input.principal.type !== granter.kind || input.principal.id !== granter.nationalId)) {
    throw new ApiError(403, 'not-a-signatory', 'You may grant only on your own behalf.');
  }
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
  if (input.agents.some((a) => a.type === granter.kind && a.id === granter.nationalId)) {
    throw new ApiError(400, 'agent-is-principal', 'You cannot give a power of attorney to yourself.');
  }
  if (input.mode === 'joint' && input.agents.length < 2) {
    throw new ApiError(400, 'invalid-request', 'A joint power of attorney needs at least two agents.');
  }

  const record = await database.transaction(async (trx) => {
    const agents: Party[] = [];
    for (const ref of input.agents) agents.push(await ensureParty(trx, ref));
    const m: MandateRecord = {
      id: randomUUID(),
      principalId: granter.id,
      mode: input.mode,
      mayDelegate: input.mayDelegate,
      validFrom,
      validTo: input.validTo,
      state: 'active',
      parentId: null,
      createdAt: now,
      createdBy: actorId,
      revokedAt: null,
      revokedBy: null,
      revokedRole: null,
      revokeReason: null,
      agentIds: agents.map((a) => a.id),
      scopes: rows,
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
        action: 'mandate.granted',
        actor: { type: 'person', partyId: actorId },
        partyIds: [actorId, granter.id, ...m.agentIds],
        mandateId: m.id,
        at: now,
        data: {
          scopes: groupScopes(rows),
          validFrom: validFrom.toISOString(),
          validTo: m.validTo.toISOString(),
          mode: m.mode,
          mayDelegate: m.mayDelegate,
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
        { kind: 'mandate.registered-by-official', recipientIds: [granter.id], channel: 'letter', data: { ...about, documentReference: registeredBy.documentReference } },
        now,
      );
    }
    await notify(trx, { kind: 'mandate.granted', recipientIds: m.agentIds.filter((id) => id !== actorId), data: about }, now);
    return m;
  });
  return (await viewMandates(database.db, [record], actorId))[0] as MandateView;
}

export async function listMandates(database: Database, viewerId: string, as: 'principal' | 'agent'): Promise<MandateView[]> {
  const records =
    as === 'principal'
      ? await listMandatesByPrincipal(database.db, viewerId)
      : await listMandatesByAgent(database.db, viewerId);
  return viewMandates(database.db, records, viewerId);
}

function involves(m: MandateRecord, partyId: string): boolean {
  return m.principalId === partyId || m.agentIds.includes(partyId);
}

const notFound = () => new ApiError(404, 'not-found', 'There is no such power of attorney.');

/** Someone else's mandate is answered exactly like a missing one: no existence leak. */
export async function readMandate(database: Database, viewerId: string, id: string): Promise<MandateView> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  const m = await findMandate(database.db, id);
  if (!m || !involves(m, viewerId)) throw notFound();
  return (await viewMandates(database.db, [m], viewerId))[0] as MandateView;
}

/**
 * The principal revokes, an agent returns. Idempotent: a mandate that has already ended
 * is answered as it stands and nothing new is recorded.
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
    if (!m || !involves(m, actorId)) throw notFound();
    const now = new Date();
    if (m.state === 'revoked' || statusAt(m, now) === 'expired') return m;
    const role: RevokedRole = m.principalId === actorId ? 'principal' : 'agent';
    const revocation = { at: now, by: actorId, role, reason: reason?.length ? reason : null };
    await markRevoked(trx, m.id, revocation);
    await appendAudit(trx, [
      {
        action: role === 'principal' ? 'mandate.revoked' : 'mandate.returned',
        actor: { type: 'person', partyId: actorId },
        partyIds: [m.principalId, ...m.agentIds],
        mandateId: m.id,
        at: now,
        data: reason ? { reason } : {},
      },
    ]);
    await notify(
      trx,
      {
        kind: role === 'principal' ? 'mandate.revoked' : 'mandate.returned',
        recipientIds: [m.principalId, ...m.agentIds].filter((id) => id !== actorId),
        data: { mandateId: m.id, services: servicesOf(m.scopes) },
      },
      now,
    );
    return { ...m, state: 'revoked' as const, revokedAt: now, revokedBy: actorId, revokedRole: role, revokeReason: revocation.reason };
  });
  return (await viewMandates(database.db, [record], actorId))[0] as MandateView;
}
