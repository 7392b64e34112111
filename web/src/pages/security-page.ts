import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { api, ApiProblem, type SessionInfo } from '../api/client.ts';
import { LightElement } from '../components/light-element.ts';
import { empty, failed, loading } from '../components/states.ts';
import { formatDate, formatDateTime, t } from '../i18n/i18n.ts';

/**
 * Passkeys (create, list, remove) and where I am signed in.
 * @fires signed-out - after signing out everywhere
 */
export class SecurityPage extends LightElement {
  static override properties = { message: { state: true } };
  declare message: { ok: boolean; text: string } | undefined;

  constructor() {
    super();
    this.message = undefined;
  }

  private passkeys = new Task(this, { task: () => api.passkeys(), args: () => [] });

  /** A server without a sessions list simply shows no such section. */
  private sessions = new Task(this, {
    task: () =>
      api.sessions().catch((e: unknown): SessionInfo[] | undefined => {
        if (e instanceof ApiProblem && e.status === 404) return undefined;
        throw e;
      }),
    args: () => [],
  });

  private async addPasskey() {
    const s = t();
    this.message = undefined;
    try {
      const { startRegistration } = await import('@simplewebauthn/browser');
      const options = await api.passkeyRegistrationOptions();
      const response = await startRegistration({ optionsJSON: options as Parameters<typeof startRegistration>[0]['optionsJSON'] });
      await api.passkeyRegistrationVerify(response);
      this.message = { ok: true, text: s.passkeyAdded };
    } catch {
      this.message = { ok: false, text: s.passkeyAddFailed };
    }
    await this.passkeys.run();
  }

  private async removePasskey(id: string) {
    try {
      await api.removePasskey(id);
      this.message = { ok: true, text: t().passkeyRemoved };
    } catch {
      this.message = { ok: false, text: t().errorGeneric };
    }
    await this.passkeys.run();
  }

  private async signOutEverywhere() {
    await api.signOutEverywhere();
    this.dispatchEvent(new Event('signed-out', { bubbles: true }));
  }

  override render() {
    const s = t();
    return html`
      <h1 tabindex="-1">${s.securityTitle}</h1>
      <section class="card" aria-labelledby="passkeys-heading">
        <h2 id="passkeys-heading">${s.passkeysHeading}</h2>
        <p>${s.passkeysIntro}</p>
        ${this.message
          ? html`<p class="notice ${this.message.ok ? 'notice-ok' : 'notice-error'}" role=${this.message.ok ? 'status' : 'alert'}>${this.message.text}</p>`
          : nothing}
        ${this.passkeys.render({
          pending: loading,
          error: () => failed(() => this.passkeys.run()),
          complete: (keys) =>
            keys.length === 0
              ? empty(s.emptyPasskeys)
              : html`<ul class="plain list">
                  ${keys.map(
                    (k) => html`<li class="row">
                      <span><strong>${k.name}</strong>${k.createdAt ? html`<br /><span class="hint">${s.passkeyCreated(formatDate(k.createdAt))}</span>` : nothing}</span>
                      <button type="button" class="button secondary" @click=${() => this.removePasskey(k.id)}>${s.removePasskey(k.name)}</button>
                    </li>`,
                  )}
                </ul>`,
        })}
        <p><button type="button" class="button" @click=${() => this.addPasskey()}>${s.addPasskey}</button></p>
      </section>
      ${this.sessions.render({
        pending: loading,
        error: () => failed(() => this.sessions.run()),
        complete: (list) =>
          list === undefined
            ? nothing
            : html`<section class="card" aria-labelledby="sessions-heading">
                <h2 id="sessions-heading">${s.sessionsHeading}</h2>
                <p>${s.sessionsIntro}</p>
                <ul class="plain list">
                  ${list.map(
                    (one) => html`<li class="row">
                      <span>${one.current ? html`<strong>${s.thisDevice}</strong><br />` : nothing}${one.createdAt ? s.sessionSince(formatDateTime(one.createdAt)) : ''}</span>
                    </li>`,
                  )}
                </ul>
                <p><button type="button" class="button danger" @click=${() => this.signOutEverywhere()}>${s.signOutEverywhere}</button></p>
              </section>`,
      })}
    `;
  }
}

customElements.define('security-page', SecurityPage);

declare global {
  interface HTMLElementTagNameMap {
    'security-page': SecurityPage;
  }
}
