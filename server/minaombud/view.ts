import type { MandateRecord, ScopeRow } from '../mandates/repository.ts';
import type { Party } from '../parties/repository.ts';
import { disclosedName } from '../parties/view.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import { type PermissionCodes, templateId } from './codes.ts';
import type { Aterkallad, Fullmakt, FullmaktListItem, NamnIdentitet } from './schema.ts';

/**
 * How our mandates read in the consumer API's words. Only what the published schema names is
 * emitted: the published clients parse answers into their own models and canonicalise those
 * again to verify `_sig`, so an extra member would break every signature.
 */

/** What the agency is as a "tredje man". */
export interface Tredjeman {
  agencyId: string;
  orgNumber: string;
  name: string;
  services: readonly string[];
}

/**
 * ISO 8601 in UTC with the fraction trimmed (`…:05.12Z`, `…:05Z`): the form Java's
 * `OffsetDateTime` writes back, so a client that re-serialises the time still verifies.
 */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

const SWEDISH_DATE = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The calendar date in Sweden, `YYYY-MM-DD`. */
export function swedishDate(d: Date): string {
  return SWEDISH_DATE.format(d);
}

/** Our validity ends at an instant (exclusive); the consumer API names the last day it holds. */
export function lastDay(validTo: Date): string {
  return swedishDate(new Date(validTo.getTime() - 1));
}

export function identityType(party: Pick<Party, 'kind' | 'nationalId'>): 'pnr' | 'samnr' | 'orgnr' {
  if (party.kind === 'organisation') return 'orgnr';
  return Number(party.nationalId.slice(6, 8)) > 60 ? 'samnr' : 'pnr';
}

/**
 * A party with its name: a person's last word is the surname (`namn`) and the rest the given
 * names (`fornamn`); an organisation's whole name is `namn`. A protected identity's name is never
 * given out, and a party we know no name for is sent without one.
 */
export function namnIdentitet(party: Party | undefined): NamnIdentitet {
  if (!party) throw new Error('a mandate names a party that does not exist');
  const base: NamnIdentitet = { id: party.nationalId, typ: identityType(party) };
  // Everything here goes to an agency, never to the person themselves.
  const name = disclosedName(party, undefined)?.trim();
  if (!name) return base;
  if (party.kind === 'organisation') return { ...base, namn: name };
  const cut = name.lastIndexOf(' ');
  return cut > 0 ? { ...base, fornamn: name.slice(0, cut), namn: name.slice(cut + 1) } : { ...base, namn: name };
}

export function roleOf(principal: Party | undefined): 'PRIVAT' | 'ORGANISATION' {
  return principal?.kind === 'organisation' ? 'ORGANISATION' : 'PRIVAT';
}

/** Revoked at or before `at`: the point in time the question is about. */
export function revokedBy(m: MandateRecord, at: Date): boolean {
  return m.revokedAt !== null && m.revokedAt.getTime() <= at.getTime();
}

/**
 * HISTORISK once ended (revoked, returned, invalidated or past its last day), GILTIG inside its
 * validity, AKTUELL before it starts. The consumer API's AKTUELL also covers GILTIG; the status
 * given is the narrower one.
 */
export function statusAt(m: MandateRecord, at: Date): 'HISTORISK' | 'GILTIG' | 'AKTUELL' {
  if (revokedBy(m, at) || m.validTo.getTime() <= at.getTime()) return 'HISTORISK';
  return m.validFrom.getTime() <= at.getTime() ? 'GILTIG' : 'AKTUELL';
}

/**
 * Who ended the mandate. An official's decision has no part of its own in the consumer API;
 * it is reported as TREDJEMAN, the part that invalidates. Extend here when roles are added.
 */
const PART: Record<NonNullable<MandateRecord['revokedRole']>, Aterkallad['part']> = {
  principal: 'FULLMAKTSGIVARE',
  agent: 'FULLMAKTSHAVARE',
  agency: 'TREDJEMAN',
  delegator: 'UTDELARE',
  official: 'TREDJEMAN',
};

export function aterkallad(m: MandateRecord, parties: ReadonlyMap<string, Party>, at: Date): Aterkallad | undefined {
  if (!m.revokedAt || !m.revokedRole || !revokedBy(m, at)) return undefined;
  const by = m.revokedBy ? parties.get(m.revokedBy) : undefined;
  return { part: PART[m.revokedRole], ...(by ? { person: namnIdentitet(by) } : {}), tidpunkt: timestamp(m.revokedAt) };
}

