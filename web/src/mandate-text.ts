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

/** "lämna deklarationen och se skattekontot (Skatteverket)", one group per service. */
export function describeScopes(scopes: Mandate['scopes'], services: readonly Service[]): string {
  return formatList(
    scopes.map((scope) => {
      const service = services.find((s) => s.id === scope.service);
      if (!service) return scope.service;
      const actions = scope.permissions.map((code) => {
        const permission = service.permissions.find((p) => p.code === code);
        return permission ? lowerFirst(localised(permission.name)) : code;
      });
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
 * One sentence that says who may do what, for whom, until when, from the reader's point of
 * view: "Karin Andersson får lämna deklarationen (Skatteverket) åt dig till och med 23 november 2027."
 */
export function mandateSentence(
  mandate: Pick<Mandate, 'principal' | 'agents' | 'scopes' | 'validTo'>,
  services: readonly Service[],
  viewer: PartyView | undefined,
): string {
  const s = t();
  const isViewer = (p: PartyView) => viewer !== undefined && p.id === viewer.id;
  const agents = mandate.agents.map((a) => (isViewer(a) ? s.you : partyName(a)));
  let agentText = formatList(agents);
  agentText = agentText.charAt(0).toLocaleUpperCase() + agentText.slice(1);
  const principal = isViewer(mandate.principal) ? s.youObject : partyName(mandate.principal);
  return s.sentence(agentText, describeScopes(mandate.scopes, services), principal, formatDate(lastDay(mandate.validTo)));
}
