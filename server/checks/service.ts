import { randomUUID } from 'node:crypto';
import type { Counter } from 'prom-client';
import { appendAudit } from '../audit/service.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import type { AgencyPrincipal } from '../identity/agency-tokens.ts';
import { isMinorAt } from '../identity/identity-number.ts';
import { invalidatedForService } from '../invalidations/repository.ts';
import type { KeyRing } from '../identity/keys.ts';
import { ASSURANCE } from '../identity/sessions.ts';
import { findPartiesByIds, findPartyByRef, type Party, refOf } from '../parties/repository.ts';
import type { PartyRef } from '../parties/schema.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import type { CheckLog } from './check-log.ts';
import { activeScopesForAgent, type Candidate, findCandidates } from './repository.ts';
import type { CheckInput, CheckResponse } from './schema.ts';

const DECISION_TOKEN_TYP = 'ombud-decision+jwt';
const DECISION_TOKEN_SECONDS = 300;

export interface CheckDeps {
  config: Config;
  database: Database;
  policies: PolicyEngine;
  keys: KeyRing;
  checkLog: CheckLog;
  checksTotal: Counter<'decision'>;
}

type Reason = CheckResponse['reasons'][number];
type Basis = CheckResponse['basis'][number];

/** The service must exist and belong to the asking agency; the permission must exist. */
function assertServiceOwned(deps: CheckDeps, agency: AgencyPrincipal, serviceId: string, permission?: string): void {
  if (!agency.services.includes(serviceId)) {
    throw new ApiError(403, 'service-not-owned', `Your agency may not ask about ${serviceId}.`);
  }
  const service = deps.policies.service(serviceId);
  if (!service) throw new ApiError(400, 'unknown-service', `There is no service "${serviceId}".`);
  if (permission !== undefined && !service.permissions.some((p) => p.code === permission)) {
    throw new ApiError(400, 'scope-not-in-catalogue', `"${permission}" is not a permission of ${serviceId}.`);
  }
}

/**
 * Judges one mandate at `at`. Whether the basis is active, and the joint rule, are decided
 * here for every service alike; what the basis then permits is the service's policy.
 */
function judgeMandate(
  deps: CheckDeps,
  input: CheckInput,
  m: Candidate,
  agent: Party,
  principal: Party,
  coAgentIds: ReadonlySet<string>,
  at: Date,
): { permit: true } | { permit: false; reasons: string[] } {
  if (m.revokedAt && m.revokedAt.getTime() <= at.getTime()) return { permit: false, reasons: ['revoked'] };
  if (m.state === 'pending') return { permit: false, reasons: ['pending'] };
  if (at.getTime() < m.validFrom.getTime()) return { permit: false, reasons: ['not-yet-valid'] };
  if (at.getTime() >= m.validTo.getTime()) return { permit: false, reasons: ['expired'] };
  if (m.mode === 'joint' && !m.agentIds.every((id) => id === agent.id || coAgentIds.has(id))) {
    return { permit: false, reasons: ['joint-requires-co-agents'] };
  }
  const decision = deps.policies.decide(input.service, agent.id, principal.id, {
    permission: input.permission,
    basis: 'mandate',
    delegated: m.parentId !== null,
    assurance: input.assurance ? ASSURANCE[input.assurance] : ASSURANCE.unknown,
    principalKind: principal.kind,
    principalIsMinor: principal.kind === 'person' && isMinorAt(principal.nationalId, at),
    principalProtectedIdentity: principal.protectedIdentity,
    trusteeScope: [],
    signingRule: '',
    ...(input.amount !== undefined ? { amount: input.amount } : {}),
    ...(m.maxAmount !== null ? { amountLimit: m.maxAmount } : {}),
  });
  if (decision.allowed) return { permit: true };
  if (decision.errors.length > 0) return { permit: false, reasons: ['policy-error'] };
  return { permit: false, reasons: decision.ruleIds.length > 0 ? decision.ruleIds : ['basis-not-accepted'] };
}

/**
 * "May agent act for principal on service/permission at time T?" Gathers every mandate that
 * connects them, lets the service's policy judge each active one, logs the answer durably
 * (group commit) and only then returns it, signed.
 */
