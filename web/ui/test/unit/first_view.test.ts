// The calls each view makes first, asked for with the session call (src/first_view.ts): every
// section of the page names them from its URL alone, with the same strings the view reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstViewCalls, firstViewReads } from '../../src/first_view';

const calls = (url: string) => {
  const u = new URL(url, 'http://sluice.test');
  return firstViewCalls(u.pathname, u.searchParams);
};

test('the list views: their first page, with the filters of the URL', () => {
  assert.deepEqual(calls('/'), ['/api/v1/jobs']);
  assert.deepEqual(calls('/jobs?q=load'), ['/api/v1/jobs']);
  assert.deepEqual(calls('/runs'), ['/api/v1/runs?limit=50']);
  assert.deepEqual(calls('/runs?job=load-orders&state=failed'), ['/api/v1/runs?limit=50&job=load-orders&state=failed']);
  assert.deepEqual(calls('/copies?job=sync orders'), ['/api/v1/copies?job=sync%20orders']);
  assert.deepEqual(calls('/events?kind=audit&actor=ops'), ['/api/v1/events?limit=100&order=newest_first&kind=audit']);
  assert.deepEqual(calls('/backfills'), ['/api/v1/backfills?limit=100']);
  assert.deepEqual(calls('/variables'), ['/api/v1/variables']);
  assert.deepEqual(calls('/overview'), ['/api/v1/schedule?hours=24', '/api/v1/jobs', '/api/v1/runs?state=failed&limit=8']);
});

test('the detail views: what their path names', () => {
  assert.deepEqual(calls('/jobs/load%2Forders'), ['/api/v1/jobs/load%2Forders', '/api/v1/jobs/load%2Forders/grid?limit=25']);
  assert.deepEqual(calls('/jobs/load-orders/trigger'), ['/api/v1/jobs/load-orders']);
  assert.deepEqual(calls('/runs/42'), ['/api/v1/runs/42']);
  assert.deepEqual(calls('/runs/42/tasks/extract'), ['/api/v1/runs/42']);
  assert.deepEqual(calls('/runs/42/tasks/extract/log#L120'), ['/api/v1/runs/42']);
  assert.deepEqual(calls('/backfills/7'), ['/api/v1/backfills/7']);
});

test('nothing for what is not a view or names no valid id', () => {
  assert.deepEqual(calls('/runs/abc'), []);
  assert.deepEqual(calls('/backfills/x'), []);
  assert.deepEqual(calls('/jobs/load-orders/backfill'), []);
  assert.deepEqual(calls('/nowhere'), []);
});

test('the overview also reads /readyz, /livez and /metrics with the session call', () => {
  assert.deepEqual(firstViewReads('/overview'), ['/readyz', '/livez', '/metrics']);
  assert.deepEqual(firstViewReads('/jobs'), []);
  assert.deepEqual(firstViewReads('/runs'), []);
});
