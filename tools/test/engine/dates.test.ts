/**
 * The engine's calendar arithmetic against luxon (the reference the config layer uses): random dates
 * and ISO-8601 durations give the same instant, including month ends, leap days and years before 100.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { DateTime, Duration } from 'luxon';
import { addCalendar, calendarOf, utc } from '../../src/engine/dates.js';

const durations = fc.tuple(fc.nat(30), fc.nat(40), fc.nat(10), fc.nat(400), fc.nat(48)).map(([y, m, w, d, h]) =>
  `P${y}Y${m}M${w}W${d}DT${h}H`
    .replace(/P0Y/, 'P')
    .replace(/(\D)0M/, '$1')
    .replace(/(\D)0W/, '$1')
    .replace(/(\D)0D/, '$1')
    .replace(/T0H$/, '')
    .replace(/^P$/, 'P1D'),
);

test('addCalendar agrees with luxon plus() in UTC', () => {
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }), durations, (ms, iso) => {
      const ref = DateTime.fromMillis(ms, { zone: 'utc' }).plus(Duration.fromISO(iso)).toMillis();
      assert.is(addCalendar(ms, calendarOf(iso)!), ref, `${new Date(ms).toISOString()} + ${iso}`);
    }),
    { numRuns: 2000, seed: 11 },
  );
});

test('month ends and leap days clamp like luxon', () => {
  const cases: [string, string, string][] = [
    ['2024-02-29', 'P1Y', '2025-02-28'],
    ['2024-02-29', 'P4Y', '2028-02-29'],
    ['2024-01-31', 'P1M', '2024-02-29'],
    ['2023-01-31', 'P1M', '2023-02-28'],
    ['2024-10-31', 'P2Y', '2026-10-31'],
    ['2024-11-30', 'P18M', '2026-05-30'],
  ];
  for (const [from, d, to] of cases)
    assert.is(
      new Date(addCalendar(Date.parse(`${from}T00:00:00Z`), calendarOf(d)!)).toISOString().slice(0, 10),
      to,
      `${from} + ${d}`,
    );
});

test('utc() keeps years below 100', () => {
  assert.is(new Date(utc(50, 0, 31)).getUTCFullYear(), 50);
  assert.is(new Date(utc(2024, 1, 29)).toISOString().slice(0, 10), '2024-02-29');
});

test.run();
