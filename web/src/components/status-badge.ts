import { html } from 'lit';
import type { Mandate } from '../api/client.ts';
import { t } from '../i18n/i18n.ts';
import { icons } from './icons.ts';

/** An organisation's mandate that is pending because not every joint signatory has approved it yet. */
export function awaitingApproval(mandate: Pick<Mandate, 'status' | 'approvals'>): boolean {
  return mandate.status === 'pending' && (mandate.approvals ?? []).some((a) => !a.approvedAt);
}

/** Status in words and with an icon, never by colour alone. */
export function statusBadge(mandate: Pick<Mandate, 'status' | 'approvals'>) {
  const s = t();
  const status = mandate.status;
  const view = {
    active: { text: s.statusActive, icon: icons.check() },
    pending: { text: awaitingApproval(mandate) ? s.statusAwaitingApproval : s.statusPending, icon: icons.clock() },
    expired: { text: s.statusExpired, icon: icons.hourglass() },
    revoked: { text: s.statusRevoked, icon: icons.stop() },
  }[status];
  return html`<span class="status status-${status}">${view.icon}<span>${view.text}</span></span>`;
}
