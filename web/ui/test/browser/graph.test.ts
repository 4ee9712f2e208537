// A large task graph in chromium against the real daemon: its layout runs in the DAG worker (a
// hashed asset the daemon serves under the page's CSP), and all 200 boxes and their edges render
// with no CSP violation and no serious or critical axe-core finding.
import AxeBuilder from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch, startDaemon, type Daemon } from './harness';

// 10 columns of 20 noop tasks, each after two of the column before.
function wideJob(): string {
  let yaml = '  wide-graph:\n    description: Two hundred tasks.\n    tasks:\n';
  for (let l = 0; l < 10; l++) {
    for (let i = 0; i < 20; i++) {
      const deps = l === 0 ? '' : `, depends_on: [t${l - 1}_${i}, t${l - 1}_${(i + 7) % 20}]`;
      yaml += `      t${l}_${i}: {type: noop${deps}}\n`;
    }
  }
  return yaml;
}

describe('a 200-task graph', () => {
  let d: Daemon;
  let browser: Browser;

  before(async () => {
    d = await startDaemon('', undefined, wideJob());
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  test('is laid out in the worker and renders every box and edge under the CSP', async () => {
    // axe-core/playwright needs a page of an explicit context.
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const violations: string[] = [];
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { __csp: string[] }).__csp ??= [];
        (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    page.on('console', (m) => {
      if (m.type() === 'error') violations.push(m.text());
    });
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    const res = await page.goto(d.base + '/jobs/wide-graph');
    assert.ok(res?.headers()['content-security-policy']?.includes("script-src 'self'"));
    await page.locator('.dag g.node').nth(199).waitFor();
    assert.equal(await page.locator('.dag g.node').count(), 200);
    assert.equal(await page.locator('.dag path.edge').count(), 180 * 2);
    assert.equal(workers.length, 1, 'one layout worker');
    assert.match(workers[0], /\/assets\/dag-worker-[A-Z0-9]+\.js$/);
    // The last column is right of the first.
    const x = async (name: string) => (await page.locator(`.dag g.node[data-task="${name}"]`).boundingBox())!.x;
    assert.ok((await x('t9_0')) > (await x('t0_0')));
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []), []);
    assert.deepEqual(violations, []);
    const axe = await new AxeBuilder({ page }).analyze();
    const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
    assert.deepEqual(serious, []);
    await context.close();
  });

  test('a small graph still renders at once, without a worker', async () => {
    const page = await browser.newPage();
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    await page.goto(d.base + '/jobs/load-orders');
    await page.locator('.dag g.node[data-task="publish"]').waitFor();
    assert.deepEqual(workers, []);
    await page.close();
  });
});
