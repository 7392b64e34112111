import { html } from 'lit';
import { t } from '../i18n/i18n.ts';
import { icons } from './icons.ts';

/** Loading, empty and error states look the same everywhere, so no page is ever blank. */
export const loading = () => html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${t().loading}</p>`;

export const empty = (text: string) => html`<p class="empty">${text}</p>`;

export const failed = (retry: () => void) =>
  html`<div class="notice notice-error" role="alert">
    ${icons.warning()}
    <p>${t().errorGeneric}</p>
    <button type="button" class="button secondary" @click=${retry}>${t().tryAgain}</button>
  </div>`;
