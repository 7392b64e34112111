import { canonicalJson } from '../audit/canonical-json.ts';
import type { Agency } from '../agencies/repository.ts';
import { findAgencyByOrgNumber } from '../agencies/repository.ts';
import { type AuditEventInput, appendAudit } from '../audit/service.ts';
import type { CheckInput } from '../checks/schema.ts';
import { type CheckDeps, check, judge, reachedScopes } from '../checks/service.ts';
import type { Database } from '../db/database.ts';
import { UUID_PATTERN } from '../http/schemas.ts';
import type { AgencyPrincipal } from '../identity/agency-tokens.ts';
import { InvalidIdentityNumberError, parseOrganisationNumber, parsePersonNumber } from '../identity/identity-number.ts';
import type { KeyRing } from '../identity/keys.ts';
import { findMandate, findMandatesByIds, type MandateRecord, type ScopeRow } from '../mandates/repository.ts';
import { findPartiesByIds, findPartyByRef, type Party, refOf } from '../parties/repository.ts';
import type { PartyRef } from '../parties/schema.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import type { PermissionCodes } from './codes.ts';
import { DfmError, type DfmErrorCode, validationError } from './errors.ts';
import type { EndUser } from './id-token.ts';
import { findPassedOn, findVisibleMandateIds } from './repository.ts';
import type {
  Behorighetskontext,
  FullmaktListItem,
  FullmaktMetadataResponse,
  FullmaktUtdelning,
  HamtaBehorigheterRequest,
  HamtaBehorigheterResponse,
  HamtaFullmakterRequest,
  HamtaFullmakterResponse,
  JwsSig,
  NamnIdentitet,
  PageMetadata,
} from './schema.ts';
import {
  aterkallad,
  fullmakt,
  lastDay,
  listItem,
  namnIdentitet,
  referensnummer,
  revokedBy,
  roleOf,
  statusAt,
  swedishDate,
  type Tredjeman,
  timestamp,
} from './view.ts';

export type UserScope = 'user:self' | 'user:other' | 'user:any';

export interface FacadeDeps {
  database: Database;
  policies: PolicyEngine;
  codes: PermissionCodes;
  /** Signs the answers (`_sig`); its public keys are each tredje man's JWKS. */
  signer: KeyRing;
  checks: CheckDeps;
}

/** Who is asking: the agency (as tredje man), its calling service and, by scope, its end user. */
export interface Caller {
  tredjeman: Tredjeman;
  agency: AgencyPrincipal;
  scope: UserScope;
  endUser?: EndUser;
  serviceName: string;
  requestId?: string;
}

const DEFAULT_PAGE_SIZE = 20;

/** The agency as a tredje man; an agency without an organisation number is not one. */
export function tredjemanOf(agency: Agency): Tredjeman {
  if (!agency.orgNumber) {
    throw new DfmError(403, 'urn:dfm:error:auth', 'tredjeman.obehorig', 'This client is not registered as a tredje man (no organisation number).');
  }
  return { agencyId: agency.id, orgNumber: agency.orgNumber, name: agency.name, services: agency.services };
}

/** `_sig`: a detached JWS over the RFC 8785 canonical JSON of the object without `_sig`. */
async function signed<T extends object>(signer: KeyRing, value: T): Promise<T & { _sig: JwsSig }> {
  // Through JSON first, so what is signed is exactly what goes on the wire.
  const plain = JSON.parse(JSON.stringify(value)) as T;
  const canonical = canonicalJson(plain);
  if (canonical === undefined) throw new Error('nothing to sign');
  const sig: JwsSig = await signer.signDetached(new TextEncoder().encode(canonical));
  return { ...plain, _sig: sig };
}

/** A consumer API identity as our party reference; `gdnr` and malformed numbers are refused. */
function partyRefOf(ident: { id: string; typ: string }, code: DfmErrorCode, field: string): PartyRef {
  const invalid = () => new DfmError(400, 'urn:dfm:error:basic', code, `${field}: not a valid ${ident.typ}.`);
  try {
    if (ident.typ === 'orgnr') return { type: 'organisation', id: parseOrganisationNumber(ident.id).value };
    if (ident.typ === 'pnr' || ident.typ === 'samnr') {
      const parsed = parsePersonNumber(ident.id);
      if ((parsed.kind === 'samordningsnummer') !== (ident.typ === 'samnr')) throw invalid();
      return { type: 'person', id: parsed.value };
    }
  } catch (err) {
    if (err instanceof InvalidIdentityNumberError) throw invalid();
    throw err;
  }
  throw invalid();
}

