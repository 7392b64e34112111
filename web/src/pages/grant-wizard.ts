import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { api, ApiProblem, type Mandate, type Service } from '../api/client.ts';
import { navigate } from '../app/router.ts';
import { session } from '../app/session.ts';
import { icons } from '../components/icons.ts';
import { LightElement } from '../components/light-element.ts';
import { describedBy, fieldError, scopeErrors, scopePicker, scopesOf, validityDays } from '../components/scope-picker.ts';
import { failed, loading } from '../components/states.ts';
import { stepUpNotice } from '../components/step-up.ts';
import { dayDate, daysFromToday, endOfDay, isDayWithin } from '../days.ts';
import { formatDate, language, t } from '../i18n/i18n.ts';
import { mandateSentence } from '../mandate-text.ts';
import { checkPersonNumber, looksComplete } from '../personal-number.ts';

type Step = 1 | 2 | 3 | 4 | 5;
const STEPS = 5;
const DRAFT_KEY = 'ombud.grantDraft';

/** Everything typed so far; kept for the whole tab session so going back or signing in again loses nothing. */
interface Draft {
  agents: string[];
  chosen: Record<string, string[]>;
  amounts: Record<string, string>;
  until: string;
  mode: 'several' | 'joint';
  mayDelegate: boolean;
}

function emptyDraft(): Draft {
  return { agents: [''], chosen: {}, amounts: {}, until: '', mode: 'several', mayDelegate: false };
}

function readDraft(): Draft {
  try {
    const raw = sessionStorage.getItem(DRAFT_KEY);
    return raw ? { ...emptyDraft(), ...(JSON.parse(raw) as Partial<Draft>) } : emptyDraft();
  } catch {
    return emptyDraft();
  }
}

/** The grant wizard: who, what, how long, a few choices, then one sentence to confirm. */
export class GrantWizard extends LightElement {
  static override properties = {
    step: { state: true },
    draft: { state: true },
    search: { state: true },
    errors: { state: true },
    busy: { state: true },
    problem: { state: true },
  };
  declare step: Step;
  declare draft: Draft;
  declare search: string;
  declare errors: Record<string, string>;
  declare busy: boolean;
  declare problem: 'step-up' | 'generic' | undefined;
  private moveFocus = false;
  private finished = false;

  constructor() {
    super();
    this.step = 1;
    this.draft = readDraft();
    this.search = '';
    this.errors = {};
    this.busy = false;
    this.problem = undefined;
  }

  private catalogue = new Task(this, { task: () => api.services(), args: () => [] });

  protected override updated(): void {
    if (!this.finished) sessionStorage.setItem(DRAFT_KEY, JSON.stringify(this.draft));
    if (this.moveFocus) {
      this.moveFocus = false;
      const firstError = this.querySelector<HTMLElement>('[aria-invalid="true"]');
      (firstError ?? this.querySelector<HTMLElement>('h2'))?.focus();
    }
  }

  private edit(patch: Partial<Draft>) {
    this.draft = { ...this.draft, ...patch };
  }

  private go(step: Step) {
    this.step = step;
    this.problem = undefined;
    this.moveFocus = true;
  }

  // ---- validation, one function per step; each returns field id → message

  private agentError(index: number, required = false): string | undefined {
    const s = t();
    const raw = (this.draft.agents[index] ?? '').trim();
    if (!raw) return required ? s.pnrMissing : undefined;
    const checked = checkPersonNumber(raw, s);
    if ('error' in checked) return checked.error;
    if (checked.value === session.me?.party.id) return s.pnrSelf;
    const earlier = this.draft.agents.slice(0, index).some((other) => {
      const before = checkPersonNumber(other, s);
      return 'value' in before && before.value === checked.value;
    });
    return earlier ? s.pnrTwice : undefined;
  }

  private validateWho(): Record<string, string> {
    const errors: Record<string, string> = {};
    this.draft.agents.forEach((_, i) => {
      const error = this.agentError(i, true);
      if (error) errors[`agent-${i}`] = error;
    });
    return errors;
  }

