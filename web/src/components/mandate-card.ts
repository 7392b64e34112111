import { html, nothing } from 'lit';
import type { Mandate, PartyView, Service } from '../api/client.ts';
import { formatList, t } from '../i18n/i18n.ts';
import { mandateSentence, partyName } from '../mandate-text.ts';
import { awaitingApproval, statusBadge } from './status-badge.ts';

/** One mandate as a card: its status and the one sentence that says what it allows. */
export function mandateCard(mandate: Mandate, services: readonly Service[], viewer: PartyView) {
  const waiting = awaitingApproval(mandate) ? (mandate.approvals ?? []).filter((a) => !a.approvedAt).map((a) => a.signatory) : [];
  return html`<li class="card mandate-card">
    ${statusBadge(mandate)}
    <p class="sentence">${mandateSentence(mandate, services, viewer)}</p>
    ${mandate.registeredBy ? html`<p class="registered-by">${t().registeredByOfficial}</p>` : nothing}
    ${waiting.length > 0 ? html`<p>${t().awaitingApproval(formatList(waiting.map((p) => (p.id === viewer.id ? t().youObject : partyName(p)))))}</p>` : nothing}
    <a class="card-link" href="/mandates/${mandate.id}">${t().showDetails}</a>
  </li>`;
}