function assertOwnTredjeman(caller: Caller, orgNumber: string): void {
  if (orgNumber !== caller.tredjeman.orgNumber) {
    throw new DfmError(403, 'urn:dfm:error:basic', 'tredjeman.ogiltig', `Tredje man ${orgNumber} does not exist or is not yours.`);
  }
}

function isEndUser(caller: Caller, ref: PartyRef | undefined): boolean {
  const user = caller.endUser;
  return ref !== undefined && ref.type === 'person' && user !== undefined && user.kind !== 'username' && user.id === ref.id;
}

/** With `user:self` the end user may only ask about their own mandates. */
function assertSelf(caller: Caller, ...refs: Array<PartyRef | undefined>): void {
  if (caller.scope === 'user:self' && !refs.some((r) => isEndUser(caller, r))) {
    throw new DfmError(403, 'urn:dfm:error:basic', 'anvandare.obehorig', 'With scope user:self the user may only ask about their own powers of attorney.');
  }
}

function auditContext(caller: Caller): Record<string, unknown> {
  return {
    agencyId: caller.tredjeman.agencyId,
    tredjeman: caller.tredjeman.orgNumber,
    serviceName: caller.serviceName,
    scope: caller.scope,
    ...(caller.requestId ? { requestId: caller.requestId } : {}),
    ...(caller.endUser ? { endUser: { kind: caller.endUser.kind, id: caller.endUser.id } } : {}),
  };
}

// Paging and sorting.

type SortKey<T> = (item: T) => string;

interface SortOrder<T> {
  key: SortKey<T>;
  desc: boolean;
  ignoreCase: boolean;
}

/** `page.sort`: comma-separated attributes, each optionally followed by `asc`/`desc` and `ignorecase`. */
function parseSort<T>(sort: string | undefined, keys: Record<string, SortKey<T>>, fallback: string): Array<SortOrder<T>> {
  const text = sort?.trim() ? sort : fallback;
  return text.split(',').map((part) => {
    const [attribute = '', ...modifiers] = part.trim().split(/\s+/);
    const key = keys[attribute];
    const unknown = modifiers.find((m) => !['asc', 'desc', 'ignorecase'].includes(m.toLowerCase()));
    if (!key || unknown !== undefined) {
      throw validationError(`page.sort: cannot sort on "${part.trim()}".`, [
        { path: 'page.sort', message: `sortable: ${Object.keys(keys).join(', ')} (asc, desc, ignorecase)` },
      ]);
    }
    const lower = modifiers.map((m) => m.toLowerCase());
    return { key, desc: lower.includes('desc'), ignoreCase: lower.includes('ignorecase') };
  });
}

function sortBy<T>(items: T[], orders: Array<SortOrder<T>>): T[] {
  const collator = new Intl.Collator('sv', { sensitivity: 'variant' });
  const caseless = new Intl.Collator('sv', { sensitivity: 'base' });
  return items.sort((a, b) => {
    for (const o of orders) {
      const c = (o.ignoreCase ? caseless : collator).compare(o.key(a), o.key(b));
      if (c !== 0) return o.desc ? -c : c;
    }
    return 0;
  });
}

function pageOf<T>(items: T[], page: { page?: number; size?: number } | undefined): { items: T[]; page: PageMetadata } {
  const number = page?.page ?? 0;
  const size = page?.size ?? DEFAULT_PAGE_SIZE;
  return {
    items: items.slice(number * size, number * size + size),
    page: { size, number, totalElements: items.length, totalPages: Math.ceil(items.length / size) },
  };
}

const nameKey = (p: NamnIdentitet) => `${p.namn ?? ''} ${p.fornamn ?? ''} ${p.id}`;

