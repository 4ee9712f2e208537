// Backfills: the list with progress, one backfill's counts with pause, resume and cancel, and
// the create form that always shows the dry-run plan (runs and skips) before creating.
import { useState } from 'preact/hooks';
import { get, post, seg } from '../lib/api';
import { backfillPath, backfillsPath } from '../lib/api_paths';
import { loc, navigate } from '../lib/router';
import { canOperate } from '../lib/state';
import { Confirm, ErrorBox, Loading, PageHeader, StateBadge, Time, useResource } from '../components/common';

export interface Backfill {
  id: number;
  job: string;
  state: string;
  start: string;
  end: string;
  order: string;
  max_active_runs: number;
  reprocess: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  cursor: string | null;
  counts: Record<string, number>;
  progress: number;
}

interface Plan {
  dry_run: true;
  planned: number;
  would_run: number;
  would_skip: number;
  runs: { logical_time: string; data_interval_start: string; data_interval_end: string; existing: string; action: string }[];
}

const finished = (s: string) => s === 'success' || s === 'failed' || s === 'canceled';

export function Progress({ value, state }: { value: number; state: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 1000) / 10;
  return (
    <div class={`progress st-${state}`} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label={`${pct}% done`}>
      <span style={{ width: `${pct}%` }} />
    </div>
  );
}

function Actions({ b, onDone }: { b: Backfill; onDone: () => void }) {
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!canOperate.value || finished(b.state)) return null;
  const act = async (action: string) => {
    setError(null);
    try {
      await post(`/api/v1/backfills/${b.id}/${action}`);
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <span class="page-actions">
      {b.state === 'running' && <button type="button" class="btn small" onClick={() => act('pause')}>Pause</button>}
      {b.state === 'paused' && <button type="button" class="btn small" onClick={() => act('resume')}>Resume</button>}
      <button type="button" class="btn small danger" onClick={() => setConfirm(true)}>Cancel</button>
      <ErrorBox error={error} />
      <Confirm open={confirm} title={`Cancel backfill ${b.id}?`} action="Cancel backfill" danger onClose={() => setConfirm(false)} onConfirm={() => void act('cancel')}>
        <p>No further runs are created, and its queued and running runs are canceled.</p>
      </Confirm>
    </span>
  );
}