  private validateWhen(services: readonly Service[]): Record<string, string> {
    const { max } = validityDays(services, this.draft);
    return isDayWithin(this.draft.until, daysFromToday(max)) ? {} : { until: this.untilMessage(services) };
  }

  private untilMessage(services: readonly Service[]): string {
    return t().untilInvalid(formatDate(dayDate(daysFromToday(validityDays(services, this.draft).max))));
  }

  private next(event: Event, services: readonly Service[]) {
    event.preventDefault();
    const errors =
      this.step === 1 ? this.validateWho() : this.step === 2 ? scopeErrors(services, this.draft) : this.step === 3 ? this.validateWhen(services) : {};
    this.errors = errors;
    if (Object.keys(errors).length > 0) {
      this.moveFocus = true;
      return;
    }
    if (this.step === 2) {
      const { max, standard } = validityDays(services, this.draft);
      if (!this.draft.until || this.draft.until > daysFromToday(max)) this.edit({ until: daysFromToday(standard) });
    }
    if (this.step === 1 && this.draft.agents.length < 2) this.edit({ mode: 'several' });
    this.go((this.step + 1) as Step);
  }

  // ---- the request

  private mandateToBe(services: readonly Service[]): Pick<Mandate, 'principal' | 'agents' | 'scopes' | 'validTo'> & { validToDate: Date } {
    const me = session.me?.party ?? { type: 'person', id: '' };
    const scopes = scopesOf(services, this.draft);
    const validToDate = endOfDay(this.draft.until);
    return {
      principal: me,
      agents: this.draft.agents.map((a) => {
        const checked = checkPersonNumber(a, t());
        return { type: 'person' as const, id: 'value' in checked ? checked.value : '' };
      }),
      scopes,
      validTo: validToDate.toISOString(),
      validToDate,
    };
  }

  private async confirm(event: Event, services: readonly Service[]) {
    event.preventDefault();
    if (this.busy) return;
    this.busy = true;
    this.problem = undefined;
    const m = this.mandateToBe(services);
    try {
      const created = await api.grant({
        agents: m.agents,
        scopes: m.scopes,
        validTo: m.validTo,
        mode: this.draft.agents.length > 1 ? this.draft.mode : 'several',
        mayDelegate: this.draft.mayDelegate,
      });
      // A finished grant leaves no draft behind for the next one.
      this.finished = true;
      sessionStorage.removeItem(DRAFT_KEY);
      navigate(`/mandates/${created.id}?granted=1`);
    } catch (e) {
      this.showProblem(e, services);
    } finally {
      this.busy = false;
    }
  }

  /** Sends the reader back to the step where the answer says the problem is, with the message beside the field. */
  private showProblem(e: unknown, services: readonly Service[]) {
    const s = t();
    const code = e instanceof ApiProblem ? e.code : 'unknown';
    if (code === 'step-up-required') {
      this.problem = 'step-up';
      return;
    }
    const byCode: Record<string, [Step, string, string]> = {
      'invalid-identity-number': [1, 'agent-0', s.pnrFormat],
      'agent-is-principal': [1, 'agent-0', s.pnrSelf],
      'duplicate-agent': [1, 'agent-0', s.pnrTwice],
      'scope-not-in-catalogue': [2, 'scopes', s.chooseSomething],
      'duplicate-scope': [2, 'scopes', s.chooseSomething],
      'constraint-required': [2, 'scopes', s.chooseSomething],
      'constraint-not-allowed': [2, 'scopes', s.chooseSomething],
      'invalid-validity': [3, 'until', this.untilMessage(services)],
      'validity-exceeds-maximum': [3, 'until', this.untilMessage(services)],
    };
    const where = byCode[code];
    if (!where) {
      this.problem = 'generic';
      return;
    }
    this.errors = { [where[1]]: where[2] };
    this.step = where[0];
    this.moveFocus = true;
  }

  // ---- rendering

