import { html } from 'lit';
import { t } from '../i18n/i18n.ts';

/** A change that needs a recent strong sign-in: say so, and offer the way back to this page. */
export function stepUpNotice(returnTo: string) {
  const s = t();
  return html`<div class="notice notice-error" role="alert">
    <p>${s.stepUp}</p>
    <a class="button" data-reload href="/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}">${s.stepUpLink}</a>
  </div>`;
}