/** A question for the check engine about the agent at this tredje man, at the end user's assurance. */
function checkInput(caller: Caller, agent: Party, principal: Party, service: string, permission: string, at: Date): CheckInput {
  const assurance = caller.endUser?.assurance;
  return { agent: refOf(agent), principal: refOf(principal), service, permission, at, ...(assurance ? { assurance } : {}) };
}

// Through a firm.

/** A principal's mandate to a firm as an employee of the firm reaches it now. */
interface FirmRoute {
  employee: Party;
  /** The mandate's permissions that the firm's mandate to the employee names too, and the check permits. */
  scopes: Array<{ service: string; permission: string }>;
  firms: Map<string, Party>;
}

/**
 * The mandates to a firm that the employee reaches now, by mandate id: the same candidates as
 * `sok/behorigheter` (`reachedScopes`), each judged as a check would judge it (both mandates
 * active, naming the permission, not invalidated, the chain and joint rules, the policy), but
 * not logged as a check: the caller records what it shows.
 */
async function firmRoutes(deps: FacadeDeps, caller: Caller, employee: Party, only: { mandateId?: string; principalId?: string }): Promise<Map<string, FirmRoute>> {
  const db = deps.database.db;
  const now = new Date();
  const candidates = (
    await Promise.all(caller.tredjeman.services.map(async (service) => (await reachedScopes(db, employee, service, now)).map((s) => ({ ...s, service }))))
  )
    .flat()
    .filter((s) => s.via && (!only.mandateId || s.mandateId === only.mandateId) && (!only.principalId || s.principalId === only.principalId));
  const principals = await findPartiesByIds(db, candidates.map((s) => s.principalId));
  const triples = new Map(candidates.map((s) => [`${s.principalId}/${s.service}/${s.permission}`, s]));
  const routes = new Map<string, FirmRoute>();
  await Promise.all(
    [...triples.values()].map(async (t) => {
      const principal = principals.get(t.principalId);
      if (!principal) return;
      const judged = await judge(deps.checks, caller.agency, checkInput(caller, employee, principal, t.service, t.permission, now));
      const firms = [...judged.firms.values()];
      for (const b of judged.basis) {
        const firm = b.via && firms.find((f) => f.kind === b.via?.organisation.type && f.nationalId === b.via.organisation.id);
        if (!b.mandateId || !firm || (only.mandateId && b.mandateId !== only.mandateId)) continue;
        let route = routes.get(b.mandateId);
        if (!route) {
          route = { employee, scopes: [], firms: new Map() };
          routes.set(b.mandateId, route);
        }
        route.scopes.push({ service: t.service, permission: t.permission });
        route.firms.set(firm.id, firm);
      }
    }),
  );
  return routes;
}

/**
 * The mandate as the employee reaches it: only the permissions the route carries, and as its
 * agents the employee, then the firm it names, as `sok/behorigheter` names them.
 */
function throughFirm(m: MandateRecord, route: FirmRoute): MandateRecord {
  const carried = (s: ScopeRow) => route.scopes.some((r) => r.service === s.service && r.permission === s.permission);
  return { ...m, scopes: m.scopes.filter(carried), agentIds: [route.employee.id, ...route.firms.keys()] };
}

// Sök behörigheter.

/** A kontext before it is signed, with the internal ids of the principal and of any firm it goes through, for the audit trail. */
type KontextDraft = Omit<Behorighetskontext, '_sig'> & { principalId: string; firmIds: string[] };

/**
 * The permissions the agent holds at this tredje man now, per principal. Candidates come from
 * active mandates on the agency's services, the agent's own and those of the clients of a firm
 * the agent acts for; each (principal, service, permission) is then put to the same check as
 * `POST /api/v1/checks` (policy, chains, joint rule, invalidations, logging), and only what it
 * permits on a mandate is listed, with the mandate that has been valid the shortest while.
 * Through a firm, `fullmakt` is the principal's mandate to the firm, and the firm is named
 * among `fullmaktshavare` after the agent, as the agent that mandate names.
 */
