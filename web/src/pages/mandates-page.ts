import { Task } from '@lit/task';
import { html } from 'lit';
import { api, type Mandate } from '../api/client.ts';
import type { MandatesTab } from '../app/router.ts';
import { session } from '../app/session.ts';
import { LightElement } from '../components/light-element.ts';
import { mandateCard } from '../components/mandate-card.ts';
import { empty, failed, loading } from '../components/states.ts';
import { t } from '../i18n/i18n.ts';

const AS = { given: 'principal', received: 'agent', signatory: 'signatory' } as const;

/** Mandates I gave, or that name me; current ones first, ended ones under their own heading. */
export class MandatesPage extends LightElement {
  static override properties = { tab: {} };
  declare tab: MandatesTab;

  constructor() {
    super();
    this.tab = 'given';
  }

  private data = new Task(this, {
    task: async ([tab]) => {
      const [mandates, services] = await Promise.all([api.mandates(AS[tab]), api.services()]);
      return { mandates, services };
    },
    args: () => [this.tab] as const,
  });

  override render() {
    const s = t();
    const tabLink = (tab: MandatesTab, text: string) =>
      html`<a class="tab" href="/mandates?tab=${tab}" aria-current=${tab === this.tab ? 'page' : 'false'}>${text}</a>`;
    return html`
      <h1 tabindex="-1">${s.mandatesTitle}</h1>
      <nav class="tabs" aria-label=${s.tabsLabel}>${tabLink('given', s.tabGiven)}${tabLink('received', s.tabReceived)}${tabLink('signatory', s.tabSignatory)}</nav>
      ${this.tab === 'given' ? html`<p><a class="button" href="/grant">${s.grantNew}</a></p>` : ''}
      ${this.data.render({
        pending: loading,
        error: () => failed(() => this.data.run()),
        complete: ({ mandates, services }) => {
          const me = session.me?.party;
          if (!me) return loading();
          const current = mandates.filter((m) => m.status === 'active' || m.status === 'pending');
          const ended = mandates.filter((m) => m.status === 'expired' || m.status === 'revoked');
          const list = (items: Mandate[], none: string) =>
            items.length === 0 ? empty(none) : html`<ul class="plain cards">${items.map((m) => mandateCard(m, services, me))}</ul>`;
          return html`
            <section aria-labelledby="current-heading">
              <h2 id="current-heading">${s.currentHeading}</h2>
              ${list(current, { given: s.emptyGiven, received: s.emptyReceived, signatory: s.emptySignatory }[this.tab])}
            </section>
            <section aria-labelledby="history-heading">
              <h2 id="history-heading">${s.historyHeading}</h2>
              ${list(ended, s.emptyHistory)}
            </section>
          `;
        },
      })}
    `;
  }
}

customElements.define('mandates-page', MandatesPage);

declare global {
  interface HTMLElementTagNameMap {
    'mandates-page': MandatesPage;
  }
}
