import { randomUUID } from 'node:crypto';
import type { Counter } from 'prom-client';
import { appendAudit } from '../audit/service.ts';
import type { Config } from '../config.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { RegisterKind } from '../db/schema.ts';
import { ApiError } from '../http/errors.ts';
import type { AgencyPrincipal } from '../identity/agency-tokens.ts';
import { isMinorAt } from '../identity/identity-number.ts';
import { invalidatedForService } from '../invalidations/repository.ts';
import type { KeyRing } from '../identity/keys.ts';
import { ASSURANCE } from '../identity/sessions.ts';
import { findPartiesByIds, findPartyByRef, type Party, refOf } from '../parties/repository.ts';
import type { PartyRef } from '../parties/schema.ts';
import type { BasisKind, Facts, PolicyEngine } from '../policy/engine.ts';
import { findRepresentedBy, type RegisterRow } from '../registers/repository.ts';
import { partyView } from '../mandates/service.ts';
import type { PartyView } from '../mandates/schema.ts';
import type { CheckLookup } from './batch-lookup.ts';
import type { CheckLog } from './check-log.ts';
import { type ActiveScope, activeScopesForAgent, type Candidate, type Link } from './repository.ts';
import type { CheckInput, CheckResponse } from './schema.ts';

const DECISION_TOKEN_TYP = 'ombud-decision+jwt';
const DECISION_TOKEN_SECONDS = 300;

