// The events view's rows: stored events newest first (docs/ui.md#events), from the first page,
// the pages read back with `before`, and the live stream prepending what comes. Pure, so that
// ordering, duplicates and the bound are testable without a browser.

export interface ListedEvent {
  id: number | string | null;
}

export interface EventList<T extends ListedEvent> {
  rows: T[];                      // newest first; an event without a store id stays where it came
  before: number | null | undefined;  // the next older page's cursor; undefined before the first page, null at the oldest
  cap: number;                    // rows kept: the pages read plus `liveRoom` for live ones
}

// Live events kept beyond the pages read: past it the oldest rows go, and the cursor moves back
// so that "Load more" reads them again rather than leave a gap.
export const liveRoom = 500;

export const emptyEventList = <T extends ListedEvent>(): EventList<T> => ({ rows: [], before: undefined, cap: liveRoom });

const idOf = (e: ListedEvent): number | null => (e.id === null || e.id === '' ? null : Number(e.id));

// `rows` without a stored id seen earlier in it (the first copy wins), ordered newest first; an
// event without an id keeps its place relative to the one after it.
function ordered<T extends ListedEvent>(rows: T[]): T[] {
  const seen = new Set<number>();
  const out: T[] = [];
  for (const e of rows) {
    const id = idOf(e);
    if (id !== null) {
      if (seen.has(id)) continue;
      seen.add(id);
    }
    out.push(e);
  }
  const sorted = out.every((e, i) => {
    const a = idOf(e);
    const b = i + 1 < out.length ? idOf(out[i + 1]) : null;
    return a === null || b === null || a > b;
  });
  if (sorted) return out;
  return out.map((e, i) => ({ e, i })).sort((x, y) => {
    const a = idOf(x.e);
    const b = idOf(y.e);
    return a === null || b === null ? x.i - y.i : b - a;
  }).map((x) => x.e);
}

// A page read with `before` (or the first page): older than what is listed, except that live
// events may have come before the first page did, and the page may hold some of them.
export function withPage<T extends ListedEvent>(list: EventList<T>, page: T[], nextBefore: number | null): EventList<T> {
  return { rows: ordered([...list.rows, ...page]), before: nextBefore, cap: list.cap + page.length };
}

// A live event at the top, once. Past the bound the oldest rows go and `before` becomes the
// oldest stored id still shown.
export function withLive<T extends ListedEvent>(list: EventList<T>, e: T): EventList<T> {
  let rows = ordered([e, ...list.rows]);
  if (rows.length === list.rows.length) return list;
  let before = list.before;
  if (rows.length > list.cap) {
    rows = rows.slice(0, list.cap);
    const oldest = [...rows].reverse().find((r) => idOf(r) !== null);
    if (before !== undefined && oldest) before = idOf(oldest);
  }
  return { rows, before, cap: list.cap };
}
