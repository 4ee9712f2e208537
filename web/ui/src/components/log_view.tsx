// A task's log as a virtual list: only the lines in view are in the page (fixed line height), read
// from the server a window at a time (GET .../logs?format=json, docs/api.md), the tail first, so
// a 10 MiB log never freezes the tab. While the task runs its lines are followed live (fetch
// streaming of the server's event stream: the token stays in a header). Search runs in the server
// over the whole log; a hit is a #L12 link like every line number, so a line can be pasted to a
// colleague. Download saves the plain-text answer as it arrives, without splitting it into lines.
import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { authHeaders, seg } from '../lib/api';
import { SseParser } from '../lib/sse';

// Must match .log-line's height in style.css: line n sits at pad + (n - 1) * lineHeight.
const lineHeight = 19;
const pad = 8;
// Lines read per request, and lines rendered beyond each edge of the view.
const windowLines = 500;
const overscan = 40;
const maxHits = 200;

interface Line { text: string; stream: string }
interface WindowAnswer { total: number; from: number; lines: { n: number; text: string; stream: string }[] }
interface SearchAnswer { hits: { n: number; text: string }[]; truncated: boolean }

// The lines read so far, by number, and which windows are read or being read.
class LogLines {
  lines = new Map<number, Line>();
  windows = new Set<number>();
  total = 0;
  put(a: WindowAnswer) {
    this.total = Math.max(this.total, a.total);
    for (const l of a.lines) this.lines.set(l.n, { text: l.text, stream: l.stream });
    // A window the answer covered whole (the tail read first) is not read again.
    const end = a.from + a.lines.length - 1;
    for (let w = Math.floor((a.from - 1) / windowLines); w * windowLines < end; w++) {
      if (w * windowLines + 1 >= a.from && Math.min((w + 1) * windowLines, a.total) <= end) this.windows.add(w);
    }
  }
}

