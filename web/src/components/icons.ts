import { svg } from 'lit';

/** Small line icons; always beside a text, so they are hidden from screen readers. */
function icon(path: ReturnType<typeof svg>) {
  return svg`<svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">${path}</svg>`;
}

export const icons = {
  check: () => icon(svg`<path d="M5 12.5l4.5 4.5L19 7.5" />`),
  clock: () => icon(svg`<circle cx="12" cy="12" r="8.5" /><path d="M12 7v5l3.5 2" />`),
  stop: () => icon(svg`<circle cx="12" cy="12" r="8.5" /><path d="M6 18L18 6" />`),
  hourglass: () => icon(svg`<path d="M7 3.5h10M7 20.5h10M8 3.5c0 5 8 5 8 8.5s-8 3.5-8 8.5M16 3.5c0 5-8 5-8 8.5s8 3.5 8 8.5" />`),
  warning: () => icon(svg`<path d="M12 3.5l9.5 17h-19z" /><path d="M12 10v4.5M12 17.5v.5" />`),
};
