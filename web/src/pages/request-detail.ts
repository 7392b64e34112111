import { Task } from '@lit/task';
import { html, nothing, type PropertyValues } from 'lit';
import { api, ApiProblem, type ApproveInput, type MandateRequest, requestsApi, type Service } from '../api/client.ts';
import { session } from '../app/session.ts';
import { LightElement } from '../components/light-element.ts';
import { askedOfMe, requestDates, requestMessage, requestSentence, requestStatusBadge } from '../components/request-card.ts';
import { describedBy, fieldError, type FieldErrors, toggled } from '../components/scope-picker.ts';
import { empty, failed, loading } from '../components/states.ts';
import { stepUpNotice } from '../components/step-up.ts';
import { dayDate, dayString, endOfDay, isDayWithin } from '../days.ts';
import { formatDate, formatNumber, language, localised, t } from '../i18n/i18n.ts';
import { lastDay } from '../mandate-text.ts';

type Outcome = 'approved' | 'declined' | 'withdrawn';

/** What the principal is about to give: the request as asked, or with permissions unticked and an earlier last day. */
interface Answer {
  chosen: Record<string, string[]>;
  until: string;
  mayDelegate: boolean;
}

function asAsked(request: MandateRequest): Answer {
  return {
    chosen: Object.fromEntries(request.scopes.map((scope) => [scope.service, [...scope.permissions]])),
    until: dayString(lastDay(request.validTo)),
    mayDelegate: request.mayDelegate,
  };
}

/** Only what differs from the request is sent: an empty body approves it as asked. */
function approvalBody(request: MandateRequest, answer: Answer): ApproveInput {
  const body: ApproveInput = {};
  const scopes = request.scopes
    .map((scope) => ({ ...scope, permissions: scope.permissions.filter((p) => (answer.chosen[scope.service] ?? []).includes(p)) }))
    .filter((scope) => scope.permissions.length > 0);
  if (scopes.some((scope, i) => scope.permissions.length !== request.scopes[i]?.permissions.length) || scopes.length !== request.scopes.length) {
    body.scopes = scopes;
  }
  if (answer.until !== dayString(lastDay(request.validTo))) body.validTo = endOfDay(answer.until).toISOString();
  if (request.mayDelegate && !answer.mayDelegate) body.mayDelegate = false;
  return body;
}

/**
 * One request: the person asked approves it (perhaps narrowed) or declines it; the requester may withdraw it.
 * @fires requests-changed - after an answer, so the menu's count of open requests follows
 */
export class RequestDetail extends LightElement {
  static override properties = {
    requestId: { attribute: 'request-id' },
    answer: { state: true },
    errors: { state: true },
    confirming: { state: true },
    reason: { state: true },
    busy: { state: true },
    outcome: { state: true },
    problem: { state: true },
  };
  declare requestId: string;
  declare answer: Answer | undefined;
  declare errors: FieldErrors;
  declare confirming: boolean;
  declare reason: string;
  declare busy: boolean;
  declare outcome: { kind: Outcome; mandateId?: string } | undefined;
  declare problem: 'step-up' | string | undefined;
  private focusSelector: string | undefined;

  constructor() {
    super();
    this.requestId = '';
    this.answer = undefined;
    this.errors = {};
    this.confirming = false;
    this.reason = '';
    this.busy = false;
    this.outcome = undefined;
    this.problem = undefined;
  }

