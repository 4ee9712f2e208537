// History-API routing: every view has its own URL (docs/ui.md#urls), back and forward work, and
// a pasted link opens the same view. The server answers index.html for the page's sections.
import { signal } from '@preact/signals';

export { matchPath } from './route_match';

export interface Location {
  path: string;
  query: URLSearchParams;
  hash: string;
}

function current(): Location {
  return { path: location.pathname, query: new URLSearchParams(location.search), hash: location.hash.slice(1) };
}

export const loc = signal<Location>(current());

for (const ev of ['popstate', 'hashchange']) {
  addEventListener(ev, () => {
    loc.value = current();
  });
}

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search + location.hash) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  loc.value = current();
  if (!replace && !to.includes('#')) scrollTo(0, 0);
}

// Sets (or with null, removes) query parameters of the current view without a new history entry.
export function setQuery(changes: Record<string, string | null>): void {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  navigate(location.pathname + (s ? '?' + s : ''), true);
}

// In-page link handling for <a href>: plain left clicks stay in the page.
export function onLinkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('//') || href.startsWith('/api/')) return;
  e.preventDefault();
  navigate(href);
}
