// The first view's data is asked for with the session call, not after it: a view otherwise
// waited for the session round trip, then its own calls (docs/benchmarks.md#admin-page-at-size).
// Only what a view reads first and can name from its URL; the routes are main.tsx's.
import { prefetch, prefetchRead } from './lib/api';
import * as paths from './lib/api_paths';
import { healthReads } from './lib/health';
import { matchPath } from './lib/route_match';

// The API paths the view at `path` (with `query`) reads first; none for an unknown path.
export function firstViewCalls(path: string, query: URLSearchParams): string[] {
  const q = (k: string) => query.get(k) ?? '';
  let m: Record<string, string> | null;
  if (path === '/' || path === '/index.html' || path === '/jobs') return [paths.jobsPath()];
  if (path === '/overview') return [paths.schedulePath(), paths.jobsPath(), paths.failuresPath()];
  if (path === '/runs') return [paths.runsPath(q('job'), q('state'))];
  if (path === '/copies') return [paths.copiesPath(q('job'))];
  if (path === '/events') return [paths.eventsPath(q('kind'))];
  if (path === '/variables') return [paths.variablesPath()];
  if (path === '/backfills') return [paths.backfillsPath(q('job'))];
  if ((m = matchPath('/backfills/:id', path)) && /^\d+$/.test(m.id)) return [paths.backfillPath(Number(m.id))];
  if ((m = matchPath('/jobs/:job/trigger', path))) return [paths.jobPath(m.job)];
  if ((m = matchPath('/jobs/:job', path))) return [paths.jobPath(m.job), paths.gridPath(m.job, null)];
  m = matchPath('/runs/:id', path) ?? matchPath('/runs/:id/tasks/:task', path) ?? matchPath('/runs/:id/tasks/:task/log', path);
  if (m && /^\d+$/.test(m.id)) return [paths.runPath(m.id)];
  return [];
}

// What the view at `path` reads first outside the API: the overview's /readyz, /livez and
// /metrics, which otherwise went out only after the session's answer and a render.
export function firstViewReads(path: string): string[] {
  return path === '/overview' ? Object.keys(healthReads) : [];
}

export function prefetchFirstView(path: string, query: URLSearchParams): void {
  for (const p of firstViewCalls(path, query)) prefetch(p);
  for (const key of firstViewReads(path)) prefetchRead(key, healthReads[key]);
}
