import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { api, ApiProblem, type Passkey, type SessionInfo } from '../api/client.ts';
import { LightElement } from '../components/light-element.ts';
import { empty, failed, loading } from '../components/states.ts';
import { stepUpNotice } from '../components/step-up.ts';
import { formatDate, formatDateTime, t } from '../i18n/i18n.ts';

type Message = { ok: boolean; text: string } | 'step-up' | undefined;

/**
 * Passkeys (create, rename, remove) and the places I am signed in (end one, or all).
 * @fires signed-out - after this device's session has ended
 */
export class SecurityPage extends LightElement {
  static override properties = {
    message: { state: true },
    newName: { state: true },
    renaming: { state: true },
    rename: { state: true },
    nameError: { state: true },
  };
  declare message: Message;
  declare newName: string;
  /** The passkey being renamed, if any. */
  declare renaming: string | undefined;
  declare rename: string;
  declare nameError: boolean;

  constructor() {
    super();
    this.message = undefined;
    this.newName = '';
    this.renaming = undefined;
    this.rename = '';
    this.nameError = false;
  }

  private passkeys = new Task(this, { task: () => api.passkeys(), args: () => [] });
  private sessions = new Task(this, { task: () => api.sessions(), args: () => [] });

  private fail(e: unknown) {
    this.message = e instanceof ApiProblem && e.code === 'step-up-required' ? 'step-up' : { ok: false, text: t().errorGeneric };
  }

  private async addPasskey(event: Event) {
    event.preventDefault();
    const s = t();
    this.message = undefined;
    try {
      const { startRegistration } = await import('@simplewebauthn/browser');
      const options = await api.passkeyRegistrationOptions();
      const response = await startRegistration({ optionsJSON: options as Parameters<typeof startRegistration>[0]['optionsJSON'] });
      await api.passkeyRegistrationVerify(response, this.newName.trim() || s.passkeyDefaultName);
      this.newName = '';
      this.message = { ok: true, text: s.passkeyAdded };
    } catch (e) {
      if (e instanceof ApiProblem && e.code === 'step-up-required') this.message = 'step-up';
      else this.message = { ok: false, text: s.passkeyAddFailed };
    }
    await this.passkeys.run();
  }

  private async saveName(event: Event, key: Passkey) {
    event.preventDefault();
    const name = this.rename.trim();
    this.nameError = name === '';
    if (this.nameError) return;
    try {
      await api.renamePasskey(key.id, name);
      this.renaming = undefined;
      this.message = { ok: true, text: t().passkeyRenamed };
    } catch (e) {
      this.fail(e);
    }
    await this.passkeys.run();
  }

  private async removePasskey(id: string) {
    try {
      await api.removePasskey(id);
      this.message = { ok: true, text: t().passkeyRemoved };
    } catch (e) {
      this.fail(e);
    }
    await this.passkeys.run();
  }

  private async endSession(session: SessionInfo) {
    try {
      await api.endSession(session.id);
    } catch (e) {
      this.fail(e);
      return;
    }
    if (session.current) {
      this.dispatchEvent(new Event('signed-out', { bubbles: true }));
      return;
    }
    this.message = { ok: true, text: t().sessionEnded };
    await this.sessions.run();
  }

  private async signOutEverywhere() {
    try {
      await api.signOutEverywhere();
      this.dispatchEvent(new Event('signed-out', { bubbles: true }));
    } catch (e) {
      this.fail(e);
    }
  }