/** MOP for a private principal, MOF for an organisation, then the mandate id: unique and stable. */
export function referensnummer(m: MandateRecord, principal: Party | undefined): string {
  return `${principal?.kind === 'organisation' ? 'MOF' : 'MOP'}${m.id.replace(/-/g, '').toUpperCase()}`;
}

/** Only the scopes on the agency's own services are shown to it. */
export function visibleScopes(m: MandateRecord, tredjeman: Tredjeman): ScopeRow[] {
  return m.scopes.filter((s) => tredjeman.services.includes(s.service));
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function servicesOf(m: MandateRecord, tredjeman: Tredjeman): string[] {
  return [...new Set(visibleScopes(m, tredjeman).map((s) => s.service))].sort();
}

export function rubrik(m: MandateRecord, tredjeman: Tredjeman, policies: PolicyEngine, max: number): string {
  const names = servicesOf(m, tredjeman).map((id) => policies.service(id)?.name.sv ?? id);
  return clip(names.join(', ') || 'Fullmakt', max);
}

export function listItem(
  m: MandateRecord,
  ctx: { tredjeman: Tredjeman; policies: PolicyEngine; parties: ReadonlyMap<string, Party>; passedOn: ReadonlySet<string>; at: Date },
): FullmaktListItem {
  const principal = ctx.parties.get(m.principalId);
  const ended = aterkallad(m, ctx.parties, ctx.at);
  return {
    referensnummer: referensnummer(m, principal),
    registreringstidpunkt: timestamp(m.createdAt),
    ...(ended ? { aterkallad: ended } : {}),
    status: statusAt(m, ctx.at),
    vidaredelad: ctx.passedOn.has(m.id),
    id: m.id,
    rubrik: rubrik(m, ctx.tredjeman, ctx.policies, 255),
    giltigFrom: swedishDate(m.validFrom),
    giltigTom: lastDay(m.validTo),
    tredjeman: ctx.tredjeman.orgNumber,
    fullmaktsgivare: namnIdentitet(principal),
    fullmaktsgivarroll: roleOf(principal),
    fullmaktshavare: m.agentIds.map((id) => namnIdentitet(ctx.parties.get(id))),
    vidaredelning: m.mayDelegate,
    transportfullmakt: m.parentId !== null,
  };
}

/** The whole mandate as the agency may see it: its own services' permissions only. */
export function fullmakt(
  m: MandateRecord,
  ctx: { tredjeman: Tredjeman; policies: PolicyEngine; codes: PermissionCodes; parties: ReadonlyMap<string, Party> },
): Fullmakt {
  const principal = ctx.parties.get(m.principalId);
  const creator = ctx.parties.get(m.createdBy);
  const services = servicesOf(m, ctx.tredjeman);
  const descriptions = services.map((id) => ctx.policies.service(id)?.description.sv ?? id);
  const behorigheter = visibleScopes(m, ctx.tredjeman).flatMap((s) => {
    const coded = ctx.codes.codeOf(s.service, s.permission);
    return coded ? [{ kod: coded.code, rubrik: clip(coded.permission.name.sv, 100), beskrivning: clip(coded.permission.description.sv, 500) }] : [];
  });
  // The person who granted it signed it: for themselves, or as a signatory of the organisation;
  // where the organisation's signatories sign jointly, every one of them who approved.
  const signatories = m.approvals.length > 0 ? m.approvals.map((a) => ctx.parties.get(a.signatoryId)) : [creator];
  const signatar =
    principal?.kind === 'organisation' && creator?.kind === 'person' && creator.id !== principal.id
      ? { juridiskSignatar: { juridiskPerson: namnIdentitet(principal), foretradare: signatories.map((p) => namnIdentitet(p)) } }
      : { fysiskPerson: namnIdentitet(creator) };
  return {
    id: m.id,
    ursprung: { mall: templateId(services[0] ?? ''), ...(m.parentId ? { fullmakt: m.parentId } : {}) },
    rubrik: rubrik(m, ctx.tredjeman, ctx.policies, 100),
    beskrivning: clip(descriptions.join(' ') || 'Fullmakt', 500),
    giltigFrom: swedishDate(m.validFrom),
    giltigTom: lastDay(m.validTo),
    skapare: namnIdentitet(creator),
    skapadTidpunkt: timestamp(m.createdAt),
    vidaredelning: m.mayDelegate,
    transportfullmakt: m.parentId !== null,
    fullmaktsgivare: namnIdentitet(principal),
    fullmaktsgivarroll: roleOf(principal),
    fullmaktshavare: m.agentIds.map((id) => namnIdentitet(ctx.parties.get(id))),
    tredjeman: { id: ctx.tredjeman.orgNumber, namn: ctx.tredjeman.name },
    signatarer: [signatar],
    behorigheter,
  };
}