export async function searchPermissions(deps: FacadeDeps, caller: Caller, req: HamtaBehorigheterRequest): Promise<HamtaBehorigheterResponse> {
  assertOwnTredjeman(caller, req.tredjeman);
  const agentRef = partyRefOf(req.fullmaktshavare, 'fullmaktshavare.ogiltig', 'fullmaktshavare');
  const principalRef = req.fullmaktsgivare ? partyRefOf(req.fullmaktsgivare, 'fullmaktsgivare.ogiltig', 'fullmaktsgivare') : undefined;
  assertSelf(caller, agentRef);
  const byName = (k: KontextDraft) => nameKey(k.fullmaktsgivare);
  const orders = parseSort<KontextDraft>(req.page?.sort, { namn: byName, fullmaktsgivare: byName }, 'namn');
  const db = deps.database.db;
  const now = new Date();
  const agent = await findPartyByRef(db, agentRef);
  const principalFilter = principalRef ? await findPartyByRef(db, principalRef) : undefined;
  if (!agent || (principalRef && !principalFilter)) return { kontext: [], page: pageOf([], req.page).page };

  const wanted = req.behorigheter ? new Set(req.behorigheter) : undefined;
  const candidates = (
    await Promise.all(caller.tredjeman.services.map(async (service) => (await reachedScopes(db, agent, service, now)).map((s) => ({ ...s, service }))))
  )
    .flat()
    .filter((s) => !principalFilter || s.principalId === principalFilter.id)
    .filter((s) => !wanted || wanted.has(deps.codes.codeOf(s.service, s.permission)?.code ?? ''));
  const parties = await findPartiesByIds(db, [agent.id, ...candidates.map((s) => s.principalId)]);
  const roles = req.fullmaktsgivarroll ? new Set(req.fullmaktsgivarroll) : undefined;
  const triples = new Map<string, { principal: Party; service: string; permission: string }>();
  for (const s of candidates) {
    const principal = parties.get(s.principalId);
    if (!principal || (roles && !roles.has(roleOf(principal)))) continue;
    triples.set(`${s.principalId}/${s.service}/${s.permission}`, { principal, service: s.service, permission: s.permission });
  }

  // The check engine decides; every question is logged as a check, as for our own API.
  const decided = await Promise.all(
    [...triples.values()].map(async (t) => {
      const answer = await check(deps.checks, caller.agency, checkInput(caller, agent, t.principal, t.service, t.permission, now));
      // A mandate basis names the principal's mandate and, when the agent acts through a firm, that firm.
      const routes = answer.decision === 'permit' ? answer.basis.flatMap((b) => (b.kind === 'mandate' && b.mandateId ? [{ mandateId: b.mandateId, firm: b.via?.organisation }] : [])) : [];
      return { ...t, routes };
    }),
  );
  const permitted = decided.filter((d) => d.routes.length > 0);
  const mandates = new Map((await findMandatesByIds(db, permitted.flatMap((d) => d.routes.map((r) => r.mandateId)))).map((m) => [m.id, m]));
  const firmRefs = new Map(permitted.flatMap((d) => d.routes.flatMap((r) => (r.firm ? [[r.firm.id, r.firm] as const] : []))));
  const firms = new Map<string, Party>();
  await Promise.all(
    [...firmRefs].map(async ([nationalId, ref]) => {
      const firm = await findPartyByRef(db, ref);
      if (firm) firms.set(nationalId, firm);
    }),
  );

  const byPrincipal = new Map<string, { principal: Party; behorigheter: Map<string, MandateRecord>; firms: Map<string, Party> }>();
  for (const d of permitted) {
    const code = deps.codes.codeOf(d.service, d.permission)?.code;
    // Several mandates may give the same permission: name the one valid from the latest date.
    const newest = d.routes
      .flatMap((r) => {
        const m = mandates.get(r.mandateId);
        return m ? [{ m, firm: r.firm ? firms.get(r.firm.id) : undefined }] : [];
      })
      .sort((a, b) => b.m.validFrom.getTime() - a.m.validFrom.getTime() || b.m.createdAt.getTime() - a.m.createdAt.getTime())[0];
    if (!code || !newest) continue;
    let entry = byPrincipal.get(d.principal.id);
    if (!entry) {
      entry = { principal: d.principal, behorigheter: new Map(), firms: new Map() };
      byPrincipal.set(d.principal.id, entry);
    }
    entry.behorigheter.set(code, newest.m);
    if (newest.firm) entry.firms.set(newest.firm.id, newest.firm);
  }

  const unsigned: KontextDraft[] = [...byPrincipal.values()].map((e) => ({
    principalId: e.principal.id,
    firmIds: [...e.firms.keys()],
    tredjeman: caller.tredjeman.orgNumber,
    fullmaktsgivare: namnIdentitet(e.principal),
    fullmaktsgivarroll: roleOf(e.principal),
    fullmaktshavare: [namnIdentitet(agent), ...[...e.firms.values()].map(namnIdentitet)],
    behorigheter: [...e.behorigheter.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([kod, m]) => ({ kod, fullmakt: m.id })),
    tidpunkt: timestamp(now),
  }));
  const { items, page } = pageOf(sortBy(unsigned, orders), req.page);
  await deps.database.transaction((trx) =>
    appendAudit(
      trx,
      items.map((k) => ({
        action: 'minaombud.permissions.listed',
        actor: { type: 'agency', agencyId: caller.tredjeman.agencyId },
        partyIds: [agent.id, k.principalId, ...k.firmIds],
        data: {
          ...auditContext(caller),
          agentId: agent.id,
          principalId: k.principalId,
          ...(k.firmIds.length > 0 ? { firmIds: k.firmIds } : {}),
          behorigheter: k.behorigheter,
        },
      })),
    ),
  );
  const kontext = await Promise.all(items.map(({ principalId: _p, firmIds: _f, ...k }) => signed(deps.signer, k)));
  return { kontext, page };
}

