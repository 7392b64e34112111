import { html } from 'lit';
import type { Mandate, PartyView, Service } from '../api/client.ts';
import { t } from '../i18n/i18n.ts';
import { mandateSentence } from '../mandate-text.ts';
import { statusBadge } from './status-badge.ts';

/** One mandate as a card: its status and the one sentence that says what it allows. */
export function mandateCard(mandate: Mandate, services: readonly Service[], viewer: PartyView) {
  return html`<li class="card mandate-card">
    ${statusBadge(mandate.status)}
    <p class="sentence">${mandateSentence(mandate, services, viewer)}</p>
    <a class="card-link" href="/mandates/${mandate.id}">${t().showDetails}</a>
  </li>`;
}