  private renderWho() {
    const s = t();
    const agents = this.draft.agents;
    return html`
      ${agents.map((value, i) => {
        const id = `agent-${i}`;
        const liveError = this.errors[id];
        return html`<div class="field">
          <label for=${id}>${s.agentLabel(i + 1)}</label>
          <p class="hint" id="${id}-hint">${s.agentHint}</p>
          <div class="inline">
            <input
              id=${id}
              name=${id}
              inputmode="numeric"
              autocomplete="off"
              .value=${value}
              aria-invalid=${liveError ? 'true' : 'false'}
              aria-describedby=${describedBy(this.errors, id, `${id}-hint`)}
              @input=${(e: Event) => this.typeAgent(i, (e.target as HTMLInputElement).value)}
              @blur=${() => this.checkAgent(i, true)}
            />
            ${agents.length > 1
              ? html`<button type="button" class="button secondary" @click=${() => this.removeAgent(i)}>${s.removeAgent(i + 1)}</button>`
              : nothing}
          </div>
          <div aria-live="polite">
            ${fieldError(this.errors, id)}
            ${!liveError && looksComplete(value) && this.agentError(i) === undefined
              ? html`<p class="field-ok">${icons.check()}<span>${s.pnrOk}</span></p>`
              : nothing}
          </div>
        </div>`;
      })}
      ${agents.length < 10
        ? html`<p><button type="button" class="button secondary" @click=${() => this.edit({ agents: [...agents, ''] })}>${s.addAgent}</button></p>`
        : nothing}
    `;
  }

  /** Validates while typing once there are enough digits, so a mistake shows before leaving the field. */
  private typeAgent(index: number, value: string) {
    const agents = [...this.draft.agents];
    agents[index] = value;
    this.edit({ agents });
    this.checkAgent(index, looksComplete(value));
  }

  private checkAgent(index: number, complete: boolean) {
    const id = `agent-${index}`;
    const error = complete ? this.agentError(index) : undefined;
    const { [id]: _old, ...rest } = this.errors;
    this.errors = error ? { ...rest, [id]: error } : rest;
  }

  private removeAgent(index: number) {
    this.edit({ agents: this.draft.agents.filter((_, i) => i !== index) });
    this.errors = {};
  }

  private renderWhat(services: readonly Service[]) {
    return scopePicker({
      services,
      choice: this.draft,
      search: this.search,
      errors: this.errors,
      onSearch: (query) => (this.search = query),
      onChange: ({ chosen, amounts }) => this.edit({ chosen, amounts }),
    });
  }

  private renderWhen(services: readonly Service[]) {
    const s = t();
    const { max, standard } = validityDays(services, this.draft);
    const maxDay = daysFromToday(max);
    const quick: [string, number][] = [
      [s.threeMonths, Math.min(91, max)],
      [s.oneYear, Math.min(standard, max)],
      [s.longest, max],
    ];
    return html`
      <div class="field">
        <label for="until">${s.untilLabel}</label>
        <p class="hint" id="until-hint">${s.untilHint(formatDate(dayDate(maxDay)))}</p>
        <input id="until" type="date" lang=${language()} min=${daysFromToday(1)} max=${maxDay} .value=${this.draft.until}
          aria-invalid=${this.errors.until ? 'true' : 'false'} aria-describedby=${describedBy(this.errors, 'until', 'until-hint')}
          @input=${(e: Event) => this.edit({ until: (e.target as HTMLInputElement).value })} />
        ${fieldError(this.errors, 'until')}
      </div>
      <fieldset class="quick">
        <legend>${s.quickChoices}</legend>
        <div class="actions">
          ${quick.map(([text, days]) => html`<button type="button" class="button secondary" @click=${() => this.edit({ until: daysFromToday(days) })}>${text}</button>`)}
        </div>
      </fieldset>
    `;
  }

  private radio(name: string, value: string, checked: boolean, label: string, hint: string, onChange: () => void) {
    const id = `${name}-${value}`;
    return html`<div class="choice">
      <input type="radio" id=${id} name=${name} value=${value} .checked=${checked} aria-describedby="${id}-hint" @change=${onChange} />
      <label for=${id}>${label}<span class="hint" id="${id}-hint">${hint}</span></label>
    </div>`;
  }