// Sök fullmakter.

const LIST_SORT: Record<string, SortKey<FullmaktListItem>> = {
  rubrik: (f) => f.rubrik,
  tredjeman: (f) => f.tredjeman,
  fullmaktsgivare: (f) => nameKey(f.fullmaktsgivare),
  fullmaktshavare: (f) => f.fullmaktshavare.map(nameKey).join(' '),
  giltigFrom: (f) => f.giltigFrom,
  giltigTom: (f) => f.giltigTom,
  referensnummer: (f) => f.referensnummer,
};
const DEFAULT_LIST_SORT = 'rubrik,tredjeman,fullmaktsgivare,fullmaktshavare,giltigFrom,referensnummer';

function matchesStatus(m: MandateRecord, wanted: HamtaFullmakterRequest['status'], at: Date): boolean {
  if (!wanted) return true;
  const status = statusAt(m, at);
  // AKTUELL: not ended, whether or not it has started; GILTIG: in force now.
  return wanted === 'AKTUELL' ? status !== 'HISTORISK' : status === wanted;
}

/** Mandates at this tredje man naming the agent and/or the principal, filtered, sorted and paged. */
export async function searchMandates(deps: FacadeDeps, caller: Caller, req: HamtaFullmakterRequest): Promise<HamtaFullmakterResponse> {
  if (!req.fullmaktshavare && !req.fullmaktsgivare) {
    throw new DfmError(400, 'urn:dfm:error:basic', 'sokning.havare_givare.saknas', 'Give fullmaktshavare or fullmaktsgivare (or both).');
  }
  for (const orgNumber of req.tredjeman ?? []) assertOwnTredjeman(caller, orgNumber);
  const agentRef = req.fullmaktshavare ? partyRefOf(req.fullmaktshavare, 'fullmaktshavare.ogiltig', 'fullmaktshavare') : undefined;
  const principalRef = req.fullmaktsgivare ? partyRefOf(req.fullmaktsgivare, 'fullmaktsgivare.ogiltig', 'fullmaktsgivare') : undefined;
  assertSelf(caller, agentRef, principalRef);
  const orders = parseSort(req.page?.sort, LIST_SORT, DEFAULT_LIST_SORT);
  const db = deps.database.db;
  const at = req.referenstidpunkt ? new Date(req.referenstidpunkt) : new Date();
  const [agent, principal] = await Promise.all([
    agentRef ? findPartyByRef(db, agentRef) : undefined,
    principalRef ? findPartyByRef(db, principalRef) : undefined,
  ]);
  if ((agentRef && !agent) || (principalRef && !principal)) return { fullmakter: [], page: pageOf([], req.page).page };

  const named = await findVisibleMandateIds(db, {
    services: caller.tredjeman.services,
    ...(agent ? { agentId: agent.id } : {}),
    ...(principal ? { principalId: principal.id } : {}),
    ...(req.ursprung !== undefined ? { parentId: req.ursprung } : {}),
  });
  // The end user asking as agent also finds the mandates to a firm they reach as its employee;
  // one that names them as well is theirs in full.
  const routes =
    agent && caller.scope === 'user:self' && isEndUser(caller, agentRef)
      ? await firmRoutes(deps, caller, agent, principal ? { principalId: principal.id } : {})
      : new Map<string, FirmRoute>();
  for (const id of named) routes.delete(id);
  const ids = [...named, ...routes.keys()];
  const [found, passedOn] = await Promise.all([findMandatesByIds(db, ids), findPassedOn(db, ids)]);
  const records = found
    .filter((m) => req.ursprung === undefined || m.parentId === req.ursprung)
    .map((m) => {
      const route = routes.get(m.id);
      return route ? throughFirm(m, route) : m;
    });
  const parties = await findPartiesByIds(db, records.flatMap((m) => [m.principalId, ...m.agentIds, ...(m.revokedBy ? [m.revokedBy] : [])]));
  const roles = req.fullmaktsgivarroll ? new Set(req.fullmaktsgivarroll) : undefined;
  const matching = records.filter(
    (m) =>
      (!roles || roles.has(roleOf(parties.get(m.principalId)))) &&
      matchesStatus(m, req.status, at) &&
      (req.aterkallad === undefined || revokedBy(m, at) === req.aterkallad) &&
      (req.giltigFrom === undefined || swedishDate(m.validFrom) >= req.giltigFrom) &&
      // Every mandate here has a last day, so asking for those without one (null) finds none.
      (req.giltigTom === undefined || (req.giltigTom !== null && lastDay(m.validTo) <= req.giltigTom)),
  );
  const view = { tredjeman: caller.tredjeman, policies: deps.policies, parties, passedOn, at };
  const byId = new Map(matching.map((m) => [m.id, m]));
  const { items, page } = pageOf(
    sortBy(
      matching.map((m) => listItem(m, view)),
      orders,
    ),
    req.page,
  );
  await deps.database.transaction((trx) =>
    appendAudit(
      trx,
      items.map((item) => mandateEvent('minaombud.mandate.listed', caller, byId.get(item.id) as MandateRecord, routes.get(item.id))),
    ),
  );
  return { fullmakter: items, page };
}

