import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from '../../src/lib/sse';
import { EventStream, backoff, type ServerEvent, type StreamStatus } from '../../src/lib/stream';

test('the parser joins events split at any byte and skips comments', () => {
  const text = ': keepalive\n\nid: 7\nevent: run.state\ndata: {"kind":"run.state","run":3}\n\nid: 8\r\nevent: task.state\r\ndata: {"a":\r\ndata: 1}\r\n\r\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const p = new SseParser();
    const events = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
    assert.equal(events.length, 2, `cut at ${cut}`);
    assert.deepEqual(events[0], { id: '7', event: 'run.state', data: '{"kind":"run.state","run":3}' });
    assert.deepEqual(events[1], { id: '8', event: 'task.state', data: '{"a":\n1}' });
    assert.equal(p.lastEventId, '8');
  }
});

test('backoff doubles from half a second and stops at 30 s', () => {
  assert.deepEqual([0, 1, 2, 3].map(backoff), [500, 1000, 2000, 4000]);
  assert.equal(backoff(10), 30000);
  assert.equal(backoff(1000), 30000);
});

function streamOf(chunks: string[], status = 200): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
      c.close();
    },
  });
  return new Response(body, { status, headers: { 'Content-Type': 'text/event-stream' } });
}

test('a dropped stream reconnects with Last-Event-ID and the listeners see every event once', async () => {
  const calls: Record<string, string>[] = [];
  const sleeps: number[] = [];
  const replies = [
    () => streamOf(['id: 1\nevent: run.state\ndata: {"id":1,"kind":"run.state","run":1}\n\n', 'id: 2\nevent: run.state\ndata: {"id":2,"kind":"run.state","run":2}\n\n']),
    () => Promise.reject(new TypeError('network down')),
    // The replay overlaps what was seen (2): it is not delivered again.
    () => streamOf(['id: 2\nevent: run.state\ndata: {"id":2,"kind":"run.state","run":2}\n\n', 'id: 3\nevent: task.state\ndata: {"id":3,"kind":"task.state","run":2,"task":"t"}\n\n']),
  ];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const s: EventStream = new EventStream({
    fetch: (_url, init) => {
      calls.push({ ...(init.headers as Record<string, string>) });
      const next = replies.shift();
      if (!next) {
        s.stop();
        done();
        return new Promise<Response>(() => {});
      }
      return Promise.resolve(next());
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    headers: () => ({ Authorization: 'Bearer t0k' }),
  });
  const seen: ServerEvent[] = [];
  const statuses: StreamStatus[] = [];
  s.subscribe((e) => seen.push(e));
  s.onStatus((st) => statuses.push(st));
  s.start();
  await finished;
  assert.deepEqual(seen.map((e) => [e.id, e.kind, e.run]), [['1', 'run.state', 1], ['2', 'run.state', 2], ['3', 'task.state', 2]]);
  assert.equal(calls[0]['Last-Event-ID'], undefined);
  assert.equal(calls[1]['Last-Event-ID'], '2');
  assert.equal(calls[2]['Last-Event-ID'], '2');
  assert.equal(calls[3]['Last-Event-ID'], '3');
  assert.ok(calls.every((c) => c.Authorization === 'Bearer t0k'), 'the token goes in a header');
  // A failed connect doubles the wait; a stream that opened starts it over.
  assert.deepEqual(sleeps, [500, 1000, 500]);
  assert.ok(statuses.includes('open') && statuses.includes('retrying'));
});

test('a refused token stops the stream instead of retrying', async () => {
  let fetches = 0;
  const s = new EventStream({
    fetch: async () => {
      fetches++;
      return new Response('{}', { status: 401 });
    },
    sleep: async () => {},
    headers: () => ({}),
  });
  const statuses: StreamStatus[] = [];
  s.onStatus((st) => statuses.push(st));
  s.start();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fetches, 1);
  assert.equal(s.status, 'denied');
});

test('progress carries no id and a reset reaches the listeners with the id to resume from', async () => {
  const calls: Record<string, string>[] = [];
  const replies = [
    () => streamOf([
      'id: 5\nevent: run.state\ndata: {"id":5,"kind":"run.state","run":1}\n\n',
      'event: task.progress\ndata: {"kind":"task.progress","run":1,"payload":{"rows_read":10}}\n\n',
    ]),
    () => streamOf(['id: 9000\nevent: reset\ndata: {"kind":"reset","id":9000,"reason":"more than 10000 events"}\n\n',
      'id: 9001\nevent: run.state\ndata: {"id":9001,"kind":"run.state","run":2}\n\n']),
  ];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const s: EventStream = new EventStream({
    fetch: (_url, init) => {
      calls.push({ ...(init.headers as Record<string, string>) });
      const next = replies.shift();
      if (!next) {
        s.stop();
        done();
        return new Promise<Response>(() => {});
      }
      return Promise.resolve(next());
    },
    sleep: async () => {},
    headers: () => ({}),
  });
  const seen: ServerEvent[] = [];
  s.subscribe((e) => seen.push(e));
  s.start();
  await finished;
  assert.deepEqual(seen.map((e) => [e.id, e.kind]), [['5', 'run.state'], [null, 'task.progress'], ['9000', 'reset'], ['9001', 'run.state']]);
  // The progress event did not move the position: the reconnect resumes after 5.
  assert.equal(calls[1]['Last-Event-ID'], '5');
  assert.equal(calls[2]['Last-Event-ID'], '9001');
});
