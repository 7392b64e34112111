import { Task } from '@lit/task';
import { html, nothing } from 'lit';
import { api, type Representation } from '../api/client.ts';
import { session } from '../app/session.ts';
import { LightElement } from '../components/light-element.ts';
import { empty, failed, loading } from '../components/states.ts';
import { formatDate, formatList, t } from '../i18n/i18n.ts';
import { describeScopes, formatPersonalNumber, lastDay, partyName, upperFirst } from '../mandate-text.ts';

/** Why I may act for this principal, in the reader's words: each legal role, the mandates, the organisations I act through. */
function reasons(rep: Representation): string[] {
  const s = t();
  const roles = rep.roles.map((role) => {
    if (role.kind === 'guardian') return role.validTo ? s.roleGuardian(formatDate(lastDay(role.validTo))) : s.roleGuardianOpen;
    if (role.kind === 'trustee') return s.roleTrustee(formatList((role.scope ?? []).map((code) => s.trusteeScopes[code] ?? code)));
    return role.rule === 'alone' ? s.roleSignatoryAlone : s.roleSignatoryJointly;
  });
  if (rep.mandateIds.length > 0) roles.push(s.roleMandate(rep.mandateIds.length));
  if (rep.via.length > 0) roles.push(s.roleVia(formatList(rep.via.map(partyName))));
  return roles;
}

/**
 * As an agent: everyone I may act for now, by a power of attorney or by law (guardian, trustee,
 * signatory), and what I may do for each; choosing one switches the role in the header.
 */
export class ActForPage extends LightElement {
  private data = new Task(this, {
    task: async () => {
      const [representations, services] = await Promise.all([api.representations(), api.services()]);
      return { representations, services };
    },
    args: () => [],
  });

  override connectedCallback(): void {
    super.connectedCallback();
    session.addEventListener('change', this.refresh);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    session.removeEventListener('change', this.refresh);
  }

  private refresh = () => this.requestUpdate();

  override render() {
    const s = t();
    return html`
      <h1 tabindex="-1">${s.actForTitle}</h1>
      <p class="lead">${s.actForIntro}</p>
      ${this.data.render({
        pending: loading,
        error: () => failed(() => this.data.run()),
        complete: ({ representations, services }) => {
          if (representations.length === 0) return empty(s.emptyActFor);
          return html`<ul class="plain cards">
            ${representations.map((rep) => {
              const party = rep.principal;
              const acting = session.actingFor?.id === party.id;
              const headingId = `principal-${party.id}`;
              return html`<li class="card represent" aria-labelledby=${headingId}>
                <h2 id=${headingId}>${partyName(party)}</h2>
                ${party.type === 'organisation' ? html`<p>${s.organisationNumber(formatPersonalNumber(party.id))}</p>` : nothing}
                <ul>${reasons(rep).map((r) => html`<li>${r}</li>`)}</ul>
                ${rep.scopes.length > 0
                  ? html`<p>${s.youMay}</p>
                      <ul>${rep.scopes.map((scope) => html`<li>${upperFirst(describeScopes([scope], services))}</li>`)}</ul>`
                  : html`<p>${s.nothingYet}</p>`}
                ${acting
                  ? html`<p class="notice notice-ok">${s.currentlyActing}</p>`
                  : rep.scopes.length === 0
                    ? nothing
                    : html`<button type="button" class="button" @click=${() => session.setActingFor(party)}>${s.actFor(partyName(party))}</button>`}
              </li>`;
            })}
          </ul>`;
        },
      })}
    `;
  }
}

customElements.define('act-for-page', ActForPage);

declare global {
  interface HTMLElementTagNameMap {
    'act-for-page': ActForPage;
  }
}
