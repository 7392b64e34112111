import { LitElement } from 'lit';
import { onLanguageChange } from '../i18n/i18n.ts';

/**
 * Base of every element: renders into the light DOM so that the one stylesheet (served as
 * a file, which the Content-Security-Policy allows) styles everything, and re-renders when
 * the language changes.
 */
export class LightElement extends LitElement {
  private stopListening: (() => void) | undefined;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.stopListening = onLanguageChange(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopListening?.();
  }
}