/** What was shown of a mandate; through a firm, to which employee and through which firm. */
function mandateEvent(action: string, caller: Caller, m: MandateRecord, route?: FirmRoute): AuditEventInput {
  const firmIds = route ? [...route.firms.keys()] : [];
  return {
    action,
    actor: { type: 'agency', agencyId: caller.tredjeman.agencyId },
    partyIds: [...new Set([m.principalId, ...m.agentIds, ...(route ? [route.employee.id] : [])])],
    mandateId: m.id,
    data: { ...auditContext(caller), principalId: m.principalId, ...(route ? { agentId: route.employee.id, firmIds } : {}) },
  };
}

// Hämta fullmakt.

const notFound = () => new DfmError(404, 'urn:dfm:error:basic', 'fullmakt.saknas', 'There is no such power of attorney at this tredje man.');

/**
 * With `user:self`: nothing when the mandate names the end user (as principal, agent or its
 * creator), who sees it whole; else the route by which they reach it as a firm's employee.
 * Someone else's mandate is answered like a missing one.
 */
async function routeOf(deps: FacadeDeps, caller: Caller, m: MandateRecord): Promise<FirmRoute | undefined> {
  const db = deps.database.db;
  const involved = await findPartiesByIds(db, [m.principalId, ...m.agentIds, m.createdBy]);
  if ([...involved.values()].some((p) => isEndUser(caller, refOf(p)))) return undefined;
  const user = caller.endUser;
  const employee = user && user.kind !== 'username' ? await findPartyByRef(db, { type: 'person', id: user.id }) : undefined;
  const route = employee && (await firmRoutes(deps, caller, employee, { mandateId: m.id, principalId: m.principalId })).get(m.id);
  if (!route) throw notFound();
  return route;
}

