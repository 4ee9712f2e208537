import assert from 'node:assert/strict';
import { test } from 'node:test';
import { between, formatDuration, formatInstant, formatOffset, formatRelative, offsetMinutes, resolveZone } from '../../src/lib/time';

test('an instant shows its wall clock and the offset of the chosen zone', () => {
  const at = '2026-07-01T12:00:00Z';
  assert.equal(formatInstant(at, 'UTC'), '2026-07-01 12:00:00 +00:00');
  assert.equal(formatInstant(at, 'Europe/Berlin'), '2026-07-01 14:00:00 +02:00');
  assert.equal(formatInstant(at, 'America/New_York'), '2026-07-01 08:00:00 -04:00');
  assert.equal(formatInstant(at, 'Asia/Kolkata'), '2026-07-01 17:30:00 +05:30');
  assert.equal(formatInstant(at, 'UTC', false), '12:00:00 +00:00');
});

test('the offset follows daylight saving time across the spring-forward gap', () => {
  // Europe/Berlin skips 02:00-03:00 on 2026-03-29: 00:59:59Z is 01:59:59 +01:00, 01:00Z is 03:00 +02:00.
  assert.equal(formatInstant('2026-03-29T00:59:59Z', 'Europe/Berlin'), '2026-03-29 01:59:59 +01:00');
  assert.equal(formatInstant('2026-03-29T01:00:00Z', 'Europe/Berlin'), '2026-03-29 03:00:00 +02:00');
  assert.equal(offsetMinutes(Date.parse('2026-01-15T00:00:00Z'), 'Europe/Berlin'), 60);
  assert.equal(offsetMinutes(Date.parse('2026-07-15T00:00:00Z'), 'Europe/Berlin'), 120);
});

test('a repeated hour at fall-back shows twice with different offsets', () => {
  // America/New_York repeats 01:00-02:00 on 2026-11-01.
  assert.equal(formatInstant('2026-11-01T05:30:00Z', 'America/New_York'), '2026-11-01 01:30:00 -04:00');
  assert.equal(formatInstant('2026-11-01T06:30:00Z', 'America/New_York'), '2026-11-01 01:30:00 -05:00');
});

test('missing and malformed instants', () => {
  assert.equal(formatInstant(null, 'UTC'), '—');
  assert.equal(formatInstant('', 'UTC'), '—');
  assert.equal(formatInstant('not a time', 'UTC'), 'not a time');
});

test('offsets are signed hours and minutes', () => {
  assert.equal(formatOffset(0), '+00:00');
  assert.equal(formatOffset(330), '+05:30');
  assert.equal(formatOffset(-210), '-03:30');
});

test('durations pick the unit a person reads', () => {
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(-5), '0 ms');
  assert.equal(formatDuration(450), '450 ms');
  assert.equal(formatDuration(1234), '1.2 s');
  assert.equal(formatDuration(42_000), '42 s');
  assert.equal(formatDuration(184_000), '3 min 04 s');
  assert.equal(formatDuration(2 * 3600_000 + 5 * 60_000), '2 h 05 min');
  assert.equal(formatDuration(3 * 86400_000 + 4 * 3600_000), '3 d 4 h');
});

test('relative times read forwards and backwards', () => {
  const now = Date.parse('2026-07-01T12:00:00Z');
  assert.equal(formatRelative('2026-07-01T12:04:00Z', now), 'in 4 min 00 s');
  assert.equal(formatRelative('2026-07-01T11:59:48Z', now), '12 s ago');
  assert.equal(formatRelative('2026-07-01T12:00:00Z', now), 'now');
  assert.equal(formatRelative(null, now), '—');
  assert.equal(between('2026-07-01T11:59:00Z', null, now), 60_000);
  assert.equal(between('2026-07-01T11:59:00Z', '2026-07-01T11:59:30Z', now), 30_000);
  assert.equal(between(null, null, now), null);
});

test('the zone choice resolves to one IANA zone', () => {
  assert.equal(resolveZone('utc', 'Europe/Paris'), 'UTC');
  assert.equal(resolveZone('job', 'Europe/Paris'), 'Europe/Paris');
  assert.equal(resolveZone('job', null), 'UTC');
  assert.ok(resolveZone('local').length > 0);
});

test('UTC, read without Intl, reads as Intl reads Etc/UTC', () => {
  // formatInstant takes UTC off the Date itself (the first Intl.DateTimeFormat is slow to make).
  for (const iso of ['1999-12-31T23:59:59Z', '2026-02-28T00:00:00.999Z', '2026-03-29T01:00:00Z', '2028-02-29T12:34:56Z']) {
    assert.equal(formatInstant(iso, 'UTC'), formatInstant(iso, 'Etc/UTC'), iso);
    assert.equal(formatInstant(iso, 'UTC', false), formatInstant(iso, 'Etc/UTC', false), iso);
  }
  assert.equal(offsetMinutes(Date.parse('2026-07-01T00:00:00Z'), 'UTC'), 0);
});
