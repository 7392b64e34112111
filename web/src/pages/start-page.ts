import { Task } from '@lit/task';
import { html } from 'lit';
import { api, type DemoPerson } from '../api/client.ts';
import { LightElement } from '../components/light-element.ts';
import { localised, t } from '../i18n/i18n.ts';
import { formatPersonalNumber } from '../mandate-text.ts';

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

  /** Demo people exist only in development mode; elsewhere the list is simply not shown. */
  private people = new Task(this, {
    task: () => api.demoPeople().catch((): DemoPerson[] => []),
    args: () => [],
  });

  private async devSignIn(person: DemoPerson) {
    await api.devSignIn(person.personalNumber);
    this.dispatchEvent(new Event('signed-in', { bubbles: true }));
  }

  private async passkeySignIn() {
    this.passkeyError = false;
    try {
      const { startAuthentication } = await import('@simplewebauthn/browser');
      const options = await api.passkeyAuthenticationOptions();
      const response = await startAuthentication({ optionsJSON: options as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
      await api.passkeyAuthenticationVerify(response);
      this.dispatchEvent(new Event('signed-in', { bubbles: true }));
    } catch {
      this.passkeyError = true;
    }
  }

  override render() {
    const s = t();
    return html`
      <h1 tabindex="-1">${s.startTitle}</h1>
      <p class="lead">${s.startIntro}</p>
      <section class="card" aria-labelledby="sign-in-heading">
        <h2 id="sign-in-heading">${s.signInHeading}</h2>
        <div class="actions">
          <a class="button" data-reload href="/auth/oidc/start?returnTo=%2Fmandates">${s.signInEid}</a>
          <button type="button" class="button secondary" @click=${() => this.passkeySignIn()}>${s.signInPasskey}</button>
        </div>
        ${this.passkeyError ? html`<p class="field-error" role="alert">${s.passkeyFailed}</p>` : ''}
      </section>
      ${this.people.render({
        complete: (people) =>
          people.length === 0
            ? ''
            : html`<section class="card" aria-labelledby="dev-heading">
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
              </section>`,
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
