import { html } from 'lit';
import { api, type Mandate, type PartyView, type Service } from '../api/client.ts';
import { session } from '../app/session.ts';
import { t } from '../i18n/i18n.ts';
import { describedBy, fieldError } from '../components/scope-picker.ts';
import { formatPersonalNumber } from '../mandate-text.ts';
import { checkPersonNumber, looksComplete } from '../personal-number.ts';
import { GrantWizard, type GrantBody, readSaved, type Step } from './grant-wizard.ts';

const BASIS_KEY = 'ombud.officialBasis';

/** What the registration rests on: whose power of attorney it is, why an official registers it, and the document. */
interface Basis {
  principal: string;
  reason: string;
  documentReference: string;
}

const emptyBasis = (): Basis => ({ principal: '', reason: '', documentReference: '' });

/**
 * Assisted registration: an official registers a power of attorney for a person who came to
 * an office or sent a signed form. The grant wizard's steps, after a first step for the
 * principal, the reason and the document; the server checks the role whatever this page shows.
 */
export class OfficialPage extends GrantWizard {
  static override properties = { ...GrantWizard.properties, basis: { state: true }, receipt: { state: true } };
  declare basis: Basis;
  declare receipt: Mandate | undefined;

  constructor() {
    super();
    this.basis = readSaved(BASIS_KEY, emptyBasis());
    this.receipt = undefined;
  }

  protected override get firstStep(): Step {
    return 0;
  }

  protected override get draftKey(): string {
    return 'ombud.officialDraft';
  }

  private principalNumber(): string | undefined {
    const checked = checkPersonNumber(this.basis.principal, t());
    return 'value' in checked ? checked.value : undefined;
  }

  protected override principalParty(): PartyView {
    const id = this.principalNumber() ?? '';
    return { type: 'person', id, name: t().personalNumberOf(formatPersonalNumber(id)) };
  }

  protected override agentConflict(value: string): string | undefined {
    const s = t();
    if (value === session.me?.party.id) return s.officialSelf;
    return value === this.principalNumber() ? s.agentIsPrincipal : undefined;
  }

  protected override wording() {
    const s = t();
    return { title: s.officialTitle, confirm: s.confirmRegister, busy: s.registering };
  }

  protected override stepTitle(step: Step): string {
    return step === 0 ? t().stepBasis : super.stepTitle(step);
  }

  protected override async submit(body: GrantBody): Promise<void> {
    const principal = this.principalParty();
    const created = await api.registerAsOfficial({
      ...body,
      principal: { type: principal.type, id: principal.id },
      reason: this.basis.reason.trim(),
      documentReference: this.basis.documentReference.trim(),
    });
    this.finish();
    sessionStorage.removeItem(BASIS_KEY);
    this.receipt = created;
    this.moveFocus = true;
  }

  protected override problemPlaces(services: readonly Service[]): Record<string, [Step, string, string]> {
    const s = t();
    return {
      ...super.problemPlaces(services),
      'agent-is-principal': [1, 'agent-0', s.agentIsPrincipal],
      'official-is-party': [0, 'principal', s.officialSelf],
    };
  }

  protected override problemText(code: string): string {
    const s = t();
    const byCode: Record<string, string> = {
      'not-an-official': s.officialNotAllowed,
      unauthenticated: s.officialSignedOut,
      'invalid-request': s.officialInvalid,
    };
    return byCode[code] ?? super.problemText(code);
  }

  // ---- step 0

  private principalError(): string | undefined {
    const raw = this.basis.principal.trim();
    if (!raw) return t().pnrMissing;
    const checked = checkPersonNumber(raw, t());
    if ('error' in checked) return checked.error;
    return checked.value === session.me?.party.id ? t().officialSelf : undefined;
  }

  protected override validateStep(step: Step, services: readonly Service[]): Record<string, string> {
    if (step !== 0) return super.validateStep(step, services);
    const s = t();
    const errors: Record<string, string> = {};
    const principal = this.principalError();
    if (principal) errors.principal = principal;
    if (!this.basis.reason.trim()) errors.reason = s.officialReasonMissing;
    if (!this.basis.documentReference.trim()) errors['document-reference'] = s.documentReferenceMissing;
    return errors;
  }