  private renderHow() {
    const s = t();
    const d = this.draft;
    return html`
      ${d.agents.length > 1
        ? html`<fieldset>
            <legend>${s.modeLegend}</legend>
            ${this.radio('mode', 'several', d.mode === 'several', s.modeSeveral, s.modeSeveralHint, () => this.edit({ mode: 'several' }))}
            ${this.radio('mode', 'joint', d.mode === 'joint', s.modeJoint, s.modeJointHint, () => this.edit({ mode: 'joint' }))}
          </fieldset>`
        : html`<p>${s.modeOnlyOne}</p>`}
      <fieldset>
        <legend>${s.delegateLegend}</legend>
        ${this.radio('delegate', 'no', !d.mayDelegate, s.delegateNo, s.delegateNoHint, () => this.edit({ mayDelegate: false }))}
        ${this.radio('delegate', 'yes', d.mayDelegate, s.delegateYes, s.delegateYesHint, () => this.edit({ mayDelegate: true }))}
      </fieldset>
    `;
  }

  private renderReview(services: readonly Service[]) {
    const s = t();
    const m = this.mandateToBe(services);
    const agentsText = m.agents.map((a) => s.personalNumberOf(`${a.id.slice(0, 8)}-${a.id.slice(8)}`));
    const sentence = mandateSentence(
      { ...m, agents: m.agents.map((a, i) => ({ ...a, name: agentsText[i] as string })) },
      services,
      session.me?.party,
    );
    return html`
      <p>${s.reviewIntro}</p>
      <p class="sentence review-sentence" data-testid="review-sentence">${sentence}</p>
      ${this.draft.agents.length > 1 && this.draft.mode === 'joint' ? html`<p>${s.sentenceJoint}</p>` : nothing}
      ${this.draft.mayDelegate ? html`<p>${s.sentenceMayDelegate}</p>` : nothing}
      ${this.problem === 'step-up' ? stepUpNotice('/grant') : nothing}
      ${this.problem === 'generic' ? html`<p class="notice notice-error" role="alert">${s.errorGeneric}</p>` : nothing}
    `;
  }

  override render() {
    const s = t();
    return html`<h1>${s.wizardTitle}</h1>
      ${this.catalogue.render({
        pending: loading,
        error: () => failed(() => this.catalogue.run()),
        complete: (services) => this.renderStep(services),
      })}`;
  }

  private renderStep(services: readonly Service[]) {
    const s = t();
    const titles: Record<Step, string> = { 1: s.stepWho, 2: s.stepWhat, 3: s.stepWhen, 4: s.stepHow, 5: s.stepReview };
    const body =
      this.step === 1
        ? this.renderWho()
        : this.step === 2
          ? this.renderWhat(services)
          : this.step === 3
            ? this.renderWhen(services)
            : this.step === 4
              ? this.renderHow()
              : this.renderReview(services);
    const last = this.step === STEPS;
    return html`
      <ol class="steps" aria-label=${s.stepOf(this.step, STEPS)}>
        ${([1, 2, 3, 4, 5] as Step[]).map(
          (n) => html`<li aria-current=${n === this.step ? 'step' : 'false'} class=${n < this.step ? 'done' : ''}><span class="visually-hidden">${titles[n]}</span></li>`,
        )}
      </ol>
      <form novalidate @submit=${(e: Event) => (last ? this.confirm(e, services) : this.next(e, services))}>
        <p class="step-count">${s.stepOf(this.step, STEPS)}</p>
        <h2 tabindex="-1">${titles[this.step]}</h2>
        ${body}
        <div class="actions wizard-actions">
          ${this.step > 1 ? html`<button id="back-button" type="button" class="button secondary" @click=${() => this.go((this.step - 1) as Step)}>${s.back}</button>` : nothing}
          <button id="next-button" type="submit" class="button" ?disabled=${this.busy}>${last ? (this.busy ? s.granting : s.confirmGrant) : s.next}</button>
        </div>
      </form>
    `;
  }
}

customElements.define('grant-wizard', GrantWizard);

declare global {
  interface HTMLElementTagNameMap {
    'grant-wizard': GrantWizard;
  }
}
