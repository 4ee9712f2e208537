// The API calls the views make first, as paths: one builder per call, so that the prefetch of
// the first view (first_view.ts) and the view's own read ask for the same string and the view
// takes the answer already on its way (api.ts `prefetch`).
import { seg } from './api';

export const jobsPath = () => '/api/v1/jobs';
export const jobPath = (job: string) => `/api/v1/jobs/${seg(job)}`;

// The grid of runs × tasks on a job's page: its newest page when `cursor` is null.
export const gridRuns = 25;
export const gridPath = (job: string, cursor: string | null) =>
  `/api/v1/jobs/${seg(job)}/grid?limit=${gridRuns}${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`;

export const runPath = (id: number | string) => `/api/v1/runs/${id}`;

// The runs list: `job` and `state` as in the page's URL ('' for any).
export const runsPageSize = 50;
export function runsPath(job: string, state: string, cursor?: string | null): string {
  const q = new URLSearchParams({ limit: String(runsPageSize) });
  if (job) q.set('job', job);
  if (state) q.set('state', state);
  if (cursor) q.set('cursor', cursor);
  return '/api/v1/runs?' + q.toString();
}

export const copiesPath = (job: string) => '/api/v1/copies' + (job ? `?job=${encodeURIComponent(job)}` : '');

// The overview's: the next 24 hours of fires and the latest failures.
export const schedulePath = () => '/api/v1/schedule?hours=24';
export const failuresPath = () => '/api/v1/runs?state=failed&limit=8';

// The events view: a page of stored events, newest first, before event `before` (the latest
// when undefined; docs/api.md#logs-and-events-server-sent-events). 100, near the runs list's 50:
// drawing 500 at once made the view's first render the page's longest main-thread task
// (docs/benchmarks.md#admin-page-at-size).
export const eventsPageSize = 100;
export const eventsPath = (kind: string, before?: number) =>
  `/api/v1/events?limit=${eventsPageSize}${before !== undefined ? '&before=' + before : '&order=newest_first'}${kind ? '&kind=' + encodeURIComponent(kind) : ''}`;

export const backfillsPath = (job: string) => `/api/v1/backfills?limit=100${job ? '&job=' + seg(job) : ''}`;
export const backfillPath = (id: number) => `/api/v1/backfills/${id}`;

export const variablesPath = () => '/api/v1/variables';