/** One mandate, signed, with its sub-delegations when `utdelning` asks for them. */
export async function readMandate(
  deps: FacadeDeps,
  caller: Caller,
  orgNumber: string,
  id: string,
  utdelning: 'AKTUELLA' | 'HISTORISKA' | 'ALLA' | undefined,
): Promise<FullmaktMetadataResponse> {
  if (orgNumber !== caller.tredjeman.orgNumber) {
    throw new DfmError(404, 'urn:dfm:error:basic', 'tredjeman.ogiltig', `Tredje man ${orgNumber} does not exist or is not yours.`);
  }
  if (!UUID_PATTERN.test(id)) throw notFound();
  const db = deps.database.db;
  const found = await findMandate(db, id);
  if (!found || found.state === 'pending' || !found.scopes.some((s) => caller.tredjeman.services.includes(s.service))) throw notFound();
  const route = caller.scope === 'user:self' ? await routeOf(deps, caller, found) : undefined;
  const m = route ? throughFirm(found, route) : found;
  const now = new Date();
  // What the firm passed on from the mandate is the firm's, not its employee's.
  const children =
    utdelning && !route
      ? (await findMandatesByIds(db, await findVisibleMandateIds(db, { services: caller.tredjeman.services, parentId: m.id }))).filter(
          (c) => utdelning === 'ALLA' || (statusAt(c, now) === 'HISTORISK') === (utdelning === 'HISTORISKA'),
        )
      : [];
  const parties = await findPartiesByIds(db, [
    ...[m, ...children].flatMap((r) => [r.principalId, ...r.agentIds, r.createdBy, ...(r.revokedBy ? [r.revokedBy] : [])]),
    ...m.approvals.map((a) => a.signatoryId),
  ]);

  const passedOn = await findPassedOn(db, [m.id, ...children.map((c) => c.id)]);
  const creator = parties.get(m.createdBy);
  const ended = aterkallad(m, parties, now);
  const utdelningar: FullmaktUtdelning[] = children.map((c) => ({
    id: c.id,
    status: statusAt(c, now),
    aterkallad: revokedBy(c, now),
    giltigFrom: swedishDate(c.validFrom),
    giltigTom: lastDay(c.validTo),
    vidaredelning: c.mayDelegate,
    vidaredelad: passedOn.has(c.id),
    fullmaktshavare: c.agentIds.map((a) => namnIdentitet(parties.get(a))),
  }));
  const answer = {
    fullmakt: fullmakt(m, { tredjeman: caller.tredjeman, policies: deps.policies, codes: deps.codes, parties }),
    metadata: {
      referensnummer: referensnummer(m, parties.get(m.principalId)),
      registreringstidpunkt: timestamp(m.createdAt),
      ...(ended ? { aterkallad: ended } : {}),
      status: statusAt(m, now),
      vidaredelad: passedOn.has(m.id),
      underskrifter: creator?.kind === 'person' ? [{ person: namnIdentitet(creator), tidpunkt: timestamp(m.createdAt) }] : [],
      ...(utdelning ? { utdelningar } : {}),
    },
    svarstidpunkt: timestamp(now),
  };
  await deps.database.transaction((trx) => appendAudit(trx, [mandateEvent('minaombud.mandate.read', caller, m, route)]));
  return signed(deps.signer, answer);
}

/** The keys that verify every `_sig` this tredje man's answers carry. */
export async function tredjemanJwks(deps: FacadeDeps, orgNumber: string) {
  const agency = /^\d{10}$/.test(orgNumber) ? await findAgencyByOrgNumber(deps.database.db, orgNumber) : undefined;
  if (!agency) throw new DfmError(404, 'urn:dfm:error:basic', 'tredjeman.ogiltig', `There is no tredje man ${orgNumber}.`);
  return deps.signer.jwks();
}
