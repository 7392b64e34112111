import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import type { AuditEvent, PartyView, Service } from '../api/client.ts';
import type { PageFetcher } from '../api/paging.ts';
import { formatNumber, t } from '../i18n/i18n.ts';
import { eventItem } from './event-item.ts';
import { empty, failed, loading } from './states.ts';

/** Enough to read through calmly; "Visa fler" brings the next as many. */
const EVENT_PAGE_SIZE = 100;

/**
 * A list of events read a page at a time, newest first: the first page on `reset`, each
 * older one on `more`, appended. A failed page loses nothing already shown; starting over
 * drops whatever page was still on its way.
 */
export class EventPager implements ReactiveController {
  items: AuditEvent[] = [];
  /** Cursor of the next older page; undefined once the oldest event is shown. */
  nextBefore: number | undefined;
  loading = false;
  failed = false;
  private fetchPage: PageFetcher<AuditEvent> | undefined;
  private inFlight: AbortController | undefined;

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.inFlight?.abort();
  }

  /** Starts over from the newest event, with these pages. */
  reset(fetchPage: PageFetcher<AuditEvent>): void {
    this.fetchPage = fetchPage;
    this.items = [];
    this.nextBefore = undefined;
    void this.load();
  }

  /**
   * The next older page (or the first, if it failed); the focus moves to its first event, so
   * reading goes on from there.
   */
  async more(): Promise<void> {
    if (this.loading || (this.items.length > 0 && this.nextBefore === undefined)) return;
    const first = this.items.length;
    if (await this.load()) {
      await this.host.updateComplete;
      const item = this.host.querySelector<HTMLElement>(`ol.events > li:nth-child(${first + 1})`);
      item?.setAttribute('tabindex', '-1');
      item?.focus();
    }
  }

  /** True when a page arrived and is shown. */
  private async load(): Promise<boolean> {
    const fetchPage = this.fetchPage;
    if (!fetchPage) return false;
    this.inFlight?.abort();
    const inFlight = new AbortController();
    this.inFlight = inFlight;
    this.loading = true;
    this.failed = false;
    this.host.requestUpdate();
    try {
      const page = await fetchPage({ limit: EVENT_PAGE_SIZE, ...(this.nextBefore === undefined ? {} : { before: this.nextBefore }) }, inFlight.signal);
      if (inFlight.signal.aborted) return false;
      this.items = [...this.items, ...page.items];
      this.nextBefore = page.nextBefore;
      return true;
    } catch {
      if (inFlight.signal.aborted) return false;
      this.failed = true;
      return false;
    } finally {
      if (this.inFlight === inFlight) {
        this.loading = false;
        this.inFlight = undefined;
        this.host.requestUpdate();
      }
    }
  }
}

/**
 * The events, how many are shown (told politely to screen readers), and "Visa fler" while
 * older ones exist; the button stays in place while loading and after a failure, so the
 * focus does not jump.
 */
export function eventList(pager: EventPager, services: readonly Service[], viewer: PartyView | undefined, emptyText: string) {
  const s = t();
  if (pager.items.length === 0) {
    if (pager.failed) return failed(() => void pager.more());
    return pager.loading ? loading() : empty(emptyText);
  }
  const count = pager.items.length;
  const all = pager.nextBefore === undefined;
  return html`<ol class="plain events">${pager.items.map((e) => eventItem(e, services, viewer))}</ol>
    <p class="event-count" role="status">${all ? s.shownAllEvents(count, formatNumber(count)) : s.shownEvents(count, formatNumber(count))}</p>
    ${pager.failed ? html`<p class="field-error" role="alert">${s.moreEventsFailed}</p>` : nothing}
    ${all
      ? nothing
      : html`<p>
          <button type="button" class="button secondary show-more" aria-disabled=${pager.loading ? 'true' : 'false'} @click=${() => void pager.more()}>
            ${pager.loading ? html`<span class="spinner" aria-hidden="true"></span>${s.loadingMoreEvents}` : pager.failed ? s.tryAgain : s.showMoreEvents}
          </button>
        </p>`}`;
}
