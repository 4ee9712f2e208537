// The overview's reads outside the API (docs/ui.md#pages): readiness (/readyz), the last
// configuration reload (/livez) and schedule lateness (/metrics). Here rather than in the view so
// that the first view's prefetch (first_view.ts) sends the same reads with the session call.
import { metricsText, takeEarly } from './api';
import { readHistogram, type HistogramSummary } from './metrics';

export interface Ready {
  status?: string;
  [k: string]: unknown;
}

export interface Live {
  config?: { reloads: number; last_reload: 'applied' | 'rejected' | null };
}

async function readReady(): Promise<Ready> {
  const res = await fetch('/readyz', { cache: 'no-store' });
  try {
    return (await res.json()) as Ready;
  } catch {
    return { status: res.ok ? 'ready' : 'not ready' };
  }
}

async function readLive(): Promise<Live> {
  return (await (await fetch('/livez', { cache: 'no-store' })).json()) as Live;
}

async function readLateness(): Promise<HistogramSummary | null> {
  return readHistogram(await metricsText(), 'sluice_schedule_lateness_seconds');
}

// Each read by the key its prefetch goes under (api.ts prefetchRead).
export const healthReads: Record<string, () => Promise<unknown>> = {
  '/readyz': readReady,
  '/livez': readLive,
  '/metrics': readLateness,
};

export const readyz = () => takeEarly('/readyz', readReady);
export const livez = () => takeEarly('/livez', readLive);
export const lateness = () => takeEarly('/metrics', readLateness);
