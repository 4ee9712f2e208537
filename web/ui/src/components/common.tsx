// Small pieces every view uses: state badges, times in the chosen zone, loading and errors,
// a data hook that reloads on events, and a confirmation dialog.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { now, stream, zoneChoice } from '../lib/state';
import type { ServerEvent } from '../lib/stream';
import { formatDuration, formatInstant, formatRelative, resolveZone, between } from '../lib/time';

export function stateLabel(state: string | null | undefined): string {
  return (state ?? 'none').replace(/_/g, ' ');
}

export function StateBadge({ state }: { state: string | null | undefined }) {
  const s = state ?? 'none';
  return <span class={`badge st-${s}`} data-state={s}>{stateLabel(s)}</span>;
}

export function Time({ at, jobZone, relative = false }: { at: string | null | undefined; jobZone?: string | null; relative?: boolean }) {
  const zone = resolveZone(zoneChoice.value, jobZone);
  if (!at) return <span class="muted">—</span>;
  const abs = formatInstant(at, zone);
  if (relative) {
    return (
      <span class="time rel" title={abs}>
        <span>{formatRelative(at, now.value)}</span> <span class="muted small abs">{abs}</span>
      </span>
    );
  }
  return <time class="time" dateTime={at}>{abs}</time>;
}

export function Elapsed({ start, end }: { start: string | null | undefined; end: string | null | undefined }) {
  const ms = between(start, end, now.value);
  return <span class="num">{formatDuration(ms)}</span>;
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  const title = e.status === 403 ? 'Not allowed' : e.status === 401 ? 'Sign-in needed' : e.status === 404 ? 'Not found' : 'Error';
  return (
    <div class="alert" role="alert">
      <strong>{title}{e.status ? ` (${e.status})` : ''}</strong> {e.message}
    </div>
  );
}

export function Loading() {
  return <div class="loading" aria-busy="true">Loading…</div>;
}

export interface Resource<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

// Loads `fn` when `key` changes and again (debounced) whenever an event passes `refreshOn`:
// views stay live from the shared event stream instead of polling.
export function useResource<T>(key: string, fn: () => Promise<T>, refreshOn?: (e: ServerEvent) => boolean): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const load = useCallback(() => {
    const mine = ++seq.current;
    fnRef.current().then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (mine !== seq.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, []);
  // Asked for as soon as the view is rendered, not after the next frame as an effect would: a
  // first view's answer is usually here already (first_view.ts), and is then drawn in the same
  // task as the shell instead of one frame and a layout later
  // (docs/benchmarks.md#admin-page-first-render).
  useLayoutEffect(() => {
    setLoading(true);
    setData(null);
    load();
  }, [key]);
  const filter = useRef(refreshOn);
  filter.current = refreshOn;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = stream.subscribe((e) => {
      // A reset: the server could not replay what this tab missed, so every view reads again.
      if (e.kind === 'reset') return load();
      if (!filter.current || !filter.current(e)) return;
      if (timer === null) {
        timer = setTimeout(() => {
          timer = null;
          load();
        }, 250);
      }
    });
    // Back on the stream after a drop: the server replays what was missed after the last event
    // id; with none to resume from (dropped before the first event) read again.
    const offStatus = stream.onStatus((s) => {
      if (s === 'open' && stream.connections > 1 && stream.lastEventId === null) load();
    });
    return () => {
      off();
      offStatus();
      if (timer !== null) clearTimeout(timer);
    };
  }, [key]);
  return { data, error, loading, reload: load };
}

export function useEvents(fn: (e: ServerEvent) => void, deps: unknown[]) {
  useEffect(() => stream.subscribe(fn), deps);
}

// A modal confirmation: a native <dialog> (focus trapped, Escape closes).
export function Confirm(props: {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  action: string;
  danger?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="dialog" onClose={props.onClose} aria-labelledby="confirm-title">
      <h2 id="confirm-title">{props.title}</h2>
      <div class="dialog-body">{props.children}</div>
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={props.onClose}>Keep</button>
        <button
          type="button"
          class={props.danger ? 'btn danger' : 'btn primary'}
          onClick={() => {
            props.onConfirm();
            props.onClose();
          }}
        >
          {props.action}
        </button>
      </div>
    </dialog>
  );
}

export function PageHeader(props: { title: ComponentChildren; sub?: ComponentChildren; actions?: ComponentChildren; crumbs?: ComponentChildren }) {
  return (
    <header class="page-head">
      {props.crumbs && <nav class="crumbs" aria-label="Breadcrumb">{props.crumbs}</nav>}
      <div class="page-head-row">
        <div>
          <h1>{props.title}</h1>
          {props.sub && <div class="page-sub">{props.sub}</div>}
        </div>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </div>
    </header>
  );
}
