// The admin page in Debian's chromium against a daemon serving a seeded store
// (bench/seed_ui.sh; docs/benchmarks.md#admin-page). For each view of the page (main.tsx's
// routes), over REPEATS loads in fresh contexts: the time from navigation start until the view's
// data is drawn (median and longest), per load how long after the session call the view's own
// first call went out, and (medians) the time from the last answer drawn until drawn and the
// longest main-thread task (PerformanceObserver 'longtask') before it; then the longest task
// while the grid page and a 10 MiB log are scrolled end to end with the mouse wheel.
// "Drawn" is measured by a MutationObserver installed before the page's own script: it records
// performance.now() when every one of the view's `ready` selectors matches (each names an element
// only its arrived data produces: a row, a cell, a tick, never a heading of the empty shell) and
// no placeholder is left (common.tsx's Loading, the overview's "…" figures).
// VIEWS=overview,events (names as below) times only those, and skips the scrolling.
// When a view does not get there in 60 s, its page (HTML and a screenshot) is left in DUMP_DIR
// (default: the system's temp directory) with the selectors that did not match.
// Run by hand, not a test: node bench/ui_browser_bench.mjs BASE_URL JOB RUN [REPEATS]
//   (RUN: the run whose extract holds the 10 MiB log, JOB: its job, as bench/seed_ui.sh seeds
//   them; node resolves playwright-core from web/ui/node_modules; SLUICE_CHROMIUM overrides
//   /usr/bin/chromium)
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'web', 'ui', 'package.json'));
const { chromium } = require('playwright-core');

const [base, job, run, repeatsArg] = process.argv.slice(2);
if (!base || !job || !run) {
  console.error('usage: node bench/ui_browser_bench.mjs BASE_URL JOB RUN [REPEATS]');
  process.exit(2);
}
const repeats = Number(repeatsArg ?? 5);

const dumpDir = process.env.DUMP_DIR ?? tmpdir();

// Every view main.tsx routes to, with what marks its data drawn. The overview waits for its
// readiness and reload badges, a fire on the timeline, a failed run and a next fire (its
// lateness figure counts through the "…" check).
const views = [
  { name: 'overview', path: '/overview', ready: ['.stat-value .badge', '.tl-tick', 'section.card a[href^="/runs/"]', 'section.card .time.rel'] },
  { name: 'jobs list', path: '/jobs', ready: ['tr[data-job]'] },
  { name: 'runs list', path: '/runs', ready: ['main table tbody tr a[href^="/runs/"]'] },
  { name: 'job (graph + grid)', path: `/jobs/${job}`, ready: ['.dag', 'table.grid a.cell[data-cell]', 'main table tbody tr a[href^="/runs/"]'] },
  { name: 'trigger form', path: `/jobs/${job}/trigger`, ready: ['form.card button[type="submit"]'] },
  { name: 'new backfill form', path: `/jobs/${job}/backfill`, ready: ['#bf-start'] },
  { name: 'run', path: `/runs/${run}`, ready: ['.dag', 'main table tbody a[href*="/tasks/"]'] },
  { name: 'task', path: `/runs/${run}/tasks/load`, ready: ['.task-details table tbody td.num'] },
  { name: 'task log (10 MiB)', path: `/runs/${run}/tasks/extract/log`, ready: ['.log-line'] },
  { name: 'copies', path: '/copies', ready: ['tr[data-copy] svg.sparkline'] },
  { name: 'backfills', path: '/backfills', ready: ['main table tbody a[href^="/backfills/"]', '.progress'] },
  { name: 'backfill', path: '/backfills/1', ready: ['dl.metrics dd'] },
  { name: 'events', path: '/events', ready: ['main table tbody td code'] },
  { name: 'variables', path: '/variables', ready: ['tr[data-key]'] },
];

// What the probe logs once the view is drawn. The bench waits for that message rather than
// polling with page.waitForFunction: Playwright runs its injected script in the page for that,
// 30-70 ms of the page's main thread in the middle of the load being timed
// (docs/benchmarks.md#admin-page-first-render).
const drawnMessage = 'sluice-bench: drawn';

