// A long task log in chromium against the real daemon: a virtual list read a window at a time
// (the tail first), a search in the server that jumps to its hit, a deep link into the middle,
// selectable text and a download of the whole log.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { apiCall, launch, startDaemon, waitRun, type Daemon } from './harness';

const lines = 30000;
const bigJob = `
  big-log:
    tasks:
      talk:
        type: shell
        command: 'seq 1 ${lines} | sed "s/.*/row & of the big log/"'
`;

describe('a long task log', () => {
  let d: Daemon;
  let browser: Browser;
  let run = 0;

  before(async () => {
    d = await startDaemon('', undefined, bigJob);
    browser = await launch();
    run = (await apiCall(d, 'POST', '/api/v1/jobs/big-log/runs')).json.run_id as number;
    await waitRun(d, run, undefined, 60000);
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  test('opens at its tail with only the lines in view in the page, and reads earlier ones on scroll', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${d.base}/runs/${run}/tasks/talk/log`);
    const last = page.locator(`#L${lines}`);
    await last.waitFor();
    assert.ok(await last.isVisible());
    assert.match(await last.innerText(), new RegExp(`row ${lines} of the big log`));
    await page.locator('.log-bar').getByText(/^30.000 lines/).waitFor();
    const drawn = await page.locator('.log-line').count();
    assert.ok(drawn > 10 && drawn < 200, `${drawn} lines drawn`);
    // Never the whole log: windows of JSON lines only.
    assert.ok(requests.some((u) => u.includes('format=json&tail=')));
    assert.ok(!requests.some((u) => u.endsWith('/tasks/talk/logs')), 'the plain-text log is not read');

    await page.locator('.log-lines').evaluate((el) => { el.scrollTop = 0; });
    const first = page.locator('#L1');
    await first.waitFor();
    await page.locator('#L1 .lt', { hasText: 'row 1 of the big log' }).waitFor();
    assert.ok(requests.some((u) => u.includes('format=json&from=1&limit=')));
    assert.ok((await page.locator('.log-line').count()) < 200);

    // What is drawn is plain text: it can be selected and copied.
    const picked = await page.locator('#L3 .lt').evaluate((el) => {
      const s = window.getSelection()!;
      s.selectAllChildren(el);
      return s.toString();
    });
    assert.equal(picked, 'row 3 of the big log');
    await page.close();
  });

  test('a search runs in the server and jumps to its hit; a deep link opens mid-log', async () => {
    const page = await browser.newPage();
    await page.goto(`${d.base}/runs/${run}/tasks/talk/log`);
    await page.locator(`#L${lines}`).waitFor();
    const search = page.waitForRequest((r) => r.url().includes('format=json') && r.url().includes('q=ROW%2012345%20OF'));
    await page.getByLabel('Search the log').fill('ROW 12345 OF');
    await search;
    await page.getByText('1 matching').waitFor();
    await page.getByLabel('Search the log').press('Enter');
    await page.waitForURL(/#L12345$/);
    const hit = page.locator('#L12345');
    await page.locator('#L12345 .lt', { hasText: 'row 12345 of the big log' }).waitFor();
    assert.ok(await hit.isVisible());
    assert.match((await hit.getAttribute('class')) ?? '', /target/);
    assert.match((await hit.getAttribute('class')) ?? '', /hit/);

    await page.goto(`${d.base}/runs/${run}/tasks/talk/log#L20000`);
    await page.locator('#L20000 .lt', { hasText: 'row 20000 of the big log' }).waitFor();
    assert.ok(await page.locator('#L20000').isVisible());
    await page.close();
  });

  test('Download saves the whole plain-text log', async () => {
    const page = await browser.newPage();
    await page.goto(`${d.base}/runs/${run}/tasks/talk/log`);
    await page.locator(`#L${lines}`).waitFor();
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    assert.equal(file.suggestedFilename(), `run-${run}-talk.log`);
    const text = readFileSync((await file.path())!, 'utf8');
    const got = text.split('\n');
    assert.equal(got.length, lines + 1);
    assert.equal(got[0], 'row 1 of the big log');
    assert.equal(got[lines - 1], `row ${lines} of the big log`);
    await page.close();
  });
});
