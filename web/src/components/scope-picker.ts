import { html, nothing } from 'lit';
import type { Mandate, Service } from '../api/client.ts';
import { formatNumber, localised, t } from '../i18n/i18n.ts';

/** Ticked permissions per service and the money limit typed for it, as the person left them. */
export interface ScopeChoice {
  chosen: Record<string, string[]>;
  amounts: Record<string, string>;
}

export type FieldErrors = Record<string, string>;

export function fieldError(errors: FieldErrors, id: string) {
  const error = errors[id];
  return error ? html`<p class="field-error" id="${id}-error">${error}</p>` : nothing;
}

export function describedBy(errors: FieldErrors, id: string, hint?: string) {
  return [hint, errors[id] ? `${id}-error` : undefined].filter(Boolean).join(' ') || nothing;
}

/** The lowest money limit among the chosen permissions that require one. */
export function amountLimitOf(services: readonly Service[], serviceId: string, codes: readonly string[]): number | undefined {
  const service = services.find((svc) => svc.id === serviceId);
  const limited = service?.permissions.filter((p) => codes.includes(p.code) && p.amountLimit?.required);
  return limited && limited.length > 0 ? Math.min(...limited.map((p) => p.amountLimit?.max ?? 0)) : undefined;
}

export function scopeErrors(services: readonly Service[], choice: ScopeChoice): FieldErrors {
  const s = t();
  const errors: FieldErrors = {};
  const chosen = Object.entries(choice.chosen).filter(([, codes]) => codes.length > 0);
  if (chosen.length === 0) errors.scopes = s.chooseSomething;
  for (const [serviceId, codes] of chosen) {
    const limit = amountLimitOf(services, serviceId, codes);
    if (!limit) continue;
    const amount = Number(choice.amounts[serviceId]);
    if (!Number.isInteger(amount) || amount < 1 || amount > limit) errors[`amount-${serviceId}`] = s.amountMissing(formatNumber(limit));
  }
  return errors;
}

export function scopesOf(services: readonly Service[], choice: ScopeChoice): Mandate['scopes'] {
  return Object.entries(choice.chosen)
    .filter(([, codes]) => codes.length > 0)
    .map(([service, permissions]) => {
      const limit = amountLimitOf(services, service, permissions);
      return { service, permissions, ...(limit ? { constraints: { maxAmount: Number(choice.amounts[service]) } } : {}) };
    });
}

/** How many days ahead the last day may be chosen, and the usual choice, for the chosen services. */
export function validityDays(services: readonly Service[], choice: ScopeChoice): { max: number; standard: number } {
  const chosen = services.filter((svc) => (choice.chosen[svc.id] ?? []).length > 0);
  const max = Math.min(...chosen.map((svc) => svc.maxValidityDays));
  const standard = Math.min(...chosen.map((svc) => svc.defaultValidityDays));
  // The last allowed day must end within the maximum, counted from now.
  return { max: max - 1, standard: Math.min(standard, max) - 1 };
}

export function toggled(chosen: ScopeChoice['chosen'], serviceId: string, code: string, on: boolean): ScopeChoice['chosen'] {
  const codes = new Set(chosen[serviceId] ?? []);
  if (on) codes.add(code);
  else codes.delete(code);
  return { ...chosen, [serviceId]: [...codes] };
}

function serviceMatches(service: Service, query: string): boolean {
  if (!query) return true;
  const q = query.toLocaleLowerCase();
  const texts = [service.name, service.agencyName, service.description, ...service.permissions.flatMap((p) => [p.name, p.description])];
  return texts.some((text) => `${text.sv} ${text.en}`.toLocaleLowerCase().includes(q));
}

export interface ScopePickerProps {
  services: readonly Service[];
  choice: ScopeChoice;
  search: string;
  errors: FieldErrors;
  onSearch(query: string): void;
  onChange(choice: ScopeChoice): void;
}

/** Search, then the catalogue by agency: a fieldset of permissions per service, with a money limit where one is required. */
export function scopePicker(props: ScopePickerProps) {
  const s = t();
  const shown = props.services.filter((svc) => serviceMatches(svc, props.search));
  const agencies = [...new Set(shown.map((svc) => svc.agency))];
  return html`
    <div class="field">
      <label for="search">${s.searchLabel}</label>
      <p class="hint" id="search-hint">${s.searchHint}</p>
      <input id="search" type="search" .value=${props.search} aria-describedby="search-hint" @input=${(e: Event) => props.onSearch((e.target as HTMLInputElement).value)} />
    </div>
    ${props.errors.scopes ? html`<p class="field-error" id="scopes-error" tabindex="-1" aria-invalid="true">${props.errors.scopes}</p>` : nothing}
    <p class="visually-hidden" role="status">${shown.length === 0 ? s.noSearchHits : ''}</p>
    ${shown.length === 0 ? html`<p class="empty">${s.noSearchHits}</p>` : nothing}
    ${agencies.map((agency) => {
      const own = shown.filter((svc) => svc.agency === agency);
      return html`<section class="agency" aria-labelledby="agency-${agency}">
        <h3 id="agency-${agency}">${localised((own[0] as Service).agencyName)}</h3>
        ${own.map((svc) => serviceFieldset(props, svc))}
      </section>`;
    })}
  `;
}

function serviceFieldset(props: ScopePickerProps, svc: Service) {
  const s = t();
  const { choice, errors } = props;
  const codes = choice.chosen[svc.id] ?? [];
  const limit = amountLimitOf([svc], svc.id, codes);
  const amountId = `amount-${svc.id}`;
  return html`<fieldset class="service">
    <legend>${localised(svc.name)}</legend>
    <p class="hint">${localised(svc.description)}</p>
    ${svc.permissions.map((p) => {
      const id = `perm-${svc.id}-${p.code}`;
      return html`<div class="choice">
        <input type="checkbox" id=${id} .checked=${codes.includes(p.code)} aria-describedby="${id}-hint"
          @change=${(e: Event) => props.onChange({ ...choice, chosen: toggled(choice.chosen, svc.id, p.code, (e.target as HTMLInputElement).checked) })} />
        <label for=${id}>${localised(p.name)}<span class="hint" id="${id}-hint">${localised(p.description)}</span></label>
      </div>`;
    })}
    ${limit
      ? html`<div class="field">
          <label for=${amountId}>${s.amountLabel}</label>
          <p class="hint" id="${amountId}-hint">${s.amountHint(formatNumber(limit))}</p>
          <input id=${amountId} inputmode="numeric" .value=${choice.amounts[svc.id] ?? ''}
            aria-invalid=${errors[amountId] ? 'true' : 'false'} aria-describedby=${describedBy(errors, amountId, `${amountId}-hint`)}
            @input=${(e: Event) => props.onChange({ ...choice, amounts: { ...choice.amounts, [svc.id]: (e.target as HTMLInputElement).value.trim() } })} />
          ${fieldError(errors, amountId)}
        </div>`
      : nothing}
  </fieldset>`;
}