  private editBasis(patch: Partial<Basis>) {
    this.basis = { ...this.basis, ...patch };
  }

  /** As in the agent fields: checked while typing once there are enough digits, and on leaving the field. */
  private checkPrincipal(complete: boolean) {
    const error = complete ? this.principalError() : undefined;
    const { principal: _old, ...rest } = this.errors;
    this.errors = error ? { ...rest, principal: error } : rest;
  }

  private textField(id: 'reason' | 'document-reference', key: 'reason' | 'documentReference', label: string, hint: string, maxlength: number) {
    return html`<div class="field">
      <label for=${id}>${label}</label>
      <p class="hint" id="${id}-hint">${hint}</p>
      <input id=${id} name=${id} maxlength=${maxlength} autocomplete="off" .value=${this.basis[key]}
        aria-invalid=${this.errors[id] ? 'true' : 'false'} aria-describedby=${describedBy(this.errors, id, `${id}-hint`)}
        @input=${(e: Event) => this.editBasis({ [key]: (e.target as HTMLInputElement).value })} />
      ${fieldError(this.errors, id)}
    </div>`;
  }

  private renderBasis() {
    const s = t();
    return html`
      <p>${s.officialIntro}</p>
      ${this.renderPersonField({
        id: 'principal',
        label: s.officialPrincipalLabel,
        value: this.basis.principal,
        ok: this.principalError() === undefined,
        onInput: (value) => {
          this.editBasis({ principal: value });
          this.checkPrincipal(looksComplete(value));
        },
        onBlur: () => this.checkPrincipal(this.basis.principal.trim() !== ''),
      })}
      ${this.textField('reason', 'reason', s.officialReasonLabel, s.officialReasonHint, 500)}
      ${this.textField('document-reference', 'documentReference', s.documentReferenceLabel, s.documentReferenceHint, 200)}
    `;
  }

  protected override renderStepBody(step: Step, services: readonly Service[]): unknown {
    return step === 0 ? this.renderBasis() : super.renderStepBody(step, services);
  }

  protected override renderReviewExtra() {
    const s = t();
    return html`<p class="official-note" data-testid="official-review">${s.officialReview}</p>
      <dl class="facts">
        <div><dt>${s.officialReasonLabel}</dt><dd>${this.basis.reason.trim()}</dd></div>
        <div><dt>${s.documentReferenceLabel}</dt><dd>${this.basis.documentReference.trim()}</dd></div>
      </dl>`;
  }

  // ---- the page

  protected override updated(): void {
    if (!this.receipt) sessionStorage.setItem(BASIS_KEY, JSON.stringify(this.basis));
    super.updated();
  }

  private another() {
    this.receipt = undefined;
    this.basis = emptyBasis();
    this.restart();
  }

  private renderReceipt(mandate: Mandate) {
    const s = t();
    return html`<h1>${s.officialTitle}</h1>
      <section class="receipt" aria-labelledby="receipt-heading">
        <h2 id="receipt-heading" tabindex="-1">${s.receiptHeading}</h2>
        <dl class="facts">
          <div><dt>${s.receiptNumber}</dt><dd data-testid="receipt-id">${mandate.id}</dd></div>
        </dl>
        <p>${s.receiptLetter}</p>
      </section>
      <p><button id="register-another" type="button" class="button secondary" @click=${() => this.another()}>${s.registerAnother}</button></p>`;
  }

  override render() {
    const s = t();
    if (!session.me?.roles.includes('official')) {
      return html`<h1>${s.officialTitle}</h1>
        <p class="notice notice-error" role="alert">${s.officialNotAvailable}</p>
        <p><a href="/mandates">${s.goHome}</a></p>`;
    }
    return this.receipt ? this.renderReceipt(this.receipt) : super.render();
  }
}

customElements.define('official-page', OfficialPage);

declare global {
  interface HTMLElementTagNameMap {
    'official-page': OfficialPage;
  }
}
