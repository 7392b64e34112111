import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { api } from '../api/client.ts';
import { signInWithPasskey } from '../app/passkey-sign-in.ts';
import { session } from '../app/session.ts';
import { t } from '../i18n/i18n.ts';
import { LightElement } from './light-element.ts';

/**
 * A change that needs a recent strong sign-in: say so, and offer the ways the server has. e-ID
 * leaves the page and comes back to `returnTo`; a passkey signs in again right here, so the
 * person only has to press the button once more.
 * @fires signed-in - when the passkey belonged to someone else, who is now the one signed in
 */
export class StepUpNotice extends LightElement {
  static override properties = { returnTo: { attribute: false }, state: { state: true } };
  declare returnTo: string;
  declare state: 'asking' | 'busy' | 'done' | 'failed';

  constructor() {
    super();
    this.returnTo = '/';
    this.state = 'asking';
  }

  private methods = new Task(this, { task: () => api.signInMethods(), args: () => [] });

  private async passkey() {
    this.state = 'busy';
    try {
      await signInWithPasskey();
      const me = await api.me();
      if (me.party.id !== session.me?.party.id) {
        // A passkey is a whole sign-in: someone else's makes them the one signed in, with nothing of the previous person's going on.
        session.setActingFor(undefined);
        this.dispatchEvent(new Event('signed-in', { bubbles: true }));
        return;
      }
      this.state = 'done';
    } catch {
      this.state = 'failed';
    }
  }

  override render() {
    const s = t();
    if (this.state === 'done') return html`<p class="notice notice-ok" role="status">${s.steppedUp}</p>`;
    const methods = this.methods.value;
    return html`<div class="notice notice-error" role="alert">
      <p>${s.stepUp}</p>
      <div class="actions">
        ${methods?.eid !== false
          ? html`<a class="button" data-reload href="/auth/oidc/start?returnTo=${encodeURIComponent(this.returnTo)}">${s.stepUpLink}</a>`
          : nothing}
        ${methods?.passkey
          ? html`<button type="button" class="button secondary" ?disabled=${this.state === 'busy'} @click=${() => this.passkey()}>${s.stepUpPasskey}</button>`
          : nothing}
      </div>
      ${this.state === 'failed' ? html`<p class="field-error">${s.passkeyFailed}</p>` : nothing}
    </div>`;
  }
}

customElements.define('step-up-notice', StepUpNotice);

declare global {
  interface HTMLElementTagNameMap {
    'step-up-notice': StepUpNotice;
  }
}

export function stepUpNotice(returnTo: string) {
  return html`<step-up-notice .returnTo=${returnTo}></step-up-notice>`;
}
