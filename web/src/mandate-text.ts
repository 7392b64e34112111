import type { Mandate, PartyView, Service } from './api/client.ts';
import { formatDate, formatList, formatNumber, localised, t } from './i18n/i18n.ts';

/** 196805144026 → 19680514-4026: the way people write it. */
export function formatPersonalNumber(id: string): string {
  return id.length === 12 ? `${id.slice(0, 8)}-${id.slice(8)}` : id.length === 10 ? `${id.slice(0, 6)}-${id.slice(6)}` : id;
}

export function partyName(party: PartyView): string {
  return party.name ?? formatPersonalNumber(party.id);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLocaleLowerCase() + s.slice(1);
}

export function upperFirst(s: string): string {
  return s.charAt(0).toLocaleUpperCase() + s.slice(1);
}

/** "lämna deklarationen och se skattekontot (Skatteverket)", one group per service. */
export function describeScopes(scopes: Mandate['scopes'], services: readonly Service[]): string {
  return formatList(
    scopes.map((scope) => {
      const service = services.find((s) => s.id === scope.service);
      if (!service) return scope.service;
      // In the catalogue's order, so the same mandate always reads the same way.
      const actions = service.permissions.filter((p) => scope.permissions.includes(p.code)).map((p) => lowerFirst(localised(p.name)));
      const limit = scope.constraints?.maxAmount ? `, ${t().amountLimit(formatNumber(scope.constraints.maxAmount))}` : '';
      return `${formatList(actions)} (${localised(service.agencyName)}${limit})`;
    }),
  );
}

export function permissionName(services: readonly Service[], serviceId: string | undefined, code: string | undefined): string {
  const service = services.find((s) => s.id === serviceId);
  const permission = service?.permissions.find((p) => p.code === code);
  return permission ? lowerFirst(localised(permission.name)) : (code ?? t().theService);
}

/** The last day a mandate is valid, as a person counts it (validTo is the end of that day). */
export function lastDay(validTo: string): Date {
  return new Date(new Date(validTo).getTime() - 1);
}

/**
 * One sentence that says (in the past tense once the mandate has ended) who may do what, for whom, until when, from the reader's point of
 * view: "Karin Andersson får lämna deklarationen (Skatteverket) åt dig till och med 23 november 2027."
 */
export function mandateSentence(
  mandate: Pick<Mandate, 'principal' | 'agents' | 'scopes' | 'validTo'> & { status?: Mandate['status'] },
  services: readonly Service[],
  viewer: PartyView | undefined,
): string {
  const s = t();
  const isViewer = (p: PartyView) => viewer !== undefined && p.id === viewer.id;
  const agents = mandate.agents.map((a) => (isViewer(a) ? s.you : partyName(a)));
  const agentText = upperFirst(formatList(agents));
  const principal = isViewer(mandate.principal) ? s.youObject : partyName(mandate.principal);
  const scopes = describeScopes(mandate.scopes, services);
  if (mandate.status === 'revoked' || mandate.status === 'expired') return s.sentenceEnded(agentText, scopes, principal);
  return s.sentence(agentText, scopes, principal, formatDate(lastDay(mandate.validTo)));
}