export function BackfillsView() {
  const job = loc.value.query.get('job') ?? '';
  const list = useResource('backfills:' + job, () => get<{ backfills: Backfill[] }>(backfillsPath(job)).then((r) => r.backfills),
    (e) => e.kind === 'backfill.state' || (e.kind === 'run.state' && !!e.job));
  return (
    <main class="page">
      <PageHeader title="Backfills" sub="Past schedule intervals replayed one run each, below scheduled and manual runs in priority." />
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? <Loading /> : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th scope="col">Backfill</th><th scope="col">Job</th><th scope="col">State</th><th scope="col">Range</th><th scope="col">Progress</th><th scope="col">By</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {(list.data ?? []).map((b) => (
                <tr key={b.id}>
                  <td><a class="strong" href={`/backfills/${b.id}`}>#{b.id}</a></td>
                  <td><a href={`/jobs/${seg(b.job)}`}>{b.job}</a></td>
                  <td><StateBadge state={b.state} /></td>
                  <td class="small"><Time at={b.start} /><br /><Time at={b.end} /></td>
                  <td class="progress-cell"><Progress value={b.progress} state={b.state} /><span class="muted small">{b.counts.done ?? 0} of {b.counts.planned ?? 0} intervals</span></td>
                  <td class="small">{b.created_by}</td>
                  <td class="right"><Actions b={b} onDone={list.reload} /></td>
                </tr>
              ))}
              {list.data?.length === 0 && <tr><td colSpan={7} class="muted center">No backfills. Start one from a job's page.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

export function BackfillView({ id }: { id: number }) {
  const b = useResource('backfill:' + id, () => get<Backfill>(backfillPath(id)),
    (e) => e.kind === 'backfill.state' || e.kind === 'run.state');
  const d = b.data;
  if (b.loading && !d) return <main class="page"><Loading /></main>;
  if (!d) return <main class="page"><ErrorBox error={b.error} /></main>;
  const counts = ['planned', 'done', 'skipped', 'created', 'queued', 'running', 'succeeded', 'failed', 'canceled'];
  return (
    <main class="page">
      <PageHeader
        crumbs={<><a href="/backfills">Backfills</a> /</>}
        title={<>Backfill {d.id} <StateBadge state={d.state} /></>}
        sub={<span class="meta"><a href={`/jobs/${seg(d.job)}`}>{d.job}</a><span><Time at={d.start} /> → <Time at={d.end} /></span><span>{d.order.replace('_', ' ')}</span><span>at most {d.max_active_runs} active</span><span>reprocess {d.reprocess}</span></span>}
        actions={<Actions b={d} onDone={b.reload} />}
      />
      <section class="card">
        <h2 class="card-title">Progress <span class="muted small">{Math.round(d.progress * 1000) / 10}%</span></h2>
        <Progress value={d.progress} state={d.state} />
        <dl class="metrics">
          {counts.map((k) => <div key={k}><dt>{k}</dt><dd class="num">{(d.counts[k] ?? 0).toLocaleString()}</dd></div>)}
        </dl>
        <p class="muted small">Newest interval dealt with: <Time at={d.cursor} />. <a href={`/runs?job=${seg(d.job)}`}>The job's runs →</a></p>
      </section>
    </main>
  );
}

// The create form: the plan (dry run) first, then Create.
export function NewBackfillView({ job }: { job: string }) {
  const day = 86400000;
  const today = new Date(Math.floor(Date.now() / day) * day);
  const [start, setStart] = useState(new Date(today.getTime() - 7 * day).toISOString().replace('.000', ''));
  const [end, setEnd] = useState(today.toISOString().replace('.000', ''));
  const [order, setOrder] = useState('oldest_first');
  const [reprocess, setReprocess] = useState('none');
  const [maxActive, setMaxActive] = useState('1');
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const body = (dry: boolean) => ({ start, end, order, reprocess, max_active_runs: Number(maxActive), dry_run: dry });
  const send = async (dry: boolean) => {
    setBusy(true);
    setError(null);
    try {
      if (dry) setPlan(await post<Plan>(`/api/v1/jobs/${seg(job)}/backfills`, body(true)));
      else navigate(`/backfills/${(await post<Backfill>(`/api/v1/jobs/${seg(job)}/backfills`, body(false))).id}`);
    } catch (e) {
      setPlan(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const changed = (f: (v: string) => void) => (e: Event) => {
    f((e.currentTarget as HTMLInputElement).value);
    setPlan(null);
  };
  return (
    <main class="page narrow">
      <PageHeader crumbs={<><a href="/jobs">Jobs</a> / <a href={`/jobs/${seg(job)}`}>{job}</a> /</>} title="New backfill" />
      {!canOperate.value ? <div class="alert">Your role may not create backfills.</div> : (
        <form class="card form" onSubmit={(e) => { e.preventDefault(); void send(!plan); }}>
          <div class="field-row">
            <div class="field"><label for="bf-start">Start <span class="muted small">RFC 3339, inclusive</span></label><input id="bf-start" value={start} onInput={changed(setStart)} /></div>
            <div class="field"><label for="bf-end">End <span class="muted small">exclusive</span></label><input id="bf-end" value={end} onInput={changed(setEnd)} /></div>
          </div>
          <div class="field-row">
            <div class="field"><label for="bf-order">Order</label>
              <select id="bf-order" value={order} onChange={changed(setOrder)}><option value="oldest_first">oldest first</option><option value="newest_first">newest first</option></select></div>
            <div class="field"><label for="bf-reprocess">Intervals with a run</label>
              <select id="bf-reprocess" value={reprocess} onChange={changed(setReprocess)}><option value="none">skip them</option><option value="failed">rerun failed ones</option><option value="all">rerun all</option></select></div>
            <div class="field"><label for="bf-max">Active at once</label><input id="bf-max" inputMode="numeric" value={maxActive} onInput={changed(setMaxActive)} /></div>
          </div>
          <ErrorBox error={error} />
          {plan && (
            <div class="plan" aria-label="plan">
              <p><strong>{plan.would_run}</strong> runs, <strong>{plan.would_skip}</strong> intervals skipped, of {plan.planned}.</p>
              <div class="plan-list">
                <table class="table compact">
                  <thead><tr><th scope="col">Logical time</th><th scope="col">Data interval</th><th scope="col">Now</th><th scope="col">Action</th></tr></thead>
                  <tbody>
                    {plan.runs.slice(0, 200).map((r) => (
                      <tr key={r.logical_time}>
                        <td><Time at={r.logical_time} /></td>
                        <td class="small"><Time at={r.data_interval_start} /> → <Time at={r.data_interval_end} /></td>
                        <td>{r.existing.replace('_', ' ')}</td>
                        <td><StateBadge state={r.action === 'run' ? 'queued' : 'skipped'} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {plan.runs.length > 200 && <p class="muted small">and {plan.runs.length - 200} more.</p>}
              </div>
            </div>
          )}
          <div class="form-actions">
            <a class="btn" href={`/jobs/${seg(job)}`}>Cancel</a>
            {plan ? (
              <button class="btn primary" type="submit" disabled={busy || plan.would_run === 0}>Create backfill of {plan.would_run} runs</button>
            ) : (
              <button class="btn primary" type="submit" disabled={busy}>{busy ? 'Planning…' : 'Preview'}</button>
            )}
          </div>
        </form>
      )}
    </main>
  );
}
