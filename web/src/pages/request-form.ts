import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { api, ApiProblem, requestsApi, type Service } from '../api/client.ts';
import { navigate } from '../app/router.ts';
import { session } from '../app/session.ts';
import { icons } from '../components/icons.ts';
import { LightElement } from '../components/light-element.ts';
import { describedBy, fieldError, type FieldErrors, type ScopeChoice, scopeErrors, scopePicker, scopesOf, validityDays } from '../components/scope-picker.ts';
import { failed, loading } from '../components/states.ts';
import { dayDate, daysFromToday, endOfDay, isDayWithin } from '../days.ts';
import { formatDate, formatDateTime, formatNumber, language, t } from '../i18n/i18n.ts';
import { checkPersonNumber, looksComplete } from '../personal-number.ts';

/** What the server keeps of a message; the field stops there, and the count shows how much is left. */
const MESSAGE_MAX = 1000;

/** Asking a person for a power of attorney: whom, what, until when, and a note if one likes. */
export class RequestForm extends LightElement {
  static override properties = {
    principal: { state: true },
    choice: { state: true },
    search: { state: true },
    until: { state: true },
    mayDelegate: { state: true },
    message: { state: true },
    errors: { state: true },
    problem: { state: true },
    busy: { state: true },
  };
  declare principal: string;
  declare choice: ScopeChoice;
  declare search: string;
  declare until: string;
  declare mayDelegate: boolean;
  declare message: string;
  declare errors: FieldErrors;
  declare problem: string | undefined;
  declare busy: boolean;
  private focusSelector: string | undefined;

  constructor() {
    super();
    this.principal = '';
    this.choice = { chosen: {}, amounts: {} };
    this.search = '';
    this.until = '';
    this.mayDelegate = false;
    this.message = '';
    this.errors = {};
    this.problem = undefined;
    this.busy = false;
  }

  private catalogue = new Task(this, { task: () => api.services(), args: () => [] });

  protected override updated(): void {
    if (this.focusSelector) {
      this.querySelector<HTMLElement>(this.focusSelector)?.focus();
      this.focusSelector = undefined;
    }
  }

  private principalError(): string | undefined {
    const s = t();
    if (!this.principal.trim()) return s.pnrMissing;
    const checked = checkPersonNumber(this.principal, s);
    if ('error' in checked) return checked.error;
    return checked.value === session.me?.party.id ? s.pnrSelfAsk : undefined;
  }

  /** Judged while typing once there are enough digits, so a mistake shows before leaving the field. */
  private typePrincipal(value: string) {
    this.principal = value;
    this.checkPrincipal(looksComplete(value));
  }

  private checkPrincipal(complete: boolean) {
    const { principal: _old, ...rest } = this.errors;
    const error = complete ? this.principalError() : undefined;
    this.errors = error ? { ...rest, principal: error } : rest;
  }

  /** The last day allowed for what is chosen so far; nothing chosen, nothing to say yet. */
  private maxDay(services: readonly Service[]): string | undefined {
    const chosen = Object.values(this.choice.chosen).some((codes) => codes.length > 0);
    return chosen ? daysFromToday(validityDays(services, this.choice).max) : undefined;
  }

  private changeChoice(services: readonly Service[], choice: ScopeChoice) {
    this.choice = choice;
    const max = this.maxDay(services);
    // A usual length once something is chosen, and never past what the services allow.
    if (max && (!this.until || this.until > max)) this.until = daysFromToday(validityDays(services, choice).standard);
  }

  private untilError(services: readonly Service[]): string | undefined {
    const max = this.maxDay(services);
    if (!max) return undefined;
    return isDayWithin(this.until, max) ? undefined : t().untilInvalid(formatDate(dayDate(max)));
  }

  private async send(event: Event, services: readonly Service[]) {
    event.preventDefault();
    if (this.busy) return;
    const errors: FieldErrors = { ...scopeErrors(services, this.choice) };
    const principal = this.principalError();
    if (principal) errors.principal = principal;
    const until = this.untilError(services);
    if (until) errors.until = until;
    this.errors = errors;
    this.problem = undefined;
    if (Object.keys(errors).length > 0) {
      this.focusSelector = '[aria-invalid="true"]';
      return;
    }
    const checked = checkPersonNumber(this.principal, t());
    if (!('value' in checked)) return;
    this.busy = true;
    try {
      await requestsApi.create({
        principal: { type: 'person', id: checked.value },
        scopes: scopesOf(services, this.choice),
        validTo: endOfDay(this.until).toISOString(),
        mayDelegate: this.mayDelegate,
        ...(this.message.trim() ? { message: this.message.trim() } : {}),
      });
      navigate('/requests?tab=sent&sent=1');
    } catch (e) {
      this.showProblem(e, services);
    } finally {
      this.busy = false;
    }
  }

