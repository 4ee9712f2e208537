// A task's log: the stored lines, or, while the task runs, followed live (fetch streaming of the
// server's event stream: the token stays in a header). Line numbers are links (#L12) so a line
// can be pasted to a colleague; the tail is rendered first so a huge log never freezes the tab.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { authHeaders, seg } from '../lib/api';
import { SseParser } from '../lib/sse';

const shownAtOnce = 5000;

interface LogState {
  lines: string[];
  following: boolean;
  error: string | null;
}

export function LogView({ run, task, active, hashLine }: { run: number; task: string; active: boolean; hashLine: number | null }) {
  const [log, setLog] = useState<LogState>({ lines: [], following: false, error: null });
  const [all, setAll] = useState(false);
  const [find, setFind] = useState('');
  const [stick, setStick] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const base = `/api/v1/runs/${run}/tasks/${seg(task)}/logs`;

  useEffect(() => {
    const abort = new AbortController();
    setLog({ lines: [], following: active, error: null });
    (async () => {
      try {
        if (!active) {
          const res = await fetch(base, { headers: authHeaders(), signal: abort.signal, cache: 'no-store' });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          const text = await res.text();
          const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text ? text.split('\n') : [];
          setLog({ lines, following: false, error: null });
          return;
        }
        const res = await fetch(base + '?follow=1', {
          headers: { ...authHeaders(), Accept: 'text/event-stream' },
          signal: abort.signal,
          cache: 'no-store',
        });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let pending: string[] = [];
        let flush: ReturnType<typeof setTimeout> | null = null;
        const push = () => {
          flush = null;
          const add = pending;
          pending = [];
          setLog((l) => ({ ...l, lines: l.lines.concat(add) }));
        };
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const ev of parser.feed(value)) {
            if (ev.event === 'line') {
              try {
                pending.push((JSON.parse(ev.data) as { text: string }).text);
              } catch {
                // a malformed line event is skipped
              }
            }
          }
          if (pending.length && flush === null) flush = setTimeout(push, 50);
        }
        if (flush !== null) clearTimeout(flush);
        push();
        setLog((l) => ({ ...l, following: false }));
      } catch (e) {
        if (!abort.signal.aborted) setLog((l) => ({ ...l, following: false, error: (e as Error).message }));
      }
    })();
    return () => abort.abort();
  }, [base, active]);

  const total = log.lines.length;
  const from = all || (hashLine !== null && hashLine <= total - shownAtOnce) ? 0 : Math.max(0, total - shownAtOnce);
  const needle = find.toLowerCase();
  const matches = useMemo(() => (needle ? log.lines.reduce((n, l) => n + (l.toLowerCase().includes(needle) ? 1 : 0), 0) : 0), [log.lines, needle]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    if (hashLine !== null) {
      const line = el.querySelector(`#L${hashLine}`);
      if (line) line.scrollIntoView({ block: 'center' });
    } else if (stick) {
      el.scrollTop = el.scrollHeight;
    }
  }, [total, hashLine]);

  return (
    <section class="log" aria-label="task log">
      <div class="log-bar">
        <span class="muted small">{total.toLocaleString()} lines{log.following && <span class="live"> · following</span>}</span>
        <input type="search" placeholder="Find in log" aria-label="Find in log" value={find} onInput={(e) => setFind(e.currentTarget.value)} />
        {needle && <span class="muted small">{matches} matching</span>}
        <label class="small"><input type="checkbox" checked={stick} onChange={(e) => setStick(e.currentTarget.checked)} /> Tail</label>
        <button type="button" class="btn small" onClick={() => download(`run-${run}-${task}.log`, log.lines)}>Download</button>
      </div>
      {log.error && <div class="alert" role="alert">Log: {log.error}</div>}
      {from > 0 && (
        <button type="button" class="btn small log-more" onClick={() => setAll(true)}>Show {from.toLocaleString()} earlier lines</button>
      )}
      <div class="log-lines" ref={box} tabIndex={0} role="log" aria-live="off">
        {total === 0 && !log.following && <div class="muted log-empty">No output.</div>}
        {log.lines.slice(from).map((text, i) => {
          const n = from + i + 1;
          const hit = needle && text.toLowerCase().includes(needle);
          return (
            <div key={n} id={`L${n}`} class={`log-line${n === hashLine ? ' target' : ''}${hit ? ' hit' : ''}`}>
              <a class="ln" href={`#L${n}`} aria-label={`line ${n}`}>{n}</a>
              <span class="lt">{text}</span>
            </div>
          );
        })}
      </div>
    </section>
  );
}

// Saves the lines as a file from memory: a plain link could not carry the bearer token.
function download(name: string, lines: string[]) {
  const url = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
