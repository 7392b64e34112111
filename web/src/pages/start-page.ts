import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { api, type DemoPerson } from '../api/client.ts';
import { LightElement } from '../components/light-element.ts';
import { failed, loading } from '../components/states.ts';
import { localised, t } from '../i18n/i18n.ts';
import { formatPersonalNumber } from '../mandate-text.ts';
import { signInWithPasskey } from '../app/passkey-sign-in.ts';

/**
 * The first page: what the service is, and how to sign in.
 * @fires signed-in - after a sign-in that set a session cookie
 */
export class StartPage extends LightElement {
  static override properties = { passkeyError: { state: true } };
  declare passkeyError: boolean;

  constructor() {
    super();
    this.passkeyError = false;
  }

  /** Only the ways this server offers; demo people exist only in development mode. */
  private options = new Task(this, {
    task: async () => {
      const methods = await api.signInMethods();
      return { methods, people: methods.dev ? await api.demoPeople() : [] };
    },
    args: () => [],
  });

  private async devSignIn(person: DemoPerson) {
    await api.devSignIn(person.personalNumber);
    this.dispatchEvent(new Event('signed-in', { bubbles: true }));
  }

  private async passkeySignIn() {
    this.passkeyError = false;
    try {
      await signInWithPasskey();
      this.dispatchEvent(new Event('signed-in', { bubbles: true }));
    } catch {
      this.passkeyError = true;
    }
  }

  private renderPeople(people: DemoPerson[]) {
    const s = t();
    return html`<section class="card" aria-labelledby="dev-heading">
      <h2 id="dev-heading">${s.devHeading}</h2>
      <p>${s.devIntro}</p>
      <ul class="plain people">
        ${people.map(
          (p) => html`<li>
            <button type="button" class="button secondary wide" @click=${() => this.devSignIn(p)}>
              <span class="person-name">${p.name}</span>
              <span class="person-note">${localised(p.note)} · ${formatPersonalNumber(p.personalNumber)}</span>
            </button>
          </li>`,
        )}
      </ul>
    </section>`;
  }

  override render() {
    const s = t();
    return html`
      <h1 tabindex="-1">${s.startTitle}</h1>
      <p class="lead">${s.startIntro}</p>
      ${this.options.render({
        pending: loading,
        error: () => failed(() => this.options.run()),
        complete: ({ methods, people }) => html`
          <section class="card" aria-labelledby="sign-in-heading">
            <h2 id="sign-in-heading">${s.signInHeading}</h2>
            <div class="actions">
              ${methods.eid ? html`<a class="button" data-reload href="/auth/oidc/start?returnTo=%2Fmandates">${s.signInEid}</a>` : nothing}
              ${methods.passkey
                ? html`<button type="button" class="button ${methods.eid ? 'secondary' : ''}" @click=${() => this.passkeySignIn()}>${s.signInPasskey}</button>`
                : nothing}
            </div>
            ${this.passkeyError ? html`<p class="field-error" role="alert">${s.passkeyFailed}</p>` : nothing}
          </section>
          ${people.length === 0 ? nothing : this.renderPeople(people)}
        `,
      })}
    `;
  }
}

customElements.define('start-page', StartPage);

declare global {
  interface HTMLElementTagNameMap {
    'start-page': StartPage;
  }
}