  private data = new Task(this, {
    task: async ([id]) => {
      const [request, services] = await Promise.all([requestsApi.get(id), api.services()]);
      return { request, services };
    },
    args: () => [this.requestId] as const,
  });

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('requestId')) {
      // Another request: nothing of the previous one's answer carries over.
      this.answer = undefined;
      this.errors = {};
      this.confirming = false;
      this.outcome = undefined;
      this.problem = undefined;
    }
    const request = this.data.value?.request;
    if (!this.answer && request && request.id === this.requestId) this.answer = asAsked(request);
  }

  protected override updated(): void {
    if (this.focusSelector) {
      this.querySelector<HTMLElement>(this.focusSelector)?.focus();
      this.focusSelector = undefined;
    }
  }

  private edit(patch: Partial<Answer>) {
    if (this.answer) this.answer = { ...this.answer, ...patch };
  }

  private failure(e: unknown): string {
    const s = t();
    const code = e instanceof ApiProblem ? e.code : 'unknown';
    if (code === 'step-up-required') return 'step-up';
    return { 'request-not-open': s.requestNotOpen, 'approval-exceeds-request': s.approvalExceeds }[code] ?? s.errorGeneric;
  }

  private async act(kind: Outcome, call: () => Promise<{ mandateId?: string | undefined }>) {
    if (this.busy) return;
    this.busy = true;
    this.problem = undefined;
    try {
      const { mandateId } = await call();
      this.outcome = { kind, ...(mandateId ? { mandateId } : {}) };
      this.confirming = false;
      this.focusSelector = '#outcome-message';
      this.dispatchEvent(new Event('requests-changed', { bubbles: true }));
      await this.data.run();
    } catch (e) {
      this.problem = this.failure(e);
      this.focusSelector = '#answer-problem';
      // Answered elsewhere or lapsed meanwhile: show it as it now is.
      if (e instanceof ApiProblem && e.code === 'request-not-open') await this.data.run();
    } finally {
      this.busy = false;
    }
  }

  private approve(event: Event, request: MandateRequest) {
    event.preventDefault();
    const s = t();
    const answer = this.answer ?? asAsked(request);
    const errors: FieldErrors = {};
    if (Object.values(answer.chosen).every((codes) => codes.length === 0)) errors.scopes = s.chooseSomething;
    const asked = dayString(lastDay(request.validTo));
    if (answer.until !== asked && !isDayWithin(answer.until, asked)) errors['approve-until'] = s.untilInvalid(formatDate(dayDate(asked)));
    this.errors = errors;
    if (Object.keys(errors).length > 0) {
      this.focusSelector = '[aria-invalid="true"]';
      return;
    }
    void this.act('approved', async () => ({ mandateId: (await requestsApi.approve(request.id, approvalBody(request, answer))).mandate.id }));
  }

  private decline(event: Event, request: MandateRequest) {
    event.preventDefault();
    void this.act('declined', async () => {
      await requestsApi.decline(request.id, this.reason.trim() || undefined);
      return {};
    });
  }

  private withdraw(request: MandateRequest) {
    void this.act('withdrawn', async () => {
      await requestsApi.withdraw(request.id);
      return {};
    });
  }

  private toggle(service: string, code: string, on: boolean) {
    if (this.answer) this.edit({ chosen: toggled(this.answer.chosen, service, code, on) });
  }

  private renderProblem(request: MandateRequest) {
    if (!this.problem) return nothing;
    if (this.problem === 'step-up') return html`<div id="answer-problem" tabindex="-1">${stepUpNotice(`/requests/${request.id}`)}</div>`;
    return html`<p id="answer-problem" class="notice notice-error" role="alert" tabindex="-1">${this.problem}</p>`;
  }

  private renderAnswer(request: MandateRequest, services: readonly Service[]) {
    const s = t();
    const answer = this.answer ?? asAsked(request);
    const asked = dayString(lastDay(request.validTo));
    if (this.confirming) {
      return html`<form class="card confirm" aria-labelledby="decline-heading" @submit=${(e: Event) => this.decline(e, request)}>
        <h2 id="decline-heading" tabindex="-1">${s.declineQuestion}</h2>
        <div class="field">
          <label for="decline-reason">${s.reasonLabel}</label>
          <p class="hint" id="decline-reason-hint">${s.declineReasonHint}</p>
          <textarea id="decline-reason" rows="3" maxlength="500" aria-describedby="decline-reason-hint" .value=${this.reason}
            @input=${(e: Event) => (this.reason = (e.target as HTMLTextAreaElement).value)}></textarea>
        </div>
        ${this.renderProblem(request)}
        <div class="actions">
          <button id="confirm-decline" type="submit" class="button danger" ?disabled=${this.busy}>${s.confirmDecline}</button>
          <button type="button" class="button secondary" @click=${() => {
            this.confirming = false;
            this.focusSelector = '#decline-button';
          }}>${s.cancel}</button>
        </div>
      </form>`;
    }
    return html`<section aria-labelledby="answer-heading">
      <h2 id="answer-heading">${s.answerHeading}</h2>
      <p>${s.answerIntro}</p>
      <form novalidate @submit=${(e: Event) => this.approve(e, request)}>
        <fieldset>
          <legend>${s.approveWhatLegend}</legend>
          ${this.errors.scopes ? html`<p class="field-error" id="scopes-error" tabindex="-1" aria-invalid="true">${this.errors.scopes}</p>` : nothing}
          ${request.scopes.map((scope) => {
            const service = services.find((svc) => svc.id === scope.service);
            return scope.permissions.map((code) => {
              const permission = service?.permissions.find((p) => p.code === code);
              const id = `give-${scope.service}-${code}`;
              const limit = scope.constraints?.maxAmount;
              return html`<div class="choice">
                <input type="checkbox" id=${id} .checked=${(answer.chosen[scope.service] ?? []).includes(code)}
                  @change=${(e: Event) => this.toggle(scope.service, code, (e.target as HTMLInputElement).checked)} />
                <label for=${id}>${permission ? localised(permission.name) : code}<span class="hint">${service ? localised(service.agencyName) : scope.service}${limit
                  ? `, ${s.amountLimit(formatNumber(limit))}`
                  : ''}</span></label>
              </div>`;
            });
          })}
        </fieldset>
        <div class="field">
          <label for="approve-until">${s.untilLabel}</label>
          <p class="hint" id="approve-until-hint">${s.approveUntilHint(formatDate(dayDate(asked)))}</p>
          <input id="approve-until" type="date" lang=${language()} max=${asked} .value=${answer.until}
            aria-invalid=${this.errors['approve-until'] ? 'true' : 'false'} aria-describedby=${describedBy(this.errors, 'approve-until', 'approve-until-hint')}
            @input=${(e: Event) => this.edit({ until: (e.target as HTMLInputElement).value })} />
          ${fieldError(this.errors, 'approve-until')}
        </div>
        ${request.mayDelegate
          ? html`<div class="choice">
              <input type="checkbox" id="approve-delegate" .checked=${answer.mayDelegate}
                @change=${(e: Event) => this.edit({ mayDelegate: (e.target as HTMLInputElement).checked })} />
              <label for="approve-delegate">${s.approveDelegate}</label>
            </div>`
          : nothing}
        ${this.renderProblem(request)}
        <div class="actions">
          <button id="approve-button" type="submit" class="button" ?disabled=${this.busy}>${this.busy ? s.granting : s.approveRequest}</button>
          <button id="decline-button" type="button" class="button danger" @click=${() => {
            this.confirming = true;
            this.problem = undefined;
            this.focusSelector = '#decline-heading';
          }}>${s.declineRequest}</button>
        </div>
      </form>
    </section>`;
  }

  private renderOutcome() {
    const s = t();
    const outcome = this.outcome;
    if (!outcome) return nothing;
    const text = { approved: s.requestApprovedNow, declined: s.requestDeclinedNow, withdrawn: s.requestWithdrawnNow }[outcome.kind];
    return html`<div id="outcome-message" class="notice notice-ok" role="status" tabindex="-1">
      <p>${text}</p>
      ${outcome.mandateId ? html`<p><a href="/mandates/${outcome.mandateId}">${s.showMandate}</a></p>` : nothing}
    </div>`;
  }

  private renderRequest({ request, services }: { request: MandateRequest; services: Service[] }) {
    const s = t();
    const me = session.me?.party;
    const mine = askedOfMe(request, me);
    return html`
      ${requestStatusBadge(request.status)}
      <p class="sentence">${requestSentence(request, services, me)}</p>
      ${request.mayDelegate ? html`<p>${s.requestAsksDelegate}</p>` : nothing}
      ${requestMessage(request, me)}
      ${requestDates(request)}
      ${request.declineReason ? html`<dl class="facts"><div><dt>${s.factReason}</dt><dd>${request.declineReason}</dd></div></dl>` : nothing}
      ${this.renderOutcome()}
      ${request.status === 'open' ? nothing : this.renderProblem(request)}
      ${request.mandateId && !this.outcome ? html`<p><a href="/mandates/${request.mandateId}">${s.showMandate}</a></p>` : nothing}
      ${request.status === 'open' && mine ? this.renderAnswer(request, services) : nothing}
      ${request.status === 'open' && !mine
        ? html`${this.renderProblem(request)}
            <p><button id="withdraw-button" type="button" class="button secondary" ?disabled=${this.busy} @click=${() => this.withdraw(request)}>${s.withdrawRequest}</button></p>`
        : nothing}
    `;
  }

  override render() {
    const s = t();
    return html`
      <p><a href=${this.data.value && !askedOfMe(this.data.value.request, session.me?.party) ? '/requests?tab=sent' : '/requests'}>${s.backToRequests}</a></p>
      <h1 tabindex="-1">${s.requestTitle}</h1>
      ${this.data.render({
        pending: () => (this.data.value ? this.renderRequest(this.data.value) : loading()),
        error: (e) => (e instanceof ApiProblem && e.status === 404 ? empty(s.requestNotFound) : failed(() => this.data.run())),
        complete: (value) => this.renderRequest(value),
      })}
    `;
  }
}

customElements.define('request-detail', RequestDetail);

declare global {
  interface HTMLElementTagNameMap {
    'request-detail': RequestDetail;
  }
}
