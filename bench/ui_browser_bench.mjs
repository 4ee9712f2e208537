// The admin page in Debian's chromium against a daemon serving a seeded store
// (bench/seed_ui.sh; docs/benchmarks.md#admin-page). For each view: the time from navigation
// start until the view's content is in the DOM (a MutationObserver installed before the page's
// own script records performance.now() when the view's selector first matches), the median of
// REPEATS loads, and per load how long after the session call the view's own first call went out;
// then the longest main-thread task (PerformanceObserver 'longtask') while the
// grid page and a 10 MiB log are scrolled end to end with the mouse wheel.
// Run by hand, not a test: node bench/ui_browser_bench.mjs BASE_URL JOB RUN [REPEATS]
//   (node resolves playwright-core from web/ui/node_modules; SLUICE_CHROMIUM overrides
//   /usr/bin/chromium)
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
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

const views = [
  { name: 'jobs list', path: '/jobs', ready: 'tr[data-job]' },
  { name: 'runs list', path: '/runs', ready: 'main table tbody tr a[href^="/runs/"]' },
  { name: 'job (graph + grid)', path: `/jobs/${job}`, ready: 'table.grid a.cell[data-cell]' },
  { name: 'run', path: `/runs/${run}`, ready: '.dag' },
  { name: 'task log (10 MiB)', path: `/runs/${run}/tasks/extract/log`, ready: '.log-line' },
];

// Before the page's script: watch for the view's selector, and collect long tasks.
function probe(selector) {
  window.__ready = null;
  window.__long = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__long.push({ at: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  const check = () => {
    if (window.__ready === null && document.querySelector(selector)) window.__ready = performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
}

// How long after the session call the view's first own API call went out (Resource Timing):
// about 0 when it goes with the session, a round trip or more when it waits for the answer.
function viewCallsAfterSession() {
  const api = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.startsWith('/api/v1/'));
  const session = api.find((e) => new URL(e.name).pathname === '/api/v1/session');
  const own = api.filter((e) => e !== session && !new URL(e.name).pathname.startsWith('/api/v1/events'));
  if (!session || own.length === 0) return NaN;
  return Math.min(...own.map((e) => e.startTime)) - session.startTime;
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
const results = [];
for (const v of views) {
  const times = [];
  const after = [];
  for (let i = 0; i < repeats; i++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(probe, v.ready);
    await page.goto(base + v.path);
    await page.waitForFunction(() => window.__ready !== null, null, { timeout: 60000 });
    times.push(await page.evaluate(() => window.__ready));
    after.push(await page.evaluate(viewCallsAfterSession));
    await context.close();
  }
  results.push({
    view: v.name, first_render_ms: Math.round(median(times)), runs_ms: times.map(Math.round),
    view_call_after_session_start_ms: after.map(Math.round),
  });
}

// Scrolling: the longest task from the start of the scroll to its end.
async function scrolled(path, ready, target) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(probe, ready);
  await page.goto(base + path);
  await page.waitForFunction(() => window.__ready !== null, null, { timeout: 60000 });
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
results.push({ view: 'job grid scrolled', ...(await scrolled(`/jobs/${job}`, 'table.grid a.cell[data-cell]', 'main')) });
results.push({ view: '10 MiB log scrolled', ...(await scrolled(`/runs/${run}/tasks/extract/log`, '.log-line', '.log-lines')) });
await browser.close();
console.log(JSON.stringify(results, null, 2));