export function LogView({ run, task, active, hashLine }: { run: number; task: string; active: boolean; hashLine: number | null }) {
  const base = `/api/v1/runs/${run}/tasks/${seg(task)}/logs`;
  const store = useRef(new LogLines());
  const [, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  const [following, setFollowing] = useState(active);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [stick, setStick] = useState(true);
  const [top, setTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(560);
  const box = useRef<HTMLDivElement>(null);
  const life = useRef(new AbortController());

  const read = async (from: number, limit: number, tail = false) => {
    const q = tail ? `tail=${limit}` : `from=${from}&limit=${limit}`;
    const res = await fetch(`${base}?format=json&${q}`, { headers: authHeaders(), signal: life.current.signal, cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    store.current.put((await res.json()) as WindowAnswer);
    bump();
  };

  // Reads the windows holding lines [from, to] that are not read yet.
  const ensure = (from: number, to: number) => {
    const s = store.current;
    for (let w = Math.floor((Math.max(from, 1) - 1) / windowLines); w * windowLines < Math.min(to, s.total); w++) {
      if (s.windows.has(w)) continue;
      s.windows.add(w);
      read(w * windowLines + 1, windowLines).catch((e: Error) => {
        s.windows.delete(w);
        if (!life.current.signal.aborted) setError(e.message);
      });
    }
  };

  useEffect(() => {
    const abort = new AbortController();
    life.current = abort;
    store.current = new LogLines();
    setError(null);
    setLoaded(false);
    setFollowing(active);
    bump();
    (async () => {
      try {
        if (!active) {
          await read(0, windowLines, true);
          setLoaded(true);
          return;
        }
        const res = await fetch(base + '?follow=1', {
          headers: { ...authHeaders(), Accept: 'text/event-stream' },
          signal: abort.signal,
          cache: 'no-store',
        });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        setLoaded(true);
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const s = store.current;
        let flush: ReturnType<typeof setTimeout> | null = null;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const ev of parser.feed(value)) {
            if (ev.event !== 'line') continue;
            try {
              const l = JSON.parse(ev.data) as Line;
              s.total += 1;
              s.lines.set(s.total, { text: l.text, stream: l.stream });
            } catch {
              // a malformed line event is skipped
            }
          }
          // One render per 50 ms however fast lines arrive.
          if (flush === null) flush = setTimeout(() => { flush = null; bump(); }, 50);
        }
        if (flush !== null) clearTimeout(flush);
        bump();
        setFollowing(false);
      } catch (e) {
        if (!abort.signal.aborted) {
          setFollowing(false);
          setError((e as Error).message);
        }
      }
    })();
    return () => abort.abort();
  }, [base, active]);

  const total = store.current.total;

  // The view's height and scroll position drive which lines are rendered.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setViewHeight(el.clientHeight || 560);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const frame = useRef(0);
  const onScroll = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (box.current) setTop(box.current.scrollTop);
    });
  };

  // Where the view goes: the line of the link, else the end while tailing.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !loaded || total === 0) return;
    if (hashLine !== null && hashLine <= total) {
      el.scrollTop = Math.max(0, pad + (hashLine - 1) * lineHeight - (el.clientHeight - lineHeight) / 2);
    } else if (stick) {
      el.scrollTop = el.scrollHeight;
    } else {
      return;
    }
    setTop(el.scrollTop);
  }, [loaded, hashLine, stick, hashLine === null && stick ? total : 0]);

  const first = Math.max(1, Math.floor((top - pad) / lineHeight) + 1 - overscan);
  const last = Math.min(total, Math.ceil((top + viewHeight) / lineHeight) + overscan);
  useEffect(() => {
    if (!following && loaded) ensure(first, last);
  }, [first, last, following, loaded, total]);

  const [find, setFind] = useState('');
  const [found, setFound] = useState<{ q: string; hits: number[]; truncated: boolean } | null>(null);
  useEffect(() => {
    const q = find.trim();
    if (!q) {
      setFound(null);
      return;
    }
    // Asked once typing pauses; a newer text aborts the older search.
    const abort = new AbortController();
    const t = setTimeout(async () => {
      try {
        const res = await fetch(`${base}?format=json&limit=${maxHits}&q=${encodeURIComponent(q)}`, { headers: authHeaders(), signal: abort.signal, cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const a = (await res.json()) as SearchAnswer;
        setFound({ q, hits: a.hits.map((h) => h.n), truncated: a.truncated });
      } catch (e) {
        if (!abort.signal.aborted) setError((e as Error).message);
      }
    }, 250);
    return () => { clearTimeout(t); abort.abort(); };
  }, [find, base]);
  const needle = found?.q.toLowerCase() ?? '';
  const jump = (dir: 1 | -1) => {
    if (!found || found.hits.length === 0) return;
    const at = hashLine ?? (dir > 0 ? 0 : Infinity);
    const next = dir > 0 ? found.hits.find((n) => n > at) ?? found.hits[0] : [...found.hits].reverse().find((n) => n < at) ?? found.hits[found.hits.length - 1];
    setStick(false);
    location.hash = `L${next}`;
  };

  const rows: JSX.Element[] = [];
  for (let n = first; n <= last; n++) {
    const l = store.current.lines.get(n);
    const hit = l && needle && l.text.toLowerCase().includes(needle);
    rows.push(
      <div key={n} id={`L${n}`} class={`log-line${n === hashLine ? ' target' : ''}${hit ? ' hit' : ''}${l ? '' : ' pending'}`}>
        <a class="ln" href={`#L${n}`} aria-label={`line ${n}`}>{n}</a>
        <span class="lt">{l?.text ?? ''}</span>
      </div>,
    );
  }

  return (
    <section class="log" aria-label="task log">
      <div class="log-bar">
        <span class="muted small">{total.toLocaleString()} lines{following && <span class="live"> · following</span>}</span>
        <input type="search" placeholder="Search the log" aria-label="Search the log" value={find} onInput={(e) => setFind(e.currentTarget.value)}
          onKeyDown={(e) => { if (e.key === 'Enter') jump(e.shiftKey ? -1 : 1); }} />
        {found && (
          <span class="muted small" aria-live="polite">
            {found.hits.length}{found.truncated ? '+' : ''} matching
            {found.hits.length > 0 && <>
              {' '}<button type="button" class="btn small" onClick={() => jump(-1)} aria-label="Previous match">↑</button>
              {' '}<button type="button" class="btn small" onClick={() => jump(1)} aria-label="Next match">↓</button>
            </>}
          </span>
        )}
        <label class="small"><input type="checkbox" checked={stick} onChange={(e) => setStick(e.currentTarget.checked)} /> Tail</label>
        <button type="button" class="btn small" onClick={() => download(base, `run-${run}-${task}.log`).catch((e: Error) => setError(e.message))}>Download</button>
      </div>
      {error && <div class="alert" role="alert">Log: {error}</div>}
      <div class="log-lines" ref={box} tabIndex={0} role="log" aria-live="off" onScroll={onScroll}>
        {total === 0 && loaded && !following && <div class="muted log-empty">No output.</div>}
        <div class="log-canvas" style={{ height: `${total * lineHeight + 2 * pad}px` }}>
          <div class="log-window" style={{ top: `${pad + (first - 1) * lineHeight}px` }}>{rows}</div>
        </div>
      </div>
    </section>
  );
}

// Saves the plain-text log as a file: the answer goes into a Blob as it arrives, never split into
// lines on this thread (a plain link could not carry the bearer token).
async function download(base: string, name: string) {
  const res = await fetch(base, { headers: authHeaders(), cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
