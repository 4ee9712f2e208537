// Every page of the real daemon in chromium, light and dark, desktop and phone: no serious or
// critical axe-core violation, and screenshots for people to judge (SLUICE_UI_SCREENSHOTS). Plus
// the browser side of the cross-site rules: a foreign page's form post and a rebinding host.
import AxeBuilder from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiCall, launch, newToken, startDaemon, waitRun, type Daemon } from './harness';

// ctest sets it to BUILD_DIR/ui-screenshots.
const shots = process.env.SLUICE_UI_SCREENSHOTS || join(tmpdir(), 'sluice-ui-screenshots');

describe('every page, light and dark, desktop and phone', () => {
  let d: Daemon;
  let browser: Browser;
  const pages: [string, string][] = [];

  before(async () => {
    d = await startDaemon('');
    browser = await launch();
    const ok = (await apiCall(d, 'POST', '/api/v1/jobs/load-orders/runs', undefined, { params: { count: '4' } })).json.run_id;
    const failed = (await apiCall(d, 'POST', '/api/v1/jobs/nightly-cleanup/runs')).json.run_id;
    const chatty = (await apiCall(d, 'POST', '/api/v1/jobs/chatty/runs')).json.run_id;
    const copy = (await apiCall(d, 'POST', '/api/v1/jobs/sync-orders/runs')).json.run_id;
    await apiCall(d, 'POST', '/api/v1/jobs/hourly-rollup/runs');
    await Promise.all([waitRun(d, ok), waitRun(d, failed), waitRun(d, chatty), waitRun(d, copy, undefined, 60000)]);
    await apiCall(d, 'POST', '/api/v1/jobs/load-orders/runs', undefined, { params: { count: '1' } });
    await apiCall(d, 'PUT', '/api/v1/variables/warehouse_password', undefined, { value: 'x', secret: true });
    await apiCall(d, 'PUT', '/api/v1/variables/region', undefined, { value: 'eu-west-1' });
    pages.push(
      ['jobs', '/jobs'],
      ['job', '/jobs/load-orders'],
      ['trigger', '/jobs/load-orders/trigger'],
      ['run', `/runs/${ok}`],
      ['failed-task', `/runs/${failed}/tasks/vacuum`],
      ['task-log', `/runs/${chatty}/tasks/talk/log`],
      ['overview', '/overview'],
      ['runs', '/runs'],
      ['copies', '/copies'],
      ['copy-task', `/runs/${copy}/tasks/load`],
      ['events', '/events?kind=audit'],
      ['backfills', '/backfills'],
      ['new-backfill', '/jobs/rebuild-views/backfill'],
      ['variables', '/variables'],
    );
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  async function settle(page: Page) {
    await page.waitForFunction(() => document.querySelector('#app')?.children.length && !document.querySelector('.loading'));
    await page.waitForTimeout(150);
  }

  test('axe-core finds no serious or critical violation on any page, light and dark', async () => {
    const problems: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      // axe-core/playwright needs a page of an explicit context.
      const context = await browser.newContext({ colorScheme: scheme });
      const page = await context.newPage();
      for (const [name, path] of pages) {
        await page.goto(d.base + path);
        await settle(page);
        const result = await new AxeBuilder({ page }).analyze();
        for (const v of result.violations) {
          if (v.impact === 'serious' || v.impact === 'critical') {
            problems.push(`${name} (${scheme}): ${v.id} ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
          }
        }
      }
      await context.close();
    }
    assert.deepEqual(problems, []);
  });

  test('screenshots at 1440x900 and 390x844, light and dark', async () => {
    mkdirSync(shots, { recursive: true });
    for (const [w, h] of [[1440, 900], [390, 844]]) {
      for (const scheme of ['light', 'dark'] as const) {
        const page = await browser.newPage({ colorScheme: scheme, viewport: { width: w, height: h }, deviceScaleFactor: 1 });
        for (const [name, path] of pages) {
          await page.goto(d.base + path);
          await settle(page);
          await page.screenshot({ path: join(shots, `${name}-${w}x${h}-${scheme}.png`) });
        }
        await page.close();
      }
    }
  });

  test('the copies page fits a 390-px phone and a 1440-px screen: nothing scrolls sideways, the main figures show', async () => {
    for (const [width, height] of [[390, 844], [1440, 900]]) {
      const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
      await page.goto(d.base + '/copies');
      const row = 'tr[data-copy="sync-orders/load"]';
      await page.locator(`${row} .badge[data-state="success"]`).waitFor();
      const widths = await page.evaluate(() => {
        const wrap = document.querySelector('.table-wrap')!;
        return { page: document.documentElement.scrollWidth, viewport: innerWidth, table: wrap.scrollWidth, wrap: wrap.clientWidth };
      });
      assert.ok(widths.page <= widths.viewport, `at ${width} px the page is ${widths.page} px wide`);
      assert.ok(widths.table <= widths.wrap, `at ${width} px the copies table is ${widths.table} px wide in its ${widths.wrap} px box`);
      for (const figure of ['rows_written', 'rows_per_second', 'lag', 'mark']) {
        assert.ok(await page.locator(`${row} [data-figure="${figure}"]`).isVisible(), `${figure} shows at ${width} px`);
      }
      assert.ok(await page.locator(`${row} .sparkline`).isVisible(), `the throughput shows at ${width} px`);
      await page.close();
    }
  });

  test('a foreign page cannot act through the browser: its form post gets 415, a rebinding host 421', async () => {
    const page = await browser.newPage();
    await page.setContent(`<form method="post" enctype="text/plain" action="${d.base}/api/v1/jobs/load-orders/pause">
      <input name='{"x":"' value='"}'><button>go</button></form>`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/pause')),
      page.getByRole('button', { name: 'go' }).click(),
    ]);
    assert.equal(response.status(), 415);
    const job = await apiCall(d, 'GET', '/api/v1/jobs/load-orders');
    assert.equal(job.json.status.paused, false, 'the job was not paused');
    const rebound = await page.goto(`http://rebind.attacker.test:${d.port}/jobs`);
    assert.equal(rebound?.status(), 421);
    const api = await page.goto(`http://rebind.attacker.test:${d.port}/api/v1/jobs`);
    assert.equal(api?.status(), 421);
    await page.close();
  });

  test('the sign-in screen passes axe in both themes', async () => {
    const t = newToken('look', 'viewer');
    const withTokens = await startDaemon(`  tokens:\n  ${t.line}\n`, 'sqlite');
    try {
      for (const scheme of ['light', 'dark'] as const) {
        const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1440, height: 900 } });
        const page = await context.newPage();
        await page.goto(withTokens.base + '/jobs');
        await page.getByLabel('Token').waitFor();
        const result = await new AxeBuilder({ page }).analyze();
        assert.deepEqual(result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id), []);
        await page.screenshot({ path: join(shots, `signin-1440x900-${scheme}.png`) });
        await context.close();
      }
    } finally {
      await withTokens.stop();
    }
  });
});