// Before the page's script: watch for the view's selectors, and collect long tasks.
function probe({ selectors, drawnMessage }) {
  window.__ready = null;
  window.__long = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__long.push({ at: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  const placeholder = () => document.querySelector('.loading') ||
    [...document.querySelectorAll('.stat-value')].some((e) => e.textContent === '…');
  const check = () => {
    if (window.__ready !== null || !selectors.every((s) => document.querySelector(s)) || placeholder()) return;
    window.__ready = performance.now();
    console.debug(drawnMessage);
  };
  // Text changes too: the overview's figures replace their "…" in place.
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
}

// Opens the view and waits for the probe; on a timeout leaves the page where it can be read and
// says what is missing.
async function open(page, v) {
  await page.addInitScript(probe, { selectors: v.ready, drawnMessage });
  const drawn = page.waitForEvent('console', { predicate: (m) => m.text() === drawnMessage, timeout: 60000 });
  drawn.catch(() => undefined);  // when the navigation fails, its error is the one reported
  try {
    await page.goto(base + v.path);
    await drawn;
  } catch (e) {
    const stem = join(dumpDir, `ui-bench-${v.name.replace(/\W+/g, '-')}`);
    writeFileSync(stem + '.html', await page.content());
    await page.screenshot({ path: stem + '.png', fullPage: true });
    const missing = await page.evaluate((sels) => sels.filter((s) => !document.querySelector(s)), v.ready);
    throw new Error(`${v.name}: not drawn in 60 s; missing ${JSON.stringify(missing)}; page in ${stem}.html and .png`, { cause: e });
  }
}

// From Resource Timing: how long after the session call the view's first own API call went out
// (about 0 when it goes with the session, a round trip or more when it waits for the answer), and
// when the last answer drawn had arrived (the last fetch that ended before the view was drawn):
// the first render less that is the page's own work after its data.
function callTimes() {
  const fetches = performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch');
  const api = fetches.filter((e) => new URL(e.name).pathname.startsWith('/api/v1/'));
  const session = api.find((e) => new URL(e.name).pathname === '/api/v1/session');
  // The event stream is GET /api/v1/events without a query; the events view's page has one.
  const own = api.filter((e) => e !== session && !(new URL(e.name).pathname === '/api/v1/events' && !new URL(e.name).search));
  const ended = fetches.filter((e) => e.responseEnd > 0 && e.responseEnd <= window.__ready);
  return {
    after: session && own.length ? Math.min(...own.map((e) => e.startTime)) - session.startTime : NaN,
    data: Math.max(0, ...ended.map((e) => e.responseEnd)),
    longest: Math.max(0, ...window.__long.filter((l) => l.at <= window.__ready).map((l) => l.ms)),
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const browser = await chromium.launch({
  executablePath: process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium',
  // As the browser tests launch it (web/ui/test/browser/harness.ts): root in a container needs
  // --no-sandbox, and a small /dev/shm (64 MiB in Docker) stalls the renderer until the
  // navigation times out, so shared memory goes to /tmp instead.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const only = process.env.VIEWS?.split(',');
const results = [];
for (const v of views.filter((x) => !only || only.includes(x.name))) {
  const times = [];
  const after = [];
  const drawing = [];
  const longest = [];
  for (let i = 0; i < repeats; i++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await open(page, v);
    const at = await page.evaluate(() => window.__ready);
    const calls = await page.evaluate(callTimes);
    times.push(at);
    after.push(calls.after);
    drawing.push(at - calls.data);
    longest.push(calls.longest);
    await context.close();
  }
  results.push({
    view: v.name, path: v.path, first_render_ms: Math.round(median(times)),
    max_ms: Math.round(Math.max(...times)), runs_ms: times.map(Math.round),
    after_last_answer_ms: Math.round(median(drawing)),
    longest_task_ms: Math.round(median(longest)),
    view_call_after_session_start_ms: after.map(Math.round),
  });
}

// Scrolling: the longest task from the start of the scroll to its end.
async function scrolled(v, target) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await open(page, v);
  await page.waitForTimeout(500);
  const from = await page.evaluate(() => performance.now());
  const box = await page.locator(target).boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 300));
  const height = await page.locator(target).evaluate((el) => el.scrollHeight);
  const steps = Math.min(400, Math.ceil(height / 600));
  for (let i = 0; i < steps; i++) {
    await page.mouse.wheel(0, 600);
    await page.waitForTimeout(16);
  }
  for (let i = 0; i < 60; i++) {
    await page.mouse.wheel(0, -Math.ceil(height / 60));
    await page.waitForTimeout(16);
  }
  await page.waitForTimeout(300);
  const longest = await page.evaluate((t0) => Math.max(0, ...window.__long.filter((l) => l.at >= t0).map((l) => l.ms)), from);
  const load = await page.evaluate(() => Math.max(0, ...window.__long.map((l) => l.ms)));
  await context.close();
  return { longest_task_while_scrolling_ms: Math.round(longest), longest_task_including_load_ms: Math.round(load), scroll_height_px: height };
}
const view = (name) => views.find((v) => v.name === name);
if (!only) {
  results.push({ view: 'job grid scrolled', ...(await scrolled(view('job (graph + grid)'), 'main')) });
  results.push({ view: '10 MiB log scrolled', ...(await scrolled(view('task log (10 MiB)'), '.log-lines')) });
}
await browser.close();
console.log(JSON.stringify(results, null, 2));