export interface CheckDeps {
  config: Config;
  database: Database;
  policies: PolicyEngine;
  keys: KeyRing;
  checkLog: CheckLog;
  lookup: CheckLookup;
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

/** A permit names its basis and, when the agent acts through an organisation, that organisation. */
type Verdict = { permit: true; basis: Basis; firmId?: string } | { permit: false; reasons: Reason[] };

/** Why one mandate of a chain does not hold at `at`, or null when it does. */
function linkProblem(link: Link, at: Date): string | null {
  if (link.revokedAt && link.revokedAt.getTime() <= at.getTime()) return 'revoked';
  if (link.state === 'pending') return 'pending';
  if (at.getTime() < link.validFrom.getTime()) return 'not-yet-valid';
  if (at.getTime() >= link.validTo.getTime()) return 'expired';
  if (!link.hasScope) return 'exceeds-parent';
  return null;
}

/**
 * A delegated mandate holds only while every mandate above it holds, each let its agent pass
 * it on, and the chain is no deeper than allowed; this is judged at every check, so ending a
 * parent ends its subtree at once.
 */
function chainProblem(c: Candidate, maxDepth: number, at: Date): Reason | null {
  const own = linkProblem(c, at);
  if (own) return { code: own, mandateId: c.id };
  if (c.ancestors.length > maxDepth) return { code: 'delegation-too-deep', mandateId: c.id };
  let child: Link = c;
  for (const parent of c.ancestors) {
    const problem = linkProblem(parent, at);
    if (problem) return { code: problem, mandateId: parent.id };
    if (!parent.mayDelegate || parent.mode === 'joint' || parent.principalId !== child.principalId || !parent.agentIds.includes(child.createdBy)) {
      return { code: 'delegation-not-allowed', mandateId: parent.id };
    }
    child = parent;
  }
  if (child.parentId !== null) return { code: 'delegation-chain-broken', mandateId: c.id };
  return null;
}

/** A joint mandate holds only when every other agent of it is named among the co-agents. */
function jointProblem(m: Link, actingAs: string, coAgentIds: ReadonlySet<string>): Reason | null {
  if (m.mode !== 'joint' || m.agentIds.every((id) => id === actingAs || coAgentIds.has(id))) return null;
  return { code: 'joint-requires-co-agents', mandateId: m.id };
}

function lowestLimit(links: readonly Link[]): number | undefined {
  const limits = links.flatMap((l) => (l.maxAmount !== null ? [l.maxAmount] : []));
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

interface Asked {
  deps: CheckDeps;
  input: CheckInput;
  agent: Party;
  principal: Party;
  at: Date;
}

function facts(asked: Asked, basis: BasisKind, extra: Partial<Facts>): Facts {
  const { input, principal, at } = asked;
  return {
    permission: input.permission,
    basis,
    delegated: false,
    assurance: input.assurance ? ASSURANCE[input.assurance] : ASSURANCE.unknown,
    principalKind: principal.kind,
    principalIsMinor: principal.kind === 'person' && isMinorAt(principal.nationalId, at),
    principalProtectedIdentity: principal.protectedIdentity,
    trusteeScope: [],
    signingRule: '',
    ...(input.amount !== undefined ? { amount: input.amount } : {}),
    ...extra,
  };
}

/** Hands one active basis to the service's policy; the basis kind must be one the service accepts. */
function decide(asked: Asked, f: Facts, basis: Basis, tag: Omit<Reason, 'code'>): Verdict {
  const service = asked.deps.policies.service(asked.input.service);
  if (!service?.acceptedBases.includes(f.basis)) return { permit: false, reasons: [{ code: 'basis-not-accepted', ...tag }] };
  const decision = asked.deps.policies.decide(asked.input.service, asked.agent.id, asked.principal.id, f);
  if (decision.allowed) return { permit: true, basis };
  if (decision.errors.length > 0) return { permit: false, reasons: [{ code: 'policy-error', ...tag }] };
  const codes = decision.ruleIds.length > 0 ? decision.ruleIds : ['basis-not-accepted'];
  return { permit: false, reasons: codes.map((code) => ({ code, ...tag })) };
}

/**
 * Judges one mandate from the principal. The agent is named in it, or acts for an organisation
 * named in it through a mandate from that organisation (an employee of an accounting firm).
 * Chains and the joint rule are decided here for every service alike; what an active basis
 * then permits is the service's policy.
 */
function judgeMandate(
  asked: Asked,
  m: Candidate,
  links: readonly Candidate[],
  firms: ReadonlyMap<string, Party>,
  coAgentIds: ReadonlySet<string>,
): Verdict {
  const { deps, agent, at } = asked;
  const maxDepth = deps.config.maxDelegationDepth;
  const problem = chainProblem(m, maxDepth, at);
  if (problem) return { permit: false, reasons: [problem] };
  let actingAs = agent.id;
  let via: { link: Candidate; firm: Party } | undefined;
  if (!m.agentIds.includes(agent.id)) {
    const reasons: Reason[] = [];
    for (const link of links.filter((l) => m.agentIds.includes(l.principalId))) {
      const problem = chainProblem(link, maxDepth, at) ?? jointProblem(link, agent.id, coAgentIds);
      const firm = firms.get(link.principalId);
      if (problem) reasons.push(problem);
      else if (firm && !via) via = { link, firm };
    }
    if (!via) return { permit: false, reasons: reasons.length > 0 ? reasons : [{ code: 'no-basis', mandateId: m.id }] };
    actingAs = via.firm.id;
  }
  const joint = jointProblem(m, actingAs, coAgentIds);
  if (joint) return { permit: false, reasons: [joint] };
  const chain: Link[] = [m, ...m.ancestors, ...(via ? [via.link, ...via.link.ancestors] : [])];
  const limit = lowestLimit(chain);
  const basis: Basis = {
    kind: 'mandate',
    mandateId: m.id,
    ...(via ? { via: { organisation: refOf(via.firm), mandateId: via.link.id } } : {}),
  };
  const delegated = m.parentId !== null || (via !== undefined && via.link.parentId !== null);
  const verdict = decide(asked, facts(asked, 'mandate', { delegated, ...(limit !== undefined ? { amountLimit: limit } : {}) }), basis, {
    mandateId: m.id,
  });
  return verdict.permit && via ? { ...verdict, firmId: via.firm.id } : verdict;
}

/** Judges one register fact: in force at `at` (a guardianship ends on the child's 18th birthday), then the policy. */
function judgeRegister(asked: Asked, r: RegisterRow): Verdict {
  const { at } = asked;
  const tag = { basis: r.kind };
  if (r.validFrom && at.getTime() < r.validFrom.getTime()) return { permit: false, reasons: [{ code: 'not-yet-valid', ...tag }] };
  if (r.validTo && at.getTime() >= r.validTo.getTime()) return { permit: false, reasons: [{ code: 'expired', ...tag }] };
  const basis: Basis = {
    kind: r.kind,
    ...(r.kind === 'trustee' ? { scope: r.scope } : {}),
    ...(r.rule ? { rule: r.rule } : {}),
  };
  return decide(asked, facts(asked, r.kind, { trusteeScope: r.scope, signingRule: r.rule ?? '' }), basis, tag);
}

/** What the check engine decides about one question, before it is logged and signed. */
export interface Judgement {
  at: Date;
  agent: Party | undefined;
  principal: Party | undefined;
  decision: CheckResponse['decision'];
  reasons: Reason[];
  basis: Basis[];
  /** The organisations a permitted basis goes through, by party id. */
  firms: Map<string, Party>;
  firstMandateId: string | undefined;
}

/**
 * Gathers every mandate chain and register fact that connects agent and principal and lets the
 * service's policy judge each active one. Nothing is logged: a check logs its answer, and what
 * must agree with the checks without being one (showing a mandate reached through a firm)
 * judges the same way.
 */
export async function judge(deps: CheckDeps, agency: AgencyPrincipal, input: CheckInput): Promise<Judgement> {
  assertServiceOwned(deps, agency, input.service, input.permission);
  const at = input.at ?? new Date();
  const registerKinds = (deps.policies.service(input.service)?.acceptedBases ?? []).filter((b): b is RegisterKind => b !== 'mandate');
  // One batched read with the checks arriving alongside, on a synchronous standby when one is configured.
  const { agent, principal, found, invalidated, firms, coAgentIds } = await deps.lookup.lookup({
    agent: input.agent,
    principal: input.principal,
    service: input.service,
    permission: input.permission,
    registerKinds,
    coAgents: input.coAgents,
  });

  const reasons: Reason[] = [];
  const basis: Basis[] = [];
  let firstMandateId: string | undefined;
  const permittedFirms = new Map<string, Party>();
  if (agent && principal) {
    firstMandateId = found.mandates[0]?.id;
    // A mandate an agency declared invalid for this service is no basis, nor is anything passed on from it.
    const isInvalidated = (m: Candidate) => [m, ...m.ancestors].some((l) => invalidated.has(l.id));
    const asked: Asked = { deps, input, agent, principal, at };
    const links = found.organisationLinks.filter((l) => !isInvalidated(l));
    const verdicts: Verdict[] = [
      ...found.mandates.map((m) =>
        isInvalidated(m)
          ? { permit: false as const, reasons: [{ code: 'invalidated-by-agency', mandateId: m.id }] }
          : judgeMandate(asked, m, links, firms, coAgentIds),
      ),
      ...found.registers.map((r) => judgeRegister(asked, r)),
    ];
    for (const v of verdicts) {
      if (v.permit) {
        basis.push(v.basis);
        const firm = v.firmId ? firms.get(v.firmId) : undefined;
        if (firm) permittedFirms.set(firm.id, firm);
      } else reasons.push(...v.reasons);
    }
  }
  const decision = basis.length > 0 ? 'permit' : 'deny';
  const answerReasons: Reason[] = decision === 'permit' ? [] : reasons.length > 0 ? reasons : [{ code: 'no-basis' }];
  return { at, agent, principal, decision, reasons: answerReasons, basis, firms: permittedFirms, firstMandateId };
}

/**
 * "May agent act for principal on service/permission at time T?" Judges it, logs the answer
 * durably (group commit) and only then returns it, signed. The agent is always the person (or
 * system) actually acting; an organisation it acts through is named in the basis.
 */
export async function check(deps: CheckDeps, agency: AgencyPrincipal, input: CheckInput): Promise<CheckResponse> {
  const { at, agent, principal, decision, reasons: answerReasons, basis, firms, firstMandateId } = await judge(deps, agency, input);
  const checkId = randomUUID();
  await deps.checkLog.record({
    action: 'check',
    actor: { type: 'agency', agencyId: agency.id },
    partyIds: [agent?.id, principal?.id, ...firms.keys()].filter((x): x is string => x !== undefined),
    mandateId: basis.find((b) => b.mandateId)?.mandateId ?? firstMandateId ?? null,
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

/** A permission an active mandate gives the agent, directly or through an organisation (`via`). */
export type ReachedScope = ActiveScope & { via?: Basis['via'] };

/**
 * What active mandates give the agent on one service now: its own, and what the clients of an
 * organisation that names the agent gave that organisation, where both mandates name the
 * permission. A mandate an agency invalidated for the service is left out; chains, the joint
 * rule and the service's policy are for a check to judge.
 */
export async function reachedScopes(db: Queryable, agent: Party, serviceId: string, now: Date): Promise<ReachedScope[]> {
  const active = await activeScopesForAgent(db, agent.id, serviceId, now);
  const firms = [...(await findPartiesByIds(db, [...new Set(active.map((s) => s.principalId))])).values()].filter((p) => p.kind === 'organisation');
  const throughFirms = (
    await Promise.all(firms.map(async (firm) => (await activeScopesForAgent(db, firm.id, serviceId, now)).map((s) => ({ ...s, firm }))))
  ).flat();
  const invalidated = await invalidatedForService(
    db,
    [...active, ...throughFirms].map((s) => s.mandateId),
    serviceId,
  );
  const own = active.filter((s) => !invalidated.has(s.mandateId));
  const via = throughFirms.flatMap((client) => {
    const link = own.find((s) => s.principalId === client.firm.id && s.permission === client.permission);
    if (!link || invalidated.has(client.mandateId) || client.principalId === agent.id) return [];
    const { firm, ...scope } = client;
    return [{ ...scope, via: { organisation: refOf(firm), mandateId: link.mandateId } }];
  });
  return [...own, ...via];
}

export interface Representation {
  principal: PartyRef;
  permissions: string[];
  basis: Array<Basis & { mode?: 'several' | 'joint' }>;
}

/**
 * Whom the agent may act for now on each service, by mandate or register, keyed by service and
 * then by principal. Mandates are listed by the permissions they name. A register basis is
 * listed with the permissions the service's policy grants it on what is known without a
 * request (no assurance level, no amount), so it never promises more than a check would give.
 */
async function reach(
  deps: CheckDeps,
  agent: Party,
  serviceIds: readonly string[],
  now: Date,
): Promise<{ principals: Map<string, Party>; registered: RegisterRow[]; byService: Map<string, Map<string, Representation>> }> {
  const db = deps.database.db;
  const [perService, registered] = await Promise.all([
    Promise.all(serviceIds.map((serviceId) => reachedScopes(db, agent, serviceId, now))),
    findRepresentedBy(db, agent.id, now),
  ]);
  const principals = await findPartiesByIds(db, [...perService.flat().map((s) => s.principalId), ...registered.map((r) => r.representedId)]);
  const agentRef = refOf(agent);
  const byService = new Map<string, Map<string, Representation>>();
  serviceIds.forEach((serviceId, i) => {
    const byPrincipal = new Map<string, Representation>();
    byService.set(serviceId, byPrincipal);
    const entryOf = (party: Party) => {
      let entry = byPrincipal.get(party.id);
      if (!entry) {
        entry = { principal: refOf(party), permissions: [], basis: [] };
        byPrincipal.set(party.id, entry);
      }
      return entry;
    };
    for (const s of perService[i] ?? []) {
      const party = principals.get(s.principalId);
      if (!party) continue;
      const entry = entryOf(party);
      if (!entry.permissions.includes(s.permission)) entry.permissions.push(s.permission);
      if (!entry.basis.some((b) => b.mandateId === s.mandateId && b.via?.mandateId === s.via?.mandateId)) {
        entry.basis.push({ kind: 'mandate', mandateId: s.mandateId, mode: s.mode, ...(s.via ? { via: s.via } : {}) });
      }
    }
    const permissions = deps.policies.service(serviceId)?.permissions.map((p) => p.code) ?? [];
    for (const r of registered) {
      const principal = principals.get(r.representedId);
      if (!principal) continue;
      let basis: Basis | undefined;
      const granted = permissions.filter((permission) => {
        const input: CheckInput = { agent: agentRef, principal: refOf(principal), service: serviceId, permission };
        const verdict = judgeRegister({ deps, input, agent, principal, at: now }, r);
        if (verdict.permit) basis = verdict.basis;
        return verdict.permit;
      });
      if (!basis) continue;
      const entry = entryOf(principal);
      for (const p of granted) if (!entry.permissions.includes(p)) entry.permissions.push(p);
      entry.basis.push(basis);
    }
  });
  return { principals, registered, byService };
}

/** Whom the agent may act for on a service now; the listing itself is recorded for each principal. */
export async function representations(
  deps: CheckDeps,
  agency: AgencyPrincipal,
  agentRef: PartyRef,
  serviceId: string,
): Promise<Representation[]> {
  assertServiceOwned(deps, agency, serviceId);
  const agent = await findPartyByRef(deps.database.db, agentRef);
  if (!agent) return [];
  const byPrincipal = (await reach(deps, agent, [serviceId], new Date())).byService.get(serviceId) ?? new Map<string, Representation>();
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

export interface MyRepresentation {
  principal: PartyView;
  roles: Array<{ kind: RegisterKind; scope?: string[]; rule?: 'alone' | 'jointly'; validTo?: string }>;
  mandateIds: string[];
  via: PartyView[];
  scopes: Array<{ service: string; permissions: string[] }>;
}

/**
 * Everyone the signed-in person may act for now, over the whole catalogue: the mandates that
 * name them, the organisations they act through, and their legal roles from the registers
 * (shown even where no service accepts the role yet), with what they may do on each service.
 * Names follow the protected-identity rule.
 */
export async function representationsOfPerson(deps: CheckDeps, partyId: string): Promise<MyRepresentation[]> {
  const agent = (await findPartiesByIds(deps.database.db, [partyId])).get(partyId);
  if (!agent) return [];
  const serviceIds = deps.policies.services().map((s) => s.id);
  const { principals, registered, byService } = await reach(deps, agent, serviceIds, new Date());
  const byPrincipal = new Map<string, MyRepresentation>();
  const entryOf = (id: string) => {
    const party = principals.get(id);
    if (!party) return undefined;
    let entry = byPrincipal.get(id);
    if (!entry) {
      entry = { principal: partyView(party, partyId), roles: [], mandateIds: [], via: [], scopes: [] };
      byPrincipal.set(id, entry);
    }
    return entry;
  };
  for (const r of registered) {
    entryOf(r.representedId)?.roles.push({
      kind: r.kind,
      ...(r.kind === 'trustee' ? { scope: r.scope } : {}),
      ...(r.rule ? { rule: r.rule } : {}),
      ...(r.validTo ? { validTo: r.validTo.toISOString() } : {}),
    });
  }
  for (const [service, reps] of byService) {
    for (const [id, rep] of reps) {
      const entry = entryOf(id);
      if (!entry) continue;
      entry.scopes.push({ service, permissions: rep.permissions });
      for (const b of rep.basis) {
        const firm = b.via && [...principals.values()].find((p) => p.kind === 'organisation' && p.nationalId === b.via?.organisation.id);
        if (firm) {
          if (!entry.via.some((v) => v.id === firm.nationalId)) entry.via.push(partyView(firm, partyId));
        } else if (b.mandateId && !entry.mandateIds.includes(b.mandateId)) entry.mandateIds.push(b.mandateId);
      }
    }
  }
  return [...byPrincipal.values()];
}
