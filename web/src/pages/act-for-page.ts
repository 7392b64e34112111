import { Task } from '@lit/task';
import { html } from 'lit';
import { api, type Mandate, type PartyView } from '../api/client.ts';
import { session } from '../app/session.ts';
import { LightElement } from '../components/light-element.ts';
import { empty, failed, loading } from '../components/states.ts';
import { t } from '../i18n/i18n.ts';
import { describeScopes, partyName, upperFirst } from '../mandate-text.ts';

/** As an agent: whom I may act for now and what I may do for each; choosing one switches the role in the header. */
export class ActForPage extends LightElement {
  private data = new Task(this, {
    task: async () => {
      const [mandates, services] = await Promise.all([api.mandates('agent'), api.services()]);
      return { mandates: mandates.filter((m) => m.status === 'active'), services };
    },
    args: () => [],
  });

  override connectedCallback(): void {
    super.connectedCallback();
    session.addEventListener('change', this.refresh);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    session.removeEventListener('change', this.refresh);
  }

  private refresh = () => this.requestUpdate();

  override render() {
    const s = t();
    return html`
      <h1 tabindex="-1">${s.actForTitle}</h1>
      <p class="lead">${s.actForIntro}</p>
      ${this.data.render({
        pending: loading,
        error: () => failed(() => this.data.run()),
        complete: ({ mandates, services }) => {
          const principals = new Map<string, { party: PartyView; mandates: Mandate[] }>();
          for (const m of mandates) {
            const entry = principals.get(m.principal.id) ?? { party: m.principal, mandates: [] };
            entry.mandates.push(m);
            principals.set(m.principal.id, entry);
          }
          if (principals.size === 0) return empty(s.emptyActFor);
          return html`<ul class="plain cards">
            ${[...principals.values()].map(({ party, mandates: own }) => {
              const acting = session.actingFor?.id === party.id;
              const headingId = `principal-${party.id}`;
              return html`<li class="card" aria-labelledby=${headingId}>
                <h2 id=${headingId}>${partyName(party)}</h2>
                <p>${s.youMay}</p>
                <ul>${own.map((m) => html`<li>${upperFirst(describeScopes(m.scopes, services))}</li>`)}</ul>
                ${acting
                  ? html`<p class="notice notice-ok">${s.currentlyActing}</p>`
                  : html`<button type="button" class="button" @click=${() => session.setActingFor(party)}>${s.actFor(partyName(party))}</button>`}
              </li>`;
            })}
          </ul>`;
        },
      })}
    `;
  }
}

customElements.define('act-for-page', ActForPage);

declare global {
  interface HTMLElementTagNameMap {
    'act-for-page': ActForPage;
  }
}
