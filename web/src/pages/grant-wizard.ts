import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { api, ApiProblem, type Mandate, type PartyView, type Service } from '../api/client.ts';
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

/** Step 0 is for a wizard that asks something before who gets the power of attorney. */
export type Step = 0 | 1 | 2 | 3 | 4 | 5;
const LAST_STEP = 5;
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

/** What was typed before in this tab, over the empty form, so a field added since is never missing. */
export function readSaved<T extends object>(key: string, empty: T): T {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? { ...empty, ...(JSON.parse(raw) as Partial<T>) } : empty;
  } catch {
    return empty;
  }
}

/** What the wizard sends, whoever sends it. */
export interface GrantBody {
  agents: PartyView[];
  scopes: Mandate['scopes'];
  validTo: string;
  mode: Mandate['mode'];
  mayDelegate: boolean;
}

/**
 * The grant wizard: who, what, how long, a few choices, then one sentence to confirm. The
 * protected methods are where a wizard for someone else's power of attorney differs.
 */
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
  /** The API's error code that could not be placed beside a field. */
  declare problem: string | undefined;
  protected moveFocus = false;
  private finished = false;

  constructor() {
    super();
    this.step = this.firstStep;
    this.draft = readSaved(this.draftKey, emptyDraft());
    this.search = '';
    this.errors = {};
    this.busy = false;
    this.problem = undefined;
  }

  private catalogue = new Task(this, { task: () => api.services(), args: () => [] });

  // ---- where another wizard differs (getters, as the constructor reads them)

  protected get firstStep(): Step {
    return 1;
  }

  protected get draftKey(): string {
    return DRAFT_KEY;
  }

  /** Whose power of attorney it is. */
  protected principalParty(): PartyView {
    return session.me?.party ?? { type: 'person', id: '' };
  }

  /** Why a valid personal number cannot be an agent here. */
  protected agentConflict(value: string): string | undefined {
    return value === session.me?.party.id ? t().pnrSelf : undefined;
  }

  protected wording(): { title: string; confirm: string; busy: string } {
    const s = t();
    return { title: s.wizardTitle, confirm: s.confirmGrant, busy: s.granting };
  }

  protected async submit(body: GrantBody): Promise<void> {
    const created = await api.grant(body);
    this.finish();
    navigate(`/mandates/${created.id}?granted=1`);
  }

  /** A finished grant leaves no draft behind for the next one. */
  protected finish(): void {
    this.finished = true;
    sessionStorage.removeItem(this.draftKey);
  }

  protected restart(): void {
    this.finished = false;
    this.draft = emptyDraft();
    this.errors = {};
    this.go(this.firstStep);
  }

  protected stepTitle(step: Step): string {
    const s = t();
    return { 0: '', 1: s.stepWho, 2: s.stepWhat, 3: s.stepWhen, 4: s.stepHow, 5: s.stepReview }[step];
  }

  protected validateStep(step: Step, services: readonly Service[]): Record<string, string> {
    return step === 1 ? this.validateWho() : step === 2 ? scopeErrors(services, this.draft) : step === 3 ? this.validateWhen(services) : {};
  }

  protected renderStepBody(step: Step, services: readonly Service[]): unknown {
    return step === 1
      ? this.renderWho()
      : step === 2
        ? this.renderWhat(services)
        : step === 3
          ? this.renderWhen(services)
          : step === 4
            ? this.renderHow()
            : this.renderReview(services);
  }

  /** More to say on the review step, under the sentence. */
  protected renderReviewExtra(): unknown {
    return nothing;
  }

  /** API error code → the step, the field and what to say there. */
  protected problemPlaces(services: readonly Service[]): Record<string, [Step, string, string]> {
    const s = t();
    return {
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
  }

  /** What to say about an error that belongs to no field. */
  protected problemText(_code: string): string {
    return t().errorGeneric;
  }

  protected override updated(): void {
    if (!this.finished) sessionStorage.setItem(this.draftKey, JSON.stringify(this.draft));
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
    const conflict = this.agentConflict(checked.value);
    if (conflict) return conflict;
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
    const errors = this.validateStep(this.step, services);
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
    const scopes = scopesOf(services, this.draft);
    const validToDate = endOfDay(this.draft.until);
    return {
      principal: this.principalParty(),
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
      await this.submit({
        agents: m.agents,
        scopes: m.scopes,
        validTo: m.validTo,
        mode: this.draft.agents.length > 1 ? this.draft.mode : 'several',
        mayDelegate: this.draft.mayDelegate,
      });
    } catch (e) {
      this.showProblem(e, services);
    } finally {
      this.busy = false;
    }
  }

  /** Sends the reader back to the step where the answer says the problem is, with the message beside the field. */
  private showProblem(e: unknown, services: readonly Service[]) {
    const code = e instanceof ApiProblem ? e.code : 'unknown';
    const where = this.problemPlaces(services)[code];
    if (!where) {
      this.problem = code;
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
      ${agents.map((value, i) =>
        this.renderPersonField({
          id: `agent-${i}`,
          label: s.agentLabel(i + 1),
          value,
          ok: this.agentError(i) === undefined,
          onInput: (typed) => this.typeAgent(i, typed),
          onBlur: () => this.checkAgent(i, true),
          extra:
            agents.length > 1
              ? html`<button type="button" class="button secondary" @click=${() => this.removeAgent(i)}>${s.removeAgent(i + 1)}</button>`
              : nothing,
        }),
      )}
      ${agents.length < 10
        ? html`<p><button type="button" class="button secondary" @click=${() => this.edit({ agents: [...agents, ''] })}>${s.addAgent}</button></p>`
        : nothing}
    `;
  }

  /** A personal number field that says whether the number looks right as soon as there are enough digits. */
  protected renderPersonField(field: {
    id: string;
    label: string;
    value: string;
    ok: boolean;
    onInput: (value: string) => void;
    onBlur: () => void;
    extra?: unknown;
  }) {
    const s = t();
    const { id, value } = field;
    const liveError = this.errors[id];
    return html`<div class="field">
      <label for=${id}>${field.label}</label>
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
          @input=${(e: Event) => field.onInput((e.target as HTMLInputElement).value)}
          @blur=${field.onBlur}
        />
        ${field.extra ?? nothing}
      </div>
      <div aria-live="polite">
        ${fieldError(this.errors, id)}
        ${!liveError && looksComplete(value) && field.ok
          ? html`<p class="field-ok">${icons.check()}<span>${s.pnrOk}</span></p>`
          : nothing}
      </div>
    </div>`;
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
      ${this.renderReviewExtra()}
      ${this.problem === 'step-up-required' ? stepUpNotice(location.pathname) : nothing}
      ${this.problem && this.problem !== 'step-up-required'
        ? html`<p class="notice notice-error" role="alert">${this.problemText(this.problem)}</p>`
        : nothing}
    `;
  }

  override render() {
    return html`<h1>${this.wording().title}</h1>
      ${this.catalogue.render({
        pending: loading,
        error: () => failed(() => this.catalogue.run()),
        complete: (services) => this.renderStep(services),
      })}`;
  }

  private renderStep(services: readonly Service[]) {
    const s = t();
    const first = this.firstStep;
    const steps = ([0, 1, 2, 3, 4, 5] as Step[]).filter((n) => n >= first);
    const position = s.stepOf(this.step - first + 1, steps.length);
    const last = this.step === LAST_STEP;
    const wording = this.wording();
    return html`
      <ol class="steps" aria-label=${position}>
        ${steps.map(
          (n) => html`<li aria-current=${n === this.step ? 'step' : 'false'} class=${n < this.step ? 'done' : ''}><span class="visually-hidden">${this.stepTitle(n)}</span></li>`,
        )}
      </ol>
      <form novalidate @submit=${(e: Event) => (last ? this.confirm(e, services) : this.next(e, services))}>
        <p class="step-count">${position}</p>
        <h2 tabindex="-1">${this.stepTitle(this.step)}</h2>
        ${this.renderStepBody(this.step, services)}
        <div class="actions wizard-actions">
          ${this.step > first ? html`<button id="back-button" type="button" class="button secondary" @click=${() => this.go((this.step - 1) as Step)}>${s.back}</button>` : nothing}
          <button id="next-button" type="submit" class="button" ?disabled=${this.busy}>${last ? (this.busy ? wording.busy : wording.confirm) : s.next}</button>
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
