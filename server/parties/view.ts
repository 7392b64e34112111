import type { Party } from './repository.ts';

/**
 * The one place that decides whether a party's name may be shown. A person with protected
 * identity is named to nobody but themselves: not to the other party of a mandate, not to an
 * agency, not in the activity of anyone else. Ombud keeps no addresses, so a name is all there
 * is to withhold; the national id stays, because checks and mandates cannot work without it.
 */
export function disclosedName(party: Party, viewerId: string | undefined): string | null {
  if (!party.name) return null;
  if (party.protectedIdentity && party.id !== viewerId) return null;
  return party.name;
}
