import { Task } from '@lit/task';
import { html, nothing, type PropertyValues } from 'lit';
import { api, ApiProblem, type Mandate, type Service } from '../api/client.ts';
import { session } from '../app/session.ts';
import { EventPager, eventList } from '../components/event-list.ts';
import { LightElement } from '../components/light-element.ts';
import { empty, failed, loading } from '../components/states.ts';
import { statusBadge } from '../components/status-badge.ts';
import { stepUpNotice } from '../components/step-up.ts';
import { formatDate, formatDateTime, t } from '../i18n/i18n.ts';
import { describeScopes, lastDay, mandateSentence, partyName, upperFirst } from '../mandate-text.ts';

/** Everything about one mandate, what has happened with it, and revoking or returning it. */
export class MandateDetail extends LightElement {
  static override properties = {
    mandateId: { attribute: 'mandate-id' },
    confirming: { state: true },
    reason: { state: true },
    busy: { state: true },
    done: { state: true },
    problem: { state: true },
    approvedNow: { state: true },
  };
  declare mandateId: string;
  declare confirming: boolean;
  declare reason: string;
  declare busy: boolean;
  declare done: boolean;
  declare problem: 'step-up' | 'generic' | undefined;
  declare approvedNow: boolean;
  private focusSelector: string | undefined;
  private readonly activity = new EventPager(this);

  constructor() {
    super();
    this.mandateId = '';
    this.confirming = false;
    this.reason = '';
    this.busy = false;
    this.done = false;
    this.problem = undefined;
    this.approvedNow = false;
  }

