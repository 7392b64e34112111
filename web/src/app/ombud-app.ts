import { html, LitElement, nothing } from 'lit';
import { api, ApiProblem, requestsApi } from '../api/client.ts';
import { LightElement } from '../components/light-element.ts';
import { loading } from '../components/states.ts';
import { language, setLanguage, t } from '../i18n/i18n.ts';
import { partyName } from '../mandate-text.ts';
import '../pages/act-for-page.ts';
import '../pages/activity-page.ts';
import '../pages/grant-wizard.ts';
import '../pages/mandate-detail.ts';
import '../pages/mandates-page.ts';
import '../pages/official-page.ts';
import '../pages/request-detail.ts';
import '../pages/request-form.ts';
import '../pages/requests-page.ts';
import '../pages/security-page.ts';
import '../pages/start-page.ts';
import { interceptLinks, navigate, onRouteChange, parseRoute, type Route } from './router.ts';
import { session } from './session.ts';

/** The shell: header with language switch and role, the menu, and the page for the current address. */
export class OmbudApp extends LightElement {
  static override properties = { route: { state: true }, ready: { state: true }, openRequests: { state: true } };
  declare route: Route;
  declare ready: boolean;
  /** Requests to me waiting for an answer, shown in the menu. */
  declare openRequests: number;
  /** After the first page, moving to another one puts the focus on its heading, as a page load would. */
  private focusHeading = false;

  constructor() {
    super();
    this.route = parseRoute(location);
    this.ready = false;
    this.openRequests = 0;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    interceptLinks(this);
    onRouteChange(() => {
      this.route = parseRoute(location);
      this.focusHeading = true;
      void this.countRequests();
    });
    this.addEventListener('requests-changed', () => void this.countRequests());
    session.addEventListener('change', () => this.requestUpdate());
    this.addEventListener('signed-in', () => void this.loadMe(true));
    this.addEventListener('signed-out', () => this.signedOut());
    void this.loadMe(false);
  }

  private async loadMe(justSignedIn: boolean) {
    try {
      session.setMe(await api.me());
    } catch (e) {
      if (!(e instanceof ApiProblem && e.status === 401)) throw e;
      session.setMe(undefined);
    }
    this.ready = true;
    void this.countRequests();
    if (session.me && (justSignedIn || this.route.page === 'start')) navigate('/mandates', { replace: true });
  }

  private async signOut() {
    await api.signOut();
    this.signedOut();
  }

  /** What was typed in this tab (drafts, someone's personal number) is not left for whoever uses the computer next. */
  private signedOut() {
    sessionStorage.clear();
    session.setMe(undefined);
    navigate('/');
  }

  /** A count that cannot be fetched is left out of the menu rather than shown wrong. */
  private async countRequests() {
    if (!session.me) {
      this.openRequests = 0;
      return;
    }
    try {
      this.openRequests = (await requestsApi.list('principal')).filter((r) => r.status === 'open').length;
    } catch {
      this.openRequests = 0;
    }
  }

  protected override updated(): void {
    void this.afterPageRendered();
  }

  /** A page renders after the shell that placed it, so its heading is there only once the page has updated. */
  private async afterPageRendered() {
    const page = this.querySelector('main > *');
    if (page instanceof LitElement) await page.updateComplete;
    const heading = this.querySelector<HTMLElement>('main h1');
    document.title = heading?.textContent ? `${heading.textContent} – ${t().appName}` : t().appName;
    if (this.focusHeading && heading) {
      this.focusHeading = false;
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }

  private page() {
    const s = t();
    const route = this.route;
    if (!session.me || route.page === 'start') return html`<start-page></start-page>`;
    switch (route.page) {
      case 'mandates':
        return html`<mandates-page .tab=${route.tab}></mandates-page>`;
      case 'grant':
        return html`<grant-wizard></grant-wizard>`;
      case 'mandate':
        return html`<mandate-detail .mandateId=${route.id}></mandate-detail>`;
      case 'activity':
        return html`<activity-page></activity-page>`;
      case 'act-for':
        return html`<act-for-page></act-for-page>`;
      case 'security':
        return html`<security-page></security-page>`;
      case 'official':
        return html`<official-page></official-page>`;
      case 'requests':
        return html`<requests-page .tab=${route.tab}></requests-page>`;
      case 'request-new':
        return html`<request-form></request-form>`;
      case 'request':
        return html`<request-detail .requestId=${route.id}></request-detail>`;
      default:
        return html`<h1 tabindex="-1">${s.notFoundTitle}</h1>
          <p>${s.notFoundText}</p>
          <p><a href="/mandates">${s.goHome}</a></p>`;
    }
  }

  private nav() {
    const s = t();
    const current = this.route.page === 'mandate' ? 'mandates' : this.route.page.startsWith('request') ? 'requests' : this.route.page;
    const item = (page: Route['page'], href: string, text: string) =>
      html`<li><a href=${href} aria-current=${page === current ? 'page' : 'false'}>${text}</a></li>`;
    return html`<nav class="main-nav" aria-label=${s.mainNav}>
      <ul>
        ${item('mandates', '/mandates', s.navMandates)} ${item('grant', '/grant', s.navGrant)}
        ${this.requestsItem(current === 'requests')}
        ${item('activity', '/activity', s.navActivity)} ${item('act-for', '/act-for', s.navActFor)}
        ${item('security', '/security', s.navSecurity)}
        ${session.me?.roles.includes('official') ? item('official', '/official', s.navOfficial) : nothing}
      </ul>
    </nav>`;
  }

  private requestsItem(current: boolean) {
    const s = t();
    const open = this.openRequests;
    return html`<li>
      <a href="/requests" aria-current=${current ? 'page' : 'false'}
        >${s.navRequests}${open > 0
          ? html`<span class="nav-count" aria-hidden="true">${open}</span><span class="visually-hidden">, ${s.navRequestsOpen(open)}</span>`
          : nothing}</a
      >
    </li>`;
  }

  override render() {
    const s = t();
    const me = session.me;
    const other = language() === 'sv' ? 'en' : 'sv';
    return html`
      <a class="skip-link" href="#main">${s.skipToContent}</a>
      <header class="site-header">
        <div class="header-row">
          <a class="brand" href=${me ? '/mandates' : '/'}>${s.appName}</a>
          <div class="header-tools">
            <button type="button" class="button link" lang=${other} aria-label=${s.switchLanguageLabel} @click=${() => setLanguage(other)}>
              ${s.switchLanguage}
            </button>
            ${me ? html`<button type="button" class="button link" @click=${() => this.signOut()}>${s.signOut}</button>` : nothing}
          </div>
        </div>
        ${me
          ? html`<div class="role" role="status">
              ${session.actingFor
                ? html`<p class="acting"><strong>${s.actingFor(partyName(session.actingFor))}</strong></p>
                    <button type="button" class="button secondary" @click=${() => session.setActingFor(undefined)}>${s.backToMyself}</button>`
                : html`<p>${s.signedInAs(me.name ?? partyName(me.party))}</p>`}
            </div>`
          : nothing}
        ${me ? this.nav() : nothing}
      </header>
      <main id="main" tabindex="-1">${this.ready ? this.page() : loading()}</main>
    `;
  }
}

customElements.define('ombud-app', OmbudApp);

declare global {
  interface HTMLElementTagNameMap {
    'ombud-app': OmbudApp;
  }
}
