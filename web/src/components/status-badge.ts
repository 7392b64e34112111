import { html } from 'lit';
import type { MandateStatus } from '../api/client.ts';
import { t } from '../i18n/i18n.ts';
import { icons } from './icons.ts';

/** Status in words and with an icon, never by colour alone. */
export function statusBadge(status: MandateStatus) {
  const s = t();
  const view = {
    active: { text: s.statusActive, icon: icons.check() },
    pending: { text: s.statusPending, icon: icons.clock() },
    expired: { text: s.statusExpired, icon: icons.hourglass() },
    revoked: { text: s.statusRevoked, icon: icons.stop() },
  }[status];
  return html`<span class="status status-${status}">${view.icon}<span>${view.text}</span></span>`;
}
