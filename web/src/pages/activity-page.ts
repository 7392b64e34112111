import { Task } from '@lit/task';
import { html, nothing, type PropertyValues } from 'lit';
import { type ActivityFilter, api, type AuditEvent, type Service } from '../api/client.ts';
import { fetchAll, TooManyItems } from '../api/paging.ts';
import { session } from '../app/session.ts';
import { eventSentence } from '../components/event-item.ts';
import { EventPager, eventList } from '../components/event-list.ts';
import { LightElement } from '../components/light-element.ts';
import { failed, loading } from '../components/states.ts';
import { csvText } from '../csv.ts';
import { formatDateTime, formatNumber, localised, t } from '../i18n/i18n.ts';
import { partyName, permissionName } from '../mandate-text.ts';

type Kind = '' | 'check' | 'mandate' | 'sign-in';
type Period = '30' | '365' | 'all';
type ExportOutcome = { done: number } | 'cancelled' | 'too-many' | 'failed';

/** The most events one file holds: beyond it the person narrows the filter rather than wait. */
const EXPORT_MAX = 20_000;
/** The API's largest page: the fewest round trips for a file. */
const EXPORT_PAGE_SIZE = 500;

function serviceName(services: readonly Service[], id: string | undefined): string {
  const service = services.find((svc) => svc.id === id);
  return service ? localised(service.name) : (id ?? '');
}

/** Every event about me, newest first, a page at a time, filtered by kind and period, and downloadable as CSV. */
export class ActivityPage extends LightElement {
  static override properties = {
    kind: { state: true },
    period: { state: true },
    exported: { state: true },
    exportOutcome: { state: true },
  };
  declare kind: Kind;
  declare period: Period;
  /** How many events the file has so far while it is being fetched. */
  declare exported: number | undefined;
  declare exportOutcome: ExportOutcome | undefined;
  private readonly pager = new EventPager(this);
  /** The filter the list shows, with its period fixed when it was chosen, so every page and the file agree. */
  private filter: ActivityFilter = {};
  private exporting: AbortController | undefined;
  private focusSelector: string | undefined;

  constructor() {
    super();
    this.kind = '';
    this.period = '365';
    this.exported = undefined;
    this.exportOutcome = undefined;
  }

