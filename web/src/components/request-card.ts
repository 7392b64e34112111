import { html, nothing } from 'lit';
import type { MandateRequest, PartyView, RequestStatus, Service } from '../api/client.ts';
import { formatDate, t } from '../i18n/i18n.ts';
import { describeScopes, lastDay, partyName } from '../mandate-text.ts';
import { icons } from './icons.ts';

/** Whether the viewer is the person asked, rather than the one asking. */
export function askedOfMe(request: MandateRequest, viewer: PartyView | undefined): boolean {
  return viewer !== undefined && request.principal.id === viewer.id;
}

/** Status in words and with an icon, in the colours of the mandate statuses it leads to. */
export function requestStatusBadge(status: RequestStatus) {
  const s = t();
  const view = {
    open: { text: s.requestOpen, icon: icons.clock(), look: 'pending' },
    approved: { text: s.requestApproved, icon: icons.check(), look: 'active' },
    declined: { text: s.requestDeclined, icon: icons.stop(), look: 'revoked' },
    withdrawn: { text: s.requestWithdrawn, icon: icons.stop(), look: 'expired' },
    expired: { text: s.requestExpired, icon: icons.hourglass(), look: 'expired' },
  }[status];
  return html`<span class="status status-${view.look}">${view.icon}<span>${view.text}</span></span>`;
}

/** "Erik Lindqvist ber om att få lämna deklarationen (Skatteverket) åt dig till och med 1 mars 2027.", in the past tense once closed. */
export function requestSentence(request: MandateRequest, services: readonly Service[], viewer: PartyView | undefined): string {
  const s = t();
  const actions = describeScopes(request.scopes, services);
  const until = formatDate(lastDay(request.validTo));
  const open = request.status === 'open';
  return askedOfMe(request, viewer)
    ? (open ? s.requestSentenceIncoming : s.requestSentenceIncomingPast)(partyName(request.requester), actions, until)
    : (open ? s.requestSentenceSent : s.requestSentenceSentPast)(partyName(request.principal), actions, until);
}

/** The requester's note as plain text, kept apart from the app's own words. */
export function requestMessage(request: MandateRequest, viewer: PartyView | undefined) {
  if (!request.message) return nothing;
  const s = t();
  return html`<figure class="request-message">
    <figcaption>${askedOfMe(request, viewer) ? s.messageFrom(partyName(request.requester)) : s.yourMessage}</figcaption>
    <blockquote>${request.message}</blockquote>
  </figure>`;
}

/** When it was sent, and when it lapses or was answered. */
export function requestDates(request: MandateRequest) {
  const s = t();
  return html`<p class="hint">
    ${s.requestSentOn(formatDate(request.createdAt))}
    ${request.status === 'open' ? s.requestLapses(formatDate(request.expiresAt)) : nothing}
    ${request.decidedAt ? (request.status === 'withdrawn' ? s.requestWithdrawnOn : s.requestAnsweredOn)(formatDate(request.decidedAt)) : nothing}
  </p>`;
}
