/** History-API routing: paths are real URLs, so reload, back and bookmarks work. */

export type MandatesTab = 'given' | 'received' | 'signatory';
export type RequestsTab = 'incoming' | 'sent';

export type Route =
  | { page: 'start' }
  | { page: 'mandates'; tab: MandatesTab }
  | { page: 'grant' }
  | { page: 'mandate'; id: string }
  | { page: 'activity' }
  | { page: 'act-for' }
  | { page: 'security' }
  | { page: 'official' }
  | { page: 'not-found' }
  | { page: 'requests'; tab: RequestsTab }
  | { page: 'request-new' }
  | { page: 'request'; id: string };

export function parseRoute(location: Location): Route {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { page: 'start' };
  if (path === '/mandates') {
    const tab = new URLSearchParams(location.search).get('tab');
    return { page: 'mandates', tab: tab === 'received' || tab === 'signatory' ? tab : 'given' };
  }
  if (path === '/grant') return { page: 'grant' };
  const detail = /^\/mandates\/([0-9a-f-]{36})$/i.exec(path);
  if (detail) return { page: 'mandate', id: detail[1] as string };
  if (path === '/activity') return { page: 'activity' };
  if (path === '/act-for') return { page: 'act-for' };
  if (path === '/security') return { page: 'security' };
  if (path === '/official') return { page: 'official' };
  const request = requestRoute(path, location.search);
  if (request) return request;
  return { page: 'not-found' };
}

function requestRoute(path: string, search: string): Route | undefined {
  if (path === '/requests') return { page: 'requests', tab: new URLSearchParams(search).get('tab') === 'sent' ? 'sent' : 'incoming' };
  if (path === '/requests/new') return { page: 'request-new' };
  const one = /^\/requests\/([0-9a-f-]{36})$/i.exec(path);
  return one ? { page: 'request', id: one[1] as string } : undefined;
}

const changes = new EventTarget();

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  changes.dispatchEvent(new Event('change'));
}

export function onRouteChange(listener: () => void): void {
  changes.addEventListener('change', listener);
  window.addEventListener('popstate', listener);
}

/** Same-origin links inside the app change the page without a reload. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element).closest('a');
    if (!link || link.target || link.hasAttribute('download') || link.dataset.reload !== undefined) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/auth/')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
