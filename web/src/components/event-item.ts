import { html, nothing } from 'lit';
import type { AuditEvent, PartyView, Service } from '../api/client.ts';
import { formatDateTime, t } from '../i18n/i18n.ts';
import { partyName, permissionName } from '../mandate-text.ts';
import { icons } from './icons.ts';

function who(party: PartyView | undefined, viewer: PartyView | undefined, subject: boolean): string {
  const s = t();
  if (!party) return subject ? s.someone : s.someone.toLocaleLowerCase();
  if (viewer && party.id === viewer.id) return subject ? s.youCapital : s.youObject;
  return partyName(party);
}

/** One event as a sentence in the reader's language. */
export function eventSentence(e: AuditEvent, services: readonly Service[], viewer: PartyView | undefined): string {
  const s = t();
  const actor =
    e.actor.type === 'person' && e.actor.id
      ? who({ type: 'person', id: e.actor.id, ...(e.actor.name ? { name: e.actor.name } : {}) }, viewer, true)
      : (e.actor.name ?? s.someone);
  if (e.action === 'check') {
    return s.eventCheck(actor, who(e.agent, viewer, false), permissionName(services, e.service, e.permission), who(e.onBehalfOf, viewer, false));
  }
  if (e.action === 'sign-in-refused') return s.eventSignInRefused;
  if (e.action === 'mandate.granted' && e.registeredBy === 'official') return s.eventRegisteredByOfficial(actor);
  const byAction: Record<string, (actor: string) => string> = {
    'mandate.granted': s.eventGranted,
    'mandate.revoked': s.eventRevoked,
    'mandate.returned': s.eventReturned,
    'mandate.delegated': s.eventDelegated,
    'mandate.approved': s.eventApproved,
    'mandate.activated': s.eventActivated,
    'mandate.invalidated': s.eventInvalidated,
    'mandate.registered-by-official': s.eventRegistered,
    'request.created': s.eventRequestCreated,
    'request.approved': s.eventRequestApproved,
    'request.declined': s.eventRequestDeclined,
    'request.withdrawn': s.eventRequestWithdrawn,
    'signed-in': s.eventSignedIn,
    'signed-out-everywhere': s.eventSignedOutEverywhere,
    'session-ended': s.eventSessionEnded,
    'passkey-added': s.eventPasskeyAdded,
    'passkey-renamed': s.eventPasskeyRenamed,
    'passkey-removed': s.eventPasskeyRemoved,
  };
  return (byAction[e.action] ?? s.eventOther)(actor);
}

export function eventItem(e: AuditEvent, services: readonly Service[], viewer: PartyView | undefined) {
  const s = t();
  return html`<li class="event">
    <time datetime=${e.at}>${formatDateTime(e.at)}</time>
    <p>${eventSentence(e, services, viewer)}</p>
    ${e.decision
      ? html`<p class="decision decision-${e.decision}">
          ${e.decision === 'permit' ? icons.check() : icons.stop()}<span>${e.decision === 'permit' ? s.decisionPermit : s.decisionDeny}</span>
        </p>`
      : nothing}
  </li>`;
}