export async function check(deps: CheckDeps, agency: AgencyPrincipal, input: CheckInput): Promise<CheckResponse> {
  assertServiceOwned(deps, agency, input.service, input.permission);
  const db = deps.database.db;
  const at = input.at ?? new Date();
  const [agent, principal] = await Promise.all([findPartyByRef(db, input.agent), findPartyByRef(db, input.principal)]);

  const reasons: Reason[] = [];
  const basis: Basis[] = [];
  let candidates: Candidate[] = [];
  if (agent && principal) {
    candidates = await findCandidates(db, principal.id, agent.id, input.service, input.permission);
    const invalidated = await invalidatedForService(
      db,
      candidates.map((m) => m.id),
      input.service,
    );
    const coAgentIds = new Set<string>();
    for (const ref of input.coAgents ?? []) {
      const co = await findPartyByRef(db, ref);
      if (co) coAgentIds.add(co.id);
    }
    for (const m of candidates) {
      if (invalidated.has(m.id)) {
        reasons.push({ code: 'invalidated-by-agency', mandateId: m.id });
        continue;
      }
      const verdict = judgeMandate(deps, input, m, agent, principal, coAgentIds, at);
      if (verdict.permit) basis.push({ kind: 'mandate', mandateId: m.id });
      else for (const code of verdict.reasons) reasons.push({ code, mandateId: m.id });
    }
  }
  const decision = basis.length > 0 ? 'permit' : 'deny';
  const answerReasons: Reason[] = decision === 'permit' ? [] : reasons.length > 0 ? reasons : [{ code: 'no-basis' }];

  const checkId = randomUUID();
  await deps.checkLog.record({
    action: 'check',
    actor: { type: 'agency', agencyId: agency.id },
    partyIds: [agent?.id, principal?.id].filter((x): x is string => x !== undefined),
    mandateId: basis[0]?.mandateId ?? candidates[0]?.id ?? null,
    data: {
      checkId,
      agencyId: agency.id,
      service: input.service,
      permission: input.permission,
      decision,
      reasons: answerReasons,
      basis,
      at: at.toISOString(),
      agentId: agent?.id ?? null,
      principalId: principal?.id ?? null,
    },
  });
  deps.checksTotal.inc({ decision });

  const decisionToken = await deps.keys.sign(
    {
      checkId,
      decision,
      reasons: answerReasons,
      basis,
      agent: input.agent,
      principal: input.principal,
      service: input.service,
      permission: input.permission,
      at: at.toISOString(),
    },
    { typ: DECISION_TOKEN_TYP, issuer: deps.config.publicUrl, audience: agency.id, expiresInSeconds: DECISION_TOKEN_SECONDS },
  );
  return { decision, reasons: answerReasons, basis, checkId, decisionToken };
}

export interface Representation {
  principal: PartyRef;
  permissions: string[];
  basis: Array<{ kind: 'mandate'; mandateId: string; mode: 'several' | 'joint' }>;
}

/** Whom the agent may act for on a service now; the listing itself is recorded for each principal. */
export async function representations(
  deps: CheckDeps,
  agency: AgencyPrincipal,
  agentRef: PartyRef,
  serviceId: string,
): Promise<Representation[]> {
  assertServiceOwned(deps, agency, serviceId);
  const db = deps.database.db;
  const agent = await findPartyByRef(db, agentRef);
  if (!agent) return [];
  const now = new Date();
  const active = await activeScopesForAgent(db, agent.id, serviceId, now);
  const invalidated = await invalidatedForService(
    db,
    active.map((s) => s.mandateId),
    serviceId,
  );
  const scopes = active.filter((s) => !invalidated.has(s.mandateId));
  const principals = await findPartiesByIds(
    db,
    scopes.map((s) => s.principalId),
  );
  const byPrincipal = new Map<string, Representation>();
  for (const s of scopes) {
    const party = principals.get(s.principalId);
    if (!party) continue;
    let entry = byPrincipal.get(s.principalId);
    if (!entry) {
      entry = { principal: refOf(party), permissions: [], basis: [] };
      byPrincipal.set(s.principalId, entry);
    }
    if (!entry.permissions.includes(s.permission)) entry.permissions.push(s.permission);
    if (!entry.basis.some((b) => b.mandateId === s.mandateId)) {
      entry.basis.push({ kind: 'mandate', mandateId: s.mandateId, mode: s.mode });
    }
  }
  const items = [...byPrincipal.values()];
  await deps.database.transaction((trx) =>
    appendAudit(trx, [
      {
        action: 'representations.listed',
        actor: { type: 'agency', agencyId: agency.id },
        partyIds: [agent.id, ...byPrincipal.keys()],
        data: { agencyId: agency.id, service: serviceId, agentId: agent.id, count: items.length },
      },
    ]),
  );
  return items;
}
