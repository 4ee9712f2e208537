import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyEventList, liveRoom, withLive, withPage } from '../../src/lib/event_list';

const ev = (id: number | string | null, kind = 'audit') => ({ id, kind });
const ids = (rows: { id: number | string | null }[]) => rows.map((r) => r.id);

test('pages read back go below, each event once, newest first', () => {
  let l = withPage(emptyEventList(), [ev(10), ev(9), ev(8)], 8);
  l = withPage(l, [ev(7), ev(6)], null);
  assert.deepEqual(ids(l.rows), [10, 9, 8, 7, 6]);
  assert.equal(l.before, null);
});

test('live events go on top once, the stream giving ids as strings', () => {
  let l = withPage(emptyEventList(), [ev(10), ev(9)], 9);
  l = withLive(l, ev('11'));
  l = withLive(l, ev('11'));
  l = withLive(l, ev('10'));
  assert.deepEqual(ids(l.rows), ['11', 10, 9]);
  assert.equal(l.before, 9);
});

test('live events that came before the first page are merged with it in id order', () => {
  let l = withLive(emptyEventList(), ev('101'));
  assert.equal(l.before, undefined, 'no page read yet');
  l = withPage(l, [ev(102), ev(101), ev(100)], 100);
  assert.deepEqual(ids(l.rows), [102, '101', 100]);
  l = withLive(l, ev('102'));
  assert.deepEqual(ids(l.rows), [102, '101', 100]);
});

test('past the bound the oldest rows go and the cursor moves back to the oldest kept', () => {
  const page = Array.from({ length: 100 }, (_, i) => ev(1000 - i));
  let l = withPage(emptyEventList(), page, 901);
  for (let i = 1; i <= liveRoom + 3; i++) l = withLive(l, ev(String(1000 + i)));
  assert.equal(l.rows.length, 100 + liveRoom);
  assert.equal(l.rows[0].id, String(1000 + liveRoom + 3));
  assert.equal(l.before, 904, 'Load more reads what was dropped again');
  l = withPage(l, [ev(903), ev(902), ev(901)], 901);
  assert.ok(ids(l.rows).every((id, i, a) => i === 0 || Number(id) < Number(a[i - 1])), 'no gap, no repeat');
});