  /** A mistake in one field goes beside it; a refusal about the request as a whole goes above the button. */
  private showProblem(e: unknown, services: readonly Service[]) {
    const s = t();
    const problem = e instanceof ApiProblem ? e : new ApiProblem(0, 'unknown', '');
    const untilText = () => this.untilError(services) ?? s.untilInvalid(formatDate(dayDate(this.maxDay(services) ?? daysFromToday(1))));
    const field: Record<string, [string, () => string]> = {
      'invalid-identity-number': ['principal', () => s.pnrFormat],
      'agent-is-principal': ['principal', () => s.pnrSelfAsk],
      'invalid-validity': ['until', untilText],
      'validity-exceeds-maximum': ['until', untilText],
      'scope-not-in-catalogue': ['scopes', () => s.chooseSomething],
      'constraint-required': ['scopes', () => s.chooseSomething],
      'constraint-not-allowed': ['scopes', () => s.chooseSomething],
    };
    const where = field[problem.code];
    if (where) {
      this.errors = { [where[0]]: where[1]() };
      this.focusSelector = '[aria-invalid="true"]';
      return;
    }
    const retryAfter = typeof problem.extra.retryAfter === 'string' ? problem.extra.retryAfter : undefined;
    const maxOpen = typeof problem.extra.maxOpen === 'number' ? formatNumber(problem.extra.maxOpen) : '';
    const whole: Record<string, string> = {
      'request-already-open': s.requestAlreadyOpen,
      'too-many-open-requests': s.tooManyOpenRequests(maxOpen),
      'requests-locked-out': retryAfter ? s.requestsLockedOut(formatDateTime(retryAfter)) : s.requestsLockedOutNoDate,
    };
    this.problem = whole[problem.code] ?? s.errorGeneric;
    this.focusSelector = '#send-problem';
  }

  private renderPrincipal() {
    const s = t();
    const error = this.errors.principal;
    return html`<div class="field">
      <label for="principal">${s.principalLabel}</label>
      <p class="hint" id="principal-hint">${s.agentHint}</p>
      <input id="principal" name="principal" inputmode="numeric" autocomplete="off" .value=${this.principal}
        aria-invalid=${error ? 'true' : 'false'} aria-describedby=${describedBy(this.errors, 'principal', 'principal-hint')}
        @input=${(e: Event) => this.typePrincipal((e.target as HTMLInputElement).value)} @blur=${() => this.checkPrincipal(Boolean(this.principal.trim()))} />
      <div aria-live="polite">
        ${fieldError(this.errors, 'principal')}
        ${!error && looksComplete(this.principal) && this.principalError() === undefined
          ? html`<p class="field-ok">${icons.check()}<span>${s.pnrOk}</span></p>`
          : nothing}
      </div>
    </div>`;
  }

  private renderForm(services: readonly Service[]) {
    const s = t();
    const max = this.maxDay(services);
    const left = MESSAGE_MAX - this.message.length;
    return html`<form novalidate @submit=${(e: Event) => this.send(e, services)}>
      ${this.renderPrincipal()}
      <h2>${s.askWhatHeading}</h2>
      ${scopePicker({
        services,
        choice: this.choice,
        search: this.search,
        errors: this.errors,
        onSearch: (query) => (this.search = query),
        onChange: (choice) => this.changeChoice(services, choice),
      })}
      <h2>${s.askWhenHeading}</h2>
      <div class="field">
        <label for="until">${s.untilLabel}</label>
        ${max ? html`<p class="hint" id="until-hint">${s.untilHint(formatDate(dayDate(max)))}</p>` : nothing}
        <input id="until" type="date" lang=${language()} min=${daysFromToday(1)} max=${max ?? nothing} .value=${this.until}
          aria-invalid=${this.errors.until ? 'true' : 'false'} aria-describedby=${describedBy(this.errors, 'until', max ? 'until-hint' : undefined)}
          @input=${(e: Event) => (this.until = (e.target as HTMLInputElement).value)} />
        ${fieldError(this.errors, 'until')}
      </div>
      <div class="choice">
        <input type="checkbox" id="ask-delegate" .checked=${this.mayDelegate} @change=${(e: Event) => (this.mayDelegate = (e.target as HTMLInputElement).checked)} />
        <label for="ask-delegate">${s.askDelegate}</label>
      </div>
      <div class="field">
        <label for="message">${s.messageLabel}</label>
        <p class="hint" id="message-hint">${s.messageHint(formatNumber(MESSAGE_MAX))}</p>
        <textarea id="message" rows="4" maxlength=${MESSAGE_MAX} aria-describedby="message-hint message-left" .value=${this.message}
          @input=${(e: Event) => (this.message = (e.target as HTMLTextAreaElement).value)}></textarea>
        <p class="hint" id="message-left">${s.messageLeft(formatNumber(left))}</p>
      </div>
      ${this.problem ? html`<p id="send-problem" class="notice notice-error" role="alert" tabindex="-1">${this.problem}</p>` : nothing}
      <div class="actions">
        <button id="send-button" type="submit" class="button" ?disabled=${this.busy}>${this.busy ? s.sendingRequest : s.sendRequest}</button>
      </div>
    </form>`;
  }

  override render() {
    const s = t();
    return html`<p><a href="/requests?tab=sent">${s.backToRequests}</a></p>
      <h1 tabindex="-1">${s.askTitle}</h1>
      <p>${s.askIntro}</p>
      ${this.catalogue.render({
        pending: loading,
        error: () => failed(() => this.catalogue.run()),
        complete: (services) => this.renderForm(services),
      })}`;
  }
}

customElements.define('request-form', RequestForm);

declare global {
  interface HTMLElementTagNameMap {
    'request-form': RequestForm;
  }
}
