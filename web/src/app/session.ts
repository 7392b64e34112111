import type { Me, PartyView } from '../api/client.ts';

const ACTING_KEY = 'ombud.actingFor';

/** Who is signed in, and whom they have chosen to act for; shared by the header and pages. */
class SessionState extends EventTarget {
  me: Me | undefined;
  actingFor: PartyView | undefined = readActingFor();

  setMe(me: Me | undefined): void {
    this.me = me;
    if (!me) this.setActingFor(undefined);
    this.dispatchEvent(new Event('change'));
  }

  setActingFor(party: PartyView | undefined): void {
    this.actingFor = party;
    if (party) sessionStorage.setItem(ACTING_KEY, JSON.stringify(party));
    else sessionStorage.removeItem(ACTING_KEY);
    this.dispatchEvent(new Event('change'));
  }
}

function readActingFor(): PartyView | undefined {
  try {
    const raw = sessionStorage.getItem(ACTING_KEY);
    return raw ? (JSON.parse(raw) as PartyView) : undefined;
  } catch {
    return undefined;
  }
}

export const session = new SessionState();
