// The page in Debian's chromium against the real daemon with tokens, on SQLite or PostgreSQL
// (SLUICE_UI_STORE) and `/metrics` closed to callers without one (server.metrics_auth): sign-in,
// roles, the overview's figures, the trigger form, live run state, the task log, the events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiCall, launch, newToken, startDaemon, waitRun, type Daemon, type Token } from './harness';

describe(`the page with tokens on ${process.env.SLUICE_UI_STORE ?? 'sqlite'}`, () => {
  let d: Daemon;
  let browser: Browser;
  let viewer: Token;
  let operator: Token;
  let admin: Token;

  before(async () => {
    viewer = newToken('dashboard', 'viewer');
    operator = newToken('ops', 'operator');
    admin = newToken('root', 'admin');
    d = await startDaemon(`  metrics_auth: true\n  tokens:\n  ${viewer.line}\n  ${operator.line}\n  ${admin.line}\n`);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  async function signedIn(token: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(d.base + '/jobs');
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('tr[data-job="load-orders"]').waitFor();
    return page;
  }

  test('sign in with a token; an unknown token is refused; sign out forgets it', async () => {
    const page = await browser.newPage();
    await page.goto(d.base + '/jobs');
    await page.getByLabel('Token').fill('sluice_not_a_real_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The server does not accept this token.').waitFor();
    await page.getByLabel('Token').fill(operator.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('tr[data-job="load-orders"]').waitFor();
    assert.equal(await page.locator('.who').getAttribute('data-role'), 'operator');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.token')), operator.token);
    assert.ok(!page.url().includes(operator.token), 'the token never goes into a URL');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice.token')), null);
    await page.close();
  });

  test('a viewer sees no mutating control, and a forced mutating call is refused with 403', async () => {
    const run = await apiCall(d, 'POST', '/api/v1/jobs/chatty/runs', operator.token);
    assert.equal(run.status, 201);
    await waitRun(d, run.json.run_id, operator.token);
    const page = await signedIn(viewer.token);
    assert.equal(await page.locator('.who').getAttribute('data-role'), 'viewer');
    assert.equal(await page.getByRole('link', { name: 'Trigger' }).count(), 0);
    assert.equal(await page.getByRole('switch').count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Variables' }).count(), 0);
    await page.goto(`${d.base}/runs/${run.json.run_id}`);
    await page.locator('.dag').waitFor();
    for (const name of ['Cancel run', 'Retry', 'Mark success', 'Mark failed']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, name);
    }
    await page.goto(`${d.base}/jobs/load-orders/trigger`);
    await page.getByText('Your role may not trigger runs.').waitFor();
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/v1/jobs/load-orders/pause', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sessionStorage.getItem('sluice.token')}` },
        body: '{}',
      });
      return r.status;
    });
    assert.equal(status, 403);
    await page.close();
  });

  test("with metrics_auth the overview reads schedule lateness from /metrics with the session's token, and says so when refused", async () => {
    const lateness = async (page: Page) => {
      const stat = page.locator('[data-stat="lateness"]');
      await page.locator('[data-stat="lateness"]:not([data-state="loading"])').waitFor({ timeout: 15000 });
      return { state: await stat.getAttribute('data-state'), text: await stat.innerText() };
    };
    // The server refuses /metrics without a token here.
    assert.equal((await fetch(d.base + '/metrics')).status, 401);
    const page = await signedIn(viewer.token);
    await page.goto(d.base + '/overview');
    const read = await lateness(page);
    assert.equal(read.state, 'read', read.text);
    assert.match(read.text, /no scheduled start yet|mean of [\d,]+ starts/);
    // A refusal is shown as one, not as a figure still on its way. Every role may read /metrics
    // (docs/api.md), so the server's 403 is played here by the browser.
    await page.route('**/metrics', (route) => route.fulfill({ status: 403, contentType: 'application/json', body: '{"error":{"code":"forbidden","message":"no"}}' }));
    await page.reload();
    const refused = await lateness(page);
    assert.equal(refused.state, 'refused', refused.text);
    assert.match(refused.text, /not allowed[\s\S]*may not read \/metrics \(403\)/);
    await page.close();
  });

  test('trigger with params through the form, a field error from the server, then the run turns success live', async () => {
    const page = await signedIn(operator.token);
    await page.locator('tr[data-job="load-orders"]').getByRole('link', { name: 'Trigger' }).click();
    await page.waitForURL(/\/jobs\/load-orders\/trigger$/);
    await page.getByLabel(/^count/).fill('many');
    await page.getByRole('button', { name: 'Trigger run' }).click();
    const fieldError = page.locator('#param-count-error');
    await fieldError.waitFor();
    assert.match(await fieldError.innerText(), /parameter 'count' must be an integer/);
    await page.getByLabel(/^count/).fill('3');
    await page.getByLabel(/^who/).fill('browser');
    await page.getByRole('button', { name: 'Trigger run' }).click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = Number(/\/runs\/(\d+)$/.exec(page.url())![1]);
    // Marks this document: a reload would lose it.
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    await page.locator('.dag .node[data-task="extract"][data-state="running"]').waitFor({ timeout: 15000 });
    // Follow the running task's log as its lines arrive.
    await page.locator('.gantt-label a', { hasText: 'extract' }).click();
    await page.getByRole('tab', { name: 'Log' }).click();
    await page.waitForURL(new RegExp(`/runs/${runId}/tasks/extract/log$`));
    await page.locator('.log-line', { hasText: 'extract browser row batch 3' }).waitFor();
    await page.locator('.log-line', { hasText: 'extract done' }).waitFor({ timeout: 15000 });
    await page.locator('.dag .node[data-task="publish"][data-state="success"]').waitFor({ timeout: 30000 });
    await page.locator('h1 .badge[data-state="success"]').waitFor({ timeout: 10000 });
    assert.ok(await page.locator('.gantt .bar[data-state="success"]').count() >= 3);
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'no reload');
    const run = await apiCall(d, 'GET', `/api/v1/runs/${runId}`, operator.token);
    // What the form left empty is the server's default.
    assert.deepEqual(run.json.params, { count: '3', mode: 'incremental', who: 'browser' });
    await page.close();
  });

  test('a deep link opens a task log at its line, and back returns to the run', async () => {
    const run = await apiCall(d, 'POST', '/api/v1/jobs/chatty/runs', operator.token);
    const id = run.json.run_id as number;
    await waitRun(d, id, operator.token);
    const page = await signedIn(operator.token);
    await page.goto(`${d.base}/runs/${id}/tasks/talk/log#L250`);
    const line = page.locator('#L250');
    await line.waitFor();
    assert.match(await line.innerText(), /line 250 of the chatty task/);
    assert.match((await line.getAttribute('class')) ?? '', /target/);
    assert.ok(await line.isVisible());
    await page.goto(`${d.base}/runs/${id}`);
    await page.locator('table a', { hasText: 'talk' }).click();
    await page.waitForURL(new RegExp(`/runs/${id}/tasks/talk$`));
    await page.getByRole('tab', { name: 'Log' }).click();
    await page.waitForURL(new RegExp(`/runs/${id}/tasks/talk/log$`));
    await page.locator('#L400').waitFor();
    await page.goBack();
    await page.waitForURL(new RegExp(`/runs/${id}/tasks/talk$`));
    await page.goBack();
    await page.waitForURL(new RegExp(`/runs/${id}$`));
    await page.locator('table a', { hasText: 'talk' }).waitFor();
    await page.close();
  });

  test('backfill: the dry-run plan first, then create, pause, resume and watch it finish', async () => {
    const page = await signedIn(operator.token);
    const hour = 3600000;
    const end = Math.floor(Date.now() / hour) * hour - hour;
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');
    await page.goto(`${d.base}/jobs/rebuild-views/backfill`);
    await page.getByLabel(/^Start/).fill(iso(end - 6 * hour));
    await page.getByLabel(/^End/).fill(iso(end));
    await page.getByLabel('Active at once').fill('1');
    await page.getByRole('button', { name: 'Preview' }).click();
    const plan = page.getByLabel('plan');
    await plan.waitFor();
    assert.match(await plan.innerText(), /6 runs, 0 intervals skipped, of 6/);
    assert.equal(await plan.locator('tbody tr').count(), 6);
    await page.getByRole('button', { name: 'Create backfill of 6 runs' }).click();
    await page.waitForURL(/\/backfills\/\d+$/);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('h1 .badge[data-state="paused"]').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('h1 .badge[data-state="running"]').waitFor();
    await page.locator('h1 .badge[data-state="success"]').waitFor({ timeout: 60000 });
    assert.equal(await page.getByRole('progressbar').getAttribute('aria-valuenow'), '100');
    await page.close();
  });

  test('cancel a running run, retry a failed one, mark a task: each after a confirmation', async () => {
    const page = await signedIn(operator.token);
    const long = (await apiCall(d, 'POST', '/api/v1/jobs/long-export/runs', operator.token)).json.run_id as number;
    await page.goto(`${d.base}/runs/${long}`);
    await page.locator('.dag .node[data-task="export"][data-state="running"]').waitFor({ timeout: 15000 });
    await page.getByRole('button', { name: 'Cancel run' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Keep' }).click();
    await page.waitForTimeout(300);
    assert.equal((await apiCall(d, 'GET', `/api/v1/runs/${long}`, operator.token)).json.state, 'running', 'Keep changes nothing');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('h1 .badge[data-state="canceled"]').waitFor({ timeout: 15000 });

    const failed = (await apiCall(d, 'POST', '/api/v1/jobs/nightly-cleanup/runs', operator.token)).json.run_id as number;
    await waitRun(d, failed, operator.token);
    await page.goto(`${d.base}/runs/${failed}`);
    await page.locator('h1 .badge[data-state="failed"]').waitFor();
    await page.getByRole('button', { name: 'Retry' }).click();
    await dialog.getByRole('button', { name: 'Retry' }).click();
    // The rerun fails again (the archive is still down): the task has a third try now.
    await page.locator('h1 .badge[data-state="failed"]').waitFor({ timeout: 30000 });
    await page.waitForFunction(async (id) => {
      const r = await fetch(`/api/v1/runs/${id}`, { headers: { Authorization: `Bearer ${sessionStorage.getItem('sluice.token')}` } });
      const j = await r.json();
      return j.state === 'failed' && j.tasks[0].try_number >= 3;
    }, failed, { timeout: 30000 });

    await page.locator('table a', { hasText: 'vacuum' }).click();
    await page.getByRole('button', { name: 'Mark success' }).click();
    await dialog.getByRole('button', { name: 'Mark success' }).click();
    await page.locator('.task-panel .card-title .badge[data-state="success"]').waitFor({ timeout: 15000 });
    await page.locator('h1 .badge[data-state="success"]').waitFor({ timeout: 15000 });
    await page.close();
  });

  test("a running task's reported progress moves on its page without a reload", async () => {
    const page = await signedIn(operator.token);
    const id = (await apiCall(d, 'POST', '/api/v1/jobs/count-rows/runs', operator.token)).json.run_id as number;
    await page.goto(`${d.base}/runs/${id}/tasks/count`);
    const rows = page.locator('.metrics div', { hasText: 'rows' }).locator('dd');
    await rows.waitFor({ timeout: 15000 });
    const first = Number((await rows.innerText()).replace(/,/g, ''));
    await page.waitForFunction((n) => {
      const dd = [...document.querySelectorAll('.metrics div')].find((d) => d.querySelector('dt')?.textContent === 'rows')?.querySelector('dd');
      return dd && Number(dd.textContent!.replace(/,/g, '')) > n;
    }, first, { timeout: 15000 });
    assert.equal(await page.locator('.task-panel .card-title .badge').getAttribute('data-state'), 'running', 'it moved while the task ran');
    await page.locator('.task-panel .card-title .badge[data-state="success"]').waitFor({ timeout: 20000 });
    assert.equal(await rows.innerText(), '6,000');
    // What the task published is on its details once it succeeded.
    const output = page.locator('table[aria-label="outputs"] tr', { hasText: 'batch_id' }).locator('pre');
    await output.waitFor({ timeout: 15000 });
    assert.equal(await output.innerText(), 'b-42');
    await page.close();
  });

  test('a running copy task shows rows and lag moving, on the copies page and on its task page', async () => {
    const page = await signedIn(operator.token);
    const id = (await apiCall(d, 'POST', '/api/v1/jobs/sync-orders/runs', operator.token)).json.run_id as number;
    await page.getByRole('link', { name: 'Copies' }).click();
    await page.waitForURL(/\/copies$/);
    const row = 'tr[data-copy="sync-orders/load"]';
    await page.locator(`${row}[data-live="true"]`).waitFor({ timeout: 20000 });
    // The figures a row shows, read in the page.
    const figures = (sel: string) => page.evaluate((sel) => {
      const r = document.querySelector(sel);
      const f = (n: string) => r?.querySelector(`[data-figure="${n}"]`)?.textContent ?? '';
      return { rows: f('rows_written'), lag: f('lag'), live: r?.getAttribute('data-live') ?? '' };
    }, sel);
    const first = await figures(row);
    await page.waitForFunction(([sel, rows, lag]) => {
      const r = document.querySelector(sel);
      const f = (n: string) => r?.querySelector(`[data-figure="${n}"]`)?.textContent ?? '';
      return r?.getAttribute('data-live') === 'true' && f('rows_written') !== rows && f('lag') !== lag && f('lag') !== '—';
    }, [row, first.rows, first.lag] as const, { timeout: 15000 });
    assert.equal((await figures(row)).live, 'true', 'it moved while the copy ran');
    await page.locator(`${row} .sparkline`).waitFor();

    // The same copy's task page: its reported rows and lag move too, and the throughput is drawn.
    await page.locator(`${row} a.mono`).click();
    await page.waitForURL(new RegExp(`/runs/${id}/tasks/load$`));
    const metric = (name: string) => page.evaluate((name) => {
      const div = [...document.querySelectorAll('.metrics div')].find((d) => d.querySelector('dt')?.textContent === name);
      return div?.querySelector('dd')?.textContent ?? '';
    }, name);
    await page.locator('.metrics dt', { hasText: 'lag_seconds' }).waitFor({ timeout: 15000 });
    const rows = await metric('rows_written');
    const lag = await metric('lag_seconds');
    await page.waitForFunction(([rows, lag]) => {
      const value = (name: string) => [...document.querySelectorAll('.metrics div')].find((d) => d.querySelector('dt')?.textContent === name)?.querySelector('dd')?.textContent;
      return value('rows_written') !== rows && value('lag_seconds') !== lag;
    }, [rows, lag] as const, { timeout: 15000 });
    assert.equal(await page.locator('.task-panel .card-title .badge').getAttribute('data-state'), 'running', 'it moved while the copy ran');
    await page.locator('.task-spark[data-series="reports"] .sparkline').waitFor({ timeout: 10000 });

    // Once it ends, its page draws what the copies page draws for an ended copy: the rows/s of
    // its recent runs (here only this one), this run's point marked.
    await page.locator('.task-panel .card-title .badge[data-state="success"]').waitFor({ timeout: 60000 });
    const history = page.locator('.task-spark[data-series="runs"] .sparkline');
    await history.waitFor({ timeout: 15000 });
    assert.equal(await history.locator('circle.spark-dot').count(), 1, "this run's point is marked");
    assert.match(await history.getAttribute('aria-label') ?? '', new RegExp(`^rows per second of the last 1 run, run ${id} at \\d`));
    assert.equal(await page.locator('.task-spark[data-series="reports"]').count(), 0, 'the live series is gone once it ended');

    // And the copies page shows its last attempt's stored figures.
    await page.goto(`${d.base}/copies`);
    await page.locator(`${row}[data-live="false"] .badge[data-state="success"]`).waitFor({ timeout: 15000 });
    const done = await figures(row);
    assert.equal(done.rows, '160');
    assert.equal(done.lag, '0 ms');
    await page.close();
  });

  test('an admin sets a secret and a plain variable, sees only the plain value, deletes one', async () => {
    const page = await signedIn(admin.token);
    await page.getByRole('link', { name: 'Variables' }).click();
    await page.waitForURL(/\/variables$/);
    for (const [key, value, secret] of [['warehouse_password', 's3cr3t-value', true], ['region', 'eu-west-1', false]] as const) {
      await page.getByLabel('Key').fill(key);
      if (secret) await page.getByLabel('Secret (write-only)').check();
      await page.getByLabel('Value').fill(value);
      await page.getByRole('button', { name: 'Set variable' }).click();
      await page.locator(`tr[data-key="${key}"]`).waitFor();
    }
    assert.equal(await page.locator('tr[data-key="region"] td').nth(1).innerText(), 'eu-west-1');
    assert.equal(await page.locator('tr[data-key="warehouse_password"] td').nth(1).innerText(), 'secret');
    assert.ok(!(await page.content()).includes('s3cr3t-value'), 'a secret value never reaches the page');
    await page.locator('tr[data-key="region"]').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.locator('tr[data-key="region"]').waitFor({ state: 'detached' });
    assert.equal((await apiCall(d, 'GET', '/api/v1/variables/warehouse_password', admin.token)).json.secret, true);
    await page.close();
  });

  test('the events page shows the newest first, reads back 100 at a time and puts live events on top once', async () => {
    // Each mutating call is an audit event: enough of them for two pages.
    for (let i = 0; i < 110; i++) {
      assert.equal((await apiCall(d, 'PUT', `/api/v1/variables/bulk_${i}`, admin.token, { value: String(i) })).status, 200);
    }
    type Audit = { id: number; payload: { path?: string } };
    const audits = async () => (await apiCall(d, 'GET', '/api/v1/events?kind=audit&limit=1000', admin.token)).json.events as Audit[];
    const audit = async () => (await audits()).map((e) => e.id);
    // Audit records are stored after the calls answer: wait for all 110 before reading the newest.
    const bulk = (events: Audit[]) => events.filter((e) => (e.payload.path ?? '').startsWith('/api/v1/variables/bulk_')).length;
    let stored: Audit[] = [];
    for (const deadline = Date.now() + 10000; bulk(stored) < 110 && Date.now() < deadline;) stored = await audits();
    assert.equal(bulk(stored), 110, 'every audit record stored');
    const page = await signedIn(admin.token);
    await page.goto(d.base + '/events?kind=audit');
    const rows = page.locator('main table tbody tr');
    const ids = () => page.locator('main table tbody tr td:first-child').allInnerTexts().then((t) => t.map(Number));
    await rows.nth(99).waitFor();
    const first = await ids();
    assert.equal(first.length, 100, 'the first page only');
    const newest = stored.map((e) => e.id).reverse();
    assert.deepEqual(first, newest.slice(0, 100), 'the newest 100, newest first');

    // A call made now comes live, on top, once.
    assert.equal((await apiCall(d, 'PUT', '/api/v1/variables/live_one', admin.token, { value: 'x' })).status, 200);
    await rows.nth(100).waitFor();
    const live = await ids();
    assert.ok(live[0] > first[0], `${live[0]} is newer than ${first[0]}`);
    assert.deepEqual(live.slice(1), first, 'the rest as it was');

    await page.getByRole('button', { name: 'Load 100 more' }).click();
    await rows.nth(101).waitFor();
    const all = await ids();
    assert.ok(all.every((id, i) => i === 0 || id < all[i - 1]), 'newest first, none twice');
    assert.deepEqual(all.slice(0, 101), live);
    const now = [...(await audit())].reverse();
    if (now.length <= 200) {
      // Read back to the oldest: every stored audit event once, and no further page to ask for.
      assert.deepEqual(all, now);
      assert.equal(await page.getByRole('button', { name: 'Load 100 more' }).count(), 0);
    } else {
      assert.deepEqual(all, now.slice(0, 201));
    }
    await page.close();
  });
});