  private data = new Task(this, {
    task: async ([id]) => {
      const [mandate, services] = await Promise.all([api.mandate(id), api.services()]);
      return { mandate, services };
    },
    args: () => [this.mandateId] as const,
  });

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('mandateId')) this.reloadActivity();
  }

  private reloadActivity() {
    const id = this.mandateId;
    this.activity.reset((page, signal) => api.mandateActivity(id, page, signal));
  }

  protected override updated(): void {
    if (this.focusSelector) {
      this.querySelector<HTMLElement>(this.focusSelector)?.focus();
      this.focusSelector = undefined;
    }
  }

  private ask() {
    this.confirming = true;
    this.focusSelector = '#confirm-heading';
  }

  private cancel() {
    this.confirming = false;
    this.focusSelector = '#end-button';
  }

  private async revoke(event: Event) {
    event.preventDefault();
    await this.change(
      () => api.revoke(this.mandateId, this.reason.trim() || undefined),
      () => {
        this.confirming = false;
        this.done = true;
        this.focusSelector = '#done-message';
      },
    );
  }

  private async approve() {
    await this.change(
      () => api.approve(this.mandateId),
      () => {
        this.approvedNow = true;
        this.focusSelector = '#approved-message';
      },
    );
  }

  /** Sends a guarded change, then shows it and reloads; a refusal for want of a fresh sign-in offers the step-up. */
  private async change(send: () => Promise<unknown>, shown: () => void) {
    this.busy = true;
    this.problem = undefined;
    try {
      await send();
      shown();
      this.reloadActivity();
      await this.data.run();
    } catch (e) {
      this.problem = e instanceof ApiProblem && e.code === 'step-up-required' ? 'step-up' : 'generic';
    } finally {
      this.busy = false;
    }
  }

  /** Who of the joint signatories has approved an organisation's mandate, and the button for me if I have not. */
  private renderApprovals(mandate: Mandate) {
    const s = t();
    const approvals = mandate.approvals ?? [];
    if (approvals.length === 0) return nothing;
    const me = session.me?.party;
    const mine = approvals.find((a) => a.signatory.id === me?.id);
    const canApprove = mandate.status === 'pending' && mine !== undefined && !mine.approvedAt;
    return html`<section aria-labelledby="approvals-heading">
      <h2 id="approvals-heading">${s.approvalsHeading}</h2>
      <p>${s.approvalsIntro}</p>
      <ul>
        ${approvals.map((a) => {
          const name = me && a.signatory.id === me.id ? s.youCapital : partyName(a.signatory);
          return html`<li>${a.approvedAt ? s.approvedBy(name, formatDate(a.approvedAt)) : s.notApprovedBy(name)}</li>`;
        })}
      </ul>
      ${this.approvedNow ? html`<p id="approved-message" class="notice notice-ok" role="status" tabindex="-1">${s.approved}</p>` : nothing}
      ${canApprove
        ? html`${this.problem === 'step-up' && !this.confirming ? stepUpNotice(`/mandates/${mandate.id}`) : nothing}
            ${this.problem === 'generic' && !this.confirming ? html`<p class="field-error" role="alert">${s.errorGeneric}</p>` : nothing}
            <p><button id="approve-button" type="button" class="button" ?disabled=${this.busy} @click=${() => this.approve()}>${s.approve}</button></p>`
        : nothing}
    </section>`;
  }

  private renderEnd(mandate: Mandate, asPrincipal: boolean) {
    const s = t();
    if (mandate.status === 'revoked' || mandate.status === 'expired') return nothing;
    if (!this.confirming) {
      return html`<p><button id="end-button" type="button" class="button danger" @click=${() => this.ask()}>${asPrincipal ? s.revoke : s.giveBack}</button></p>`;
    }
    return html`<form class="card confirm" @submit=${(e: Event) => this.revoke(e)} aria-labelledby="confirm-heading">
      <h2 id="confirm-heading" tabindex="-1">${asPrincipal ? s.revokeQuestion : s.giveBackQuestion}</h2>
      <div class="field">
        <label for="reason">${s.reasonLabel}</label>
        <textarea id="reason" rows="3" maxlength="500" .value=${this.reason} @input=${(e: Event) => (this.reason = (e.target as HTMLTextAreaElement).value)}></textarea>
      </div>
      ${this.problem === 'step-up' ? stepUpNotice(`/mandates/${mandate.id}`) : nothing}
      ${this.problem === 'generic' ? html`<p class="field-error" role="alert">${s.errorGeneric}</p>` : nothing}
      <div class="actions">
        <button id="confirm-end" type="submit" class="button danger" ?disabled=${this.busy}>${asPrincipal ? s.confirmRevoke : s.confirmGiveBack}</button>
        <button type="button" class="button secondary" @click=${() => this.cancel()}>${s.cancel}</button>
      </div>
    </form>`;
  }

  private renderMandate(mandate: Mandate, services: readonly Service[]) {
    const s = t();
    const me = session.me?.party;
    // A signatory of an organisation principal speaks for it: ending the mandate is revoking it, not giving it back.
    const asPrincipal =
      me !== undefined && (mandate.principal.id === me.id || (mandate.principal.type === 'organisation' && !mandate.agents.some((a) => a.id === me.id)));
    const fact = (term: string, value: unknown) => html`<div><dt>${term}</dt><dd>${value}</dd></div>`;
    return html`
      ${statusBadge(mandate)}
      <p class="sentence">${mandateSentence(mandate, services, me)}</p>
      ${mandate.registeredBy ? html`<p class="registered-by">${s.registeredByOfficial}</p>` : nothing}
      ${this.done
        ? html`<p id="done-message" class="notice notice-ok" role="status" tabindex="-1">${asPrincipal ? s.revoked : s.givenBack}</p>`
        : nothing}
      <dl class="facts">
        ${fact(s.factPrincipal, partyName(mandate.principal))}
        ${fact(s.factAgents, mandate.agents.map(partyName).join(', '))}
        ${fact(s.factWhat, upperFirst(describeScopes(mandate.scopes, services)))}
        ${fact(s.factFrom, formatDate(mandate.validFrom))}
        ${fact(s.factTo, formatDate(lastDay(mandate.validTo)))}
        ${mandate.agents.length > 1 ? fact(s.factMode, mandate.mode === 'joint' ? s.modeJoint : s.modeSeveral) : nothing}
        ${fact(s.factDelegate, mandate.mayDelegate ? s.yes : s.no)}
        ${fact(s.factCreated, formatDateTime(mandate.createdAt))}
        ${mandate.revokedAt ? fact(s.factEnded, formatDateTime(mandate.revokedAt)) : nothing}
        ${mandate.revokeReason ? fact(s.factReason, mandate.revokeReason) : nothing}
        ${mandate.registeredBy && asPrincipal ? fact(s.officialReasonLabel, mandate.registeredBy.reason) : nothing}
        ${mandate.registeredBy && asPrincipal ? fact(s.factDocumentReference, mandate.registeredBy.documentReference) : nothing}
      </dl>
      ${this.renderApprovals(mandate)}
      ${this.renderEnd(mandate, asPrincipal)}
    `;
  }

  override render() {
    const s = t();
    const granted = new URLSearchParams(location.search).has('granted');
    return html`
      <p><a href="/mandates">${s.backToList}</a></p>
      <h1 tabindex="-1">${s.detailTitle}</h1>
      ${granted && !this.done ? html`<p class="notice notice-ok" role="status">${s.granted}</p>` : nothing}
      ${this.data.render({
        pending: () => (this.data.value ? this.renderAll(this.data.value) : loading()),
        error: (e) => (e instanceof ApiProblem && e.status === 404 ? empty(s.mandateNotFound) : failed(() => this.data.run())),
        complete: (value) => this.renderAll(value),
      })}
    `;
  }

  private renderAll({ mandate, services }: { mandate: Mandate; services: Service[] }) {
    const s = t();
    return html`
      ${this.renderMandate(mandate, services)}
      <section aria-labelledby="activity-heading">
        <h2 id="activity-heading">${s.activityHeading}</h2>
        ${eventList(this.activity, services, session.me?.party, s.emptyActivity)}
      </section>
    `;
  }
}

customElements.define('mandate-detail', MandateDetail);

declare global {
  interface HTMLElementTagNameMap {
    'mandate-detail': MandateDetail;
  }
}