  private renderPasskey(key: Passkey) {
    const s = t();
    if (this.renaming === key.id) {
      return html`<li class="row">
        <form class="grow" @submit=${(e: Event) => this.saveName(e, key)}>
          <div class="field">
            <label for="rename-${key.id}">${s.newNameLabel(key.name)}</label>
            <input id="rename-${key.id}" maxlength="100" .value=${this.rename} aria-invalid=${this.nameError ? 'true' : 'false'}
              aria-describedby=${this.nameError ? `rename-${key.id}-error` : nothing}
              @input=${(e: Event) => (this.rename = (e.target as HTMLInputElement).value)} />
            ${this.nameError ? html`<p class="field-error" id="rename-${key.id}-error">${s.nameMissing}</p>` : nothing}
          </div>
          <div class="actions">
            <button type="submit" class="button">${s.save}</button>
            <button type="button" class="button secondary" @click=${() => (this.renaming = undefined)}>${s.cancel}</button>
          </div>
        </form>
      </li>`;
    }
    return html`<li class="row">
      <span>
        <strong>${key.name}</strong><br />
        <span class="hint">${s.passkeyCreated(formatDate(key.createdAt))}${key.lastUsedAt ? html` · ${s.passkeyLastUsed(formatDate(key.lastUsedAt))}` : nothing}</span>
      </span>
      <span class="actions">
        <button type="button" class="button secondary"
          @click=${() => {
            this.renaming = key.id;
            this.rename = key.name;
            this.nameError = false;
          }}>${s.renamePasskey(key.name)}</button>
        <button type="button" class="button secondary" @click=${() => this.removePasskey(key.id)}>${s.removePasskey(key.name)}</button>
      </span>
    </li>`;
  }

  private renderSession(one: SessionInfo) {
    const s = t();
    const method = s.methodNames[one.method] ?? one.method;
    return html`<li class="row">
      <span>
        <strong>${one.current ? s.thisDevice : (one.userAgent ?? s.unknownDevice)}</strong><br />
        <span class="hint">${s.signedInWith(method)} · ${s.sessionSince(formatDateTime(one.createdAt))} · ${s.sessionLastSeen(formatDateTime(one.lastSeenAt))}</span>
      </span>
      <button type="button" class="button secondary" @click=${() => this.endSession(one)}>${one.current ? s.endSession : s.endOtherSession}</button>
    </li>`;
  }

  override render() {
    const s = t();
    const message = this.message;
    return html`
      <h1 tabindex="-1">${s.securityTitle}</h1>
      ${message === 'step-up' ? stepUpNotice('/security') : nothing}
      ${message && message !== 'step-up'
        ? html`<p class="notice ${message.ok ? 'notice-ok' : 'notice-error'}" role=${message.ok ? 'status' : 'alert'}>${message.text}</p>`
        : nothing}
      <section class="card" aria-labelledby="passkeys-heading">
        <h2 id="passkeys-heading">${s.passkeysHeading}</h2>
        <p>${s.passkeysIntro}</p>
        ${this.passkeys.render({
          pending: loading,
          error: () => failed(() => this.passkeys.run()),
          complete: (keys) =>
            keys.length === 0 ? empty(s.emptyPasskeys) : html`<ul class="plain list">${keys.map((k) => this.renderPasskey(k))}</ul>`,
        })}
        <form @submit=${(e: Event) => this.addPasskey(e)}>
          <div class="field">
            <label for="passkey-name">${s.passkeyNameLabel}</label>
            <p class="hint" id="passkey-name-hint">${s.passkeyNameHint}</p>
            <input id="passkey-name" maxlength="100" aria-describedby="passkey-name-hint" .value=${this.newName}
              @input=${(e: Event) => (this.newName = (e.target as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="button">${s.addPasskey}</button>
        </form>
      </section>
      <section class="card" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">${s.sessionsHeading}</h2>
        <p>${s.sessionsIntro}</p>
        ${this.sessions.render({
          pending: loading,
          error: () => failed(() => this.sessions.run()),
          complete: (list) => html`<ul class="plain list">${list.map((one) => this.renderSession(one))}</ul>`,
        })}
        <p><button type="button" class="button danger" @click=${() => this.signOutEverywhere()}>${s.signOutEverywhere}</button></p>
      </section>
    `;
  }
}

customElements.define('security-page', SecurityPage);

declare global {
  interface HTMLElementTagNameMap {
    'security-page': SecurityPage;
  }
}
