import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { ApiProblem, type MandateRequest, requestsApi, type Service, api } from '../api/client.ts';
import type { RequestsTab } from '../app/router.ts';
import { session } from '../app/session.ts';
import { LightElement } from '../components/light-element.ts';
import { requestDates, requestMessage, requestSentence, requestStatusBadge } from '../components/request-card.ts';
import { empty, failed, loading } from '../components/states.ts';
import { t } from '../i18n/i18n.ts';
import { partyName } from '../mandate-text.ts';

const AS = { incoming: 'principal', sent: 'agent' } as const;

/** Requests to me that wait for my answer, or the ones I sent; answered and expired ones under their own heading. */
export class RequestsPage extends LightElement {
  static override properties = { tab: {}, notice: { state: true }, problem: { state: true }, busy: { state: true } };
  declare tab: RequestsTab;
  declare notice: string | undefined;
  declare problem: string | undefined;
  declare busy: boolean;
  private focusSelector: string | undefined;

  constructor() {
    super();
    this.tab = 'incoming';
    this.notice = undefined;
    this.problem = undefined;
    this.busy = false;
  }

  private data = new Task(this, {
    task: async ([tab]) => {
      const [requests, services] = await Promise.all([requestsApi.list(AS[tab]), api.services()]);
      return { requests, services };
    },
    args: () => [this.tab] as const,
  });

  protected override updated(): void {
    if (this.focusSelector) {
      this.querySelector<HTMLElement>(this.focusSelector)?.focus();
      this.focusSelector = undefined;
    }
  }

  private async withdraw(request: MandateRequest) {
    if (this.busy) return;
    this.busy = true;
    this.notice = undefined;
    this.problem = undefined;
    try {
      await requestsApi.withdraw(request.id);
      this.notice = t().requestWithdrawnNow;
      await this.data.run();
    } catch (e) {
      this.problem = e instanceof ApiProblem && e.code === 'request-not-open' ? t().requestNotOpen : t().errorGeneric;
      await this.data.run();
    } finally {
      this.busy = false;
      this.focusSelector = '#requests-notice';
    }
  }

  private card(request: MandateRequest, services: readonly Service[]) {
    const s = t();
    const me = session.me?.party;
    const incoming = this.tab === 'incoming';
    return html`<li class="card request-card">
      ${requestStatusBadge(request.status)}
      <p class="sentence">${requestSentence(request, services, me)}</p>
      ${requestMessage(request, me)}
      ${requestDates(request)}
      <div class="actions">
        <a class="card-link" href="/requests/${request.id}">${incoming && request.status === 'open' ? s.readAndAnswer : s.showRequest}</a>
        ${!incoming && request.status === 'open'
          ? html`<button type="button" class="button secondary" ?disabled=${this.busy} aria-label=${s.withdrawRequestTo(partyName(request.principal))}
              @click=${() => this.withdraw(request)}>${s.withdrawRequest}</button>`
          : nothing}
      </div>
    </li>`;
  }

  override render() {
    const s = t();
    const incoming = this.tab === 'incoming';
    const tabLink = (tab: RequestsTab, text: string) =>
      html`<a class="tab" href=${tab === 'sent' ? '/requests?tab=sent' : '/requests'} aria-current=${tab === this.tab ? 'page' : 'false'}>${text}</a>`;
    const sent = new URLSearchParams(location.search).has('sent');
    return html`
      <h1 tabindex="-1">${s.requestsTitle}</h1>
      <nav class="tabs" aria-label=${s.requestsTabsLabel}>${tabLink('incoming', s.tabIncoming)}${tabLink('sent', s.tabSent)}</nav>
      <p>${incoming ? s.requestsIntroIncoming : s.requestsIntroSent}</p>
      ${!incoming ? html`<p><a class="button" href="/requests/new">${s.askNew}</a></p>` : nothing}
      ${!incoming && sent && !this.notice ? html`<p class="notice notice-ok" role="status">${s.requestSentNow}</p>` : nothing}
      <div id="requests-notice" tabindex="-1">
        ${this.notice ? html`<p class="notice notice-ok" role="status">${this.notice}</p>` : nothing}
        ${this.problem ? html`<p class="notice notice-error" role="alert">${this.problem}</p>` : nothing}
      </div>
      ${this.data.render({
        pending: () => (this.data.value ? this.renderLists(this.data.value) : loading()),
        error: () => failed(() => this.data.run()),
        complete: (value) => this.renderLists(value),
      })}
    `;
  }

  private renderLists({ requests, services }: { requests: MandateRequest[]; services: Service[] }) {
    const s = t();
    const incoming = this.tab === 'incoming';
    const open = requests.filter((r) => r.status === 'open');
    const closed = requests.filter((r) => r.status !== 'open');
    const list = (items: MandateRequest[], none: string) =>
      items.length === 0 ? empty(none) : html`<ul class="plain cards">${items.map((r) => this.card(r, services))}</ul>`;
    return html`
      <section aria-labelledby="open-heading">
        <h2 id="open-heading">${incoming ? s.openIncomingHeading : s.openSentHeading}</h2>
        ${list(open, incoming ? s.emptyIncoming : s.emptySent)}
      </section>
      <section aria-labelledby="answered-heading">
        <h2 id="answered-heading">${s.answeredHeading}</h2>
        ${list(closed, s.emptyAnswered)}
      </section>
    `;
  }
}

customElements.define('requests-page', RequestsPage);

declare global {
  interface HTMLElementTagNameMap {
    'requests-page': RequestsPage;
  }
}