  private services = new Task(this, { task: () => api.services(), args: () => [] as const });

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('kind') || changed.has('period')) {
      const from = this.period === 'all' ? undefined : new Date(Date.now() - Number(this.period) * 86_400_000).toISOString();
      const filter: ActivityFilter = { ...(this.kind ? { kind: this.kind } : {}), ...(from ? { from } : {}) };
      this.filter = filter;
      this.stopExport(true);
      this.pager.reset((page, signal) => api.activity(filter, page, signal));
    }
  }

  protected override updated(): void {
    if (this.focusSelector) {
      this.querySelector<HTMLElement>(this.focusSelector)?.focus();
      this.focusSelector = undefined;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.exporting?.abort();
  }

  /** Fetches every event the filter matches, not only those on screen, and saves them as one file. */
  private async export(services: readonly Service[]) {
    const filter = this.filter;
    const exporting = new AbortController();
    this.exporting = exporting;
    this.exported = 0;
    this.exportOutcome = undefined;
    this.focusSelector = '#cancel-export';
    let outcome: ExportOutcome;
    try {
      const events = await fetchAll((page, signal) => api.activity(filter, page, signal), {
        pageSize: EXPORT_PAGE_SIZE,
        max: EXPORT_MAX,
        signal: exporting.signal,
        onProgress: (count) => (this.exported = count),
      });
      this.download(events, services);
      outcome = { done: events.length };
    } catch (e) {
      outcome = exporting.signal.aborted ? 'cancelled' : e instanceof TooManyItems ? 'too-many' : 'failed';
    }
    // A new filter has started over meanwhile: this file is no longer wanted.
    if (this.exporting !== exporting) return;
    this.exporting = undefined;
    this.exported = undefined;
    this.exportOutcome = outcome;
    this.focusSelector = '#download';
  }

  /** Stops fetching a file; with `quietly` (the list starts over), nothing is said about it. */
  private stopExport(quietly: boolean) {
    this.exporting?.abort();
    if (!quietly) return;
    this.exporting = undefined;
    this.exported = undefined;
    this.exportOutcome = undefined;
  }

  private download(events: readonly AuditEvent[], services: readonly Service[]) {
    const s = t();
    const viewer = session.me?.party;
    const rows = events.map((e) => [
      formatDateTime(e.at),
      eventSentence(e, services, viewer),
      e.agent ? partyName(e.agent) : (e.actor.name ?? ''),
      e.onBehalfOf ? partyName(e.onBehalfOf) : '',
      serviceName(services, e.service),
      e.permission ? permissionName(services, e.service, e.permission) : '',
      e.decision ? (e.decision === 'permit' ? s.permit : s.deny) : '',
    ]);
    const url = URL.createObjectURL(new Blob([csvText([s.csvColumns, ...rows])], { type: 'text/csv;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = s.csvFile;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }

  /** The download button, or while the file is fetched its progress and a way to stop; the outcome after. */
  private renderExport(services: readonly Service[]) {
    const s = t();
    const outcome = this.exportOutcome;
    const exported = this.exported;
    const problem = outcome === 'too-many' ? s.exportTooMany(formatNumber(EXPORT_MAX)) : outcome === 'failed' ? s.exportFailed : undefined;
    const status =
      exported !== undefined
        ? html`<span class="spinner" aria-hidden="true"></span>${exported === 0 ? s.loading : s.exportProgress(formatNumber(exported))}`
        : outcome === 'cancelled'
          ? s.exportCancelled
          : typeof outcome === 'object'
            ? s.exportDone(formatNumber(outcome.done))
            : nothing;
    return html`<div class="export">
      ${exported === undefined
        ? html`<button id="download" type="button" class="button secondary" @click=${() => void this.export(services)}>${s.downloadCsv}</button>`
        : html`<button id="cancel-export" type="button" class="button secondary" @click=${() => this.stopExport(false)}>${s.exportCancel}</button>`}
      <p class="export-status" role="status">${status}</p>
      ${problem ? html`<p class="field-error" role="alert">${problem}</p>` : nothing}
    </div>`;
  }

  override render() {
    const s = t();
    const kinds: [Kind, string][] = [
      ['', s.kindAll],
      ['check', s.kindCheck],
      ['mandate', s.kindMandate],
      ['sign-in', s.kindSignIn],
    ];
    const periods: [Period, string][] = [
      ['30', s.period30],
      ['365', s.period365],
      ['all', s.periodAll],
    ];
    return html`
      <h1 tabindex="-1">${s.activityTitle}</h1>
      <p class="lead">${s.activityIntro}</p>
      <div class="filters">
        <div class="field">
          <label for="kind">${s.filterKind}</label>
          <select id="kind" @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value as Kind)}>
            ${kinds.map(([value, text]) => html`<option value=${value} ?selected=${value === this.kind}>${text}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="period">${s.filterPeriod}</label>
          <select id="period" @change=${(e: Event) => (this.period = (e.target as HTMLSelectElement).value as Period)}>
            ${periods.map(([value, text]) => html`<option value=${value} ?selected=${value === this.period}>${text}</option>`)}
          </select>
        </div>
      </div>
      ${this.services.render({
        pending: loading,
        error: () => failed(() => this.services.run()),
        complete: (services) =>
          html`${this.pager.items.length > 0 ? this.renderExport(services) : nothing}
          ${eventList(this.pager, services, session.me?.party, s.emptyEvents)}`,
      })}
    `;
  }
}

customElements.define('activity-page', ActivityPage);

declare global {
  interface HTMLElementTagNameMap {
    'activity-page': ActivityPage;
  }
}
