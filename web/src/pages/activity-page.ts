import { Task } from '@lit/task';
import { html } from 'lit';
import { api, type AuditEvent, type Service } from '../api/client.ts';
import { session } from '../app/session.ts';
import { eventItem, eventSentence } from '../components/event-item.ts';
import { LightElement } from '../components/light-element.ts';
import { empty, failed, loading } from '../components/states.ts';
import { formatDateTime, localised, t } from '../i18n/i18n.ts';
import { partyName, permissionName } from '../mandate-text.ts';

type Kind = '' | 'check' | 'mandate' | 'sign-in';
type Period = '30' | '365' | 'all';

/** A spreadsheet cell: quoted, and never read as a formula. */
function csvCell(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

function serviceName(services: readonly Service[], id: string | undefined): string {
  const service = services.find((svc) => svc.id === id);
  return service ? localised(service.name) : (id ?? '');
}

/** Every event about me, newest first, filtered by kind and period, and downloadable as CSV. */
export class ActivityPage extends LightElement {
  static override properties = { kind: { state: true }, period: { state: true } };
  declare kind: Kind;
  declare period: Period;

  constructor() {
    super();
    this.kind = '';
    this.period = '365';
  }

  private data = new Task(this, {
    task: async ([kind, period]) => {
      const from = period === 'all' ? undefined : new Date(Date.now() - Number(period) * 86_400_000).toISOString();
      const [events, services] = await Promise.all([
        api.activity({ ...(kind ? { kind } : {}), ...(from ? { from } : {}) }),
        api.services(),
      ]);
      return { events, services };
    },
    args: () => [this.kind, this.period] as const,
  });

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
    const text = [s.csvColumns, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n');
    const url = URL.createObjectURL(new Blob([`\ufeff${text}\r\n`], { type: 'text/csv;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = s.csvFile;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
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
      ${this.data.render({
        pending: loading,
        error: () => failed(() => this.data.run()),
        complete: ({ events, services }) =>
          events.length === 0
            ? empty(s.emptyEvents)
            : html`<p><button type="button" class="button secondary" @click=${() => this.download(events, services)}>${s.downloadCsv}</button></p>
                <ol class="plain events">${events.map((e) => eventItem(e, services, session.me?.party))}</ol>`,
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
