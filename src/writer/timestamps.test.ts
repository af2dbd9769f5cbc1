import { describe, expect, it } from 'vitest';
import { normalizeDate, normalizeTimestamp, replacesVersion } from './timestamps.js';

describe('normalizeTimestamp', () => {
  it.each([
    ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.000000Z'],
    ['2024-05-01T12:00:00.123Z', '2024-05-01T12:00:00.123000Z'],
    ['2024-05-01T12:00:00.123456Z', '2024-05-01T12:00:00.123456Z'],
    ['2024-05-01t12:00:00z', '2024-05-01T12:00:00.000000Z'],
    ['2024-05-01T12:00:00+02:00', '2024-05-01T10:00:00.000000Z'],
    ['2024-05-01T00:30:00-01:30', '2024-05-01T02:00:00.000000Z'],
    ['2024-12-31T23:30:00-01:00', '2025-01-01T00:30:00.000000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000000Z'],
    ['2024-05-01T12:00:00.1234567Z', '2024-05-01T12:00:00.123457Z'],
    ['2024-05-01T23:59:59.9999996Z', '2024-05-02T00:00:00.000000Z'],
    ['2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000000Z'],
  ])('normalises %s to UTC with microseconds', (input, expected) => {
    expect(normalizeTimestamp(input)).toBe(expected);
  });

  it.each([
    '2024-02-30T00:00:00Z', // no such day
    '2023-02-29T00:00:00Z', // not a leap year
    '2024-13-01T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:60:00Z',
    '2024-05-01T12:00:00', // no zone: Postgres would use the session TimeZone
    '2024-05-01 12:00:00Z',
    '2024-05-01T12:00:00.Z',
    '2024-05-01T12:00:00+2:00',
    '2024-05-01T12:00:00+24:00',
    '+02024-05-01T12:00:00Z',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:30:00+01:00', // year 0 in UTC
    '9999-12-31T23:30:00-01:00', // year 10000 in UTC
    'yesterday',
    '1714564800',
    '',
  ])('rejects %j', (input) => {
    expect(normalizeTimestamp(input)).toBeUndefined();
  });
});

describe('normalizeDate', () => {
  it('accepts real calendar dates only', () => {
    expect(normalizeDate('2024-02-29')).toBe('2024-02-29');
    expect(normalizeDate('2023-02-29')).toBeUndefined();
    expect(normalizeDate('2024-04-31')).toBeUndefined();
    expect(normalizeDate('0000-01-01')).toBeUndefined();
    expect(normalizeDate('2024-5-1')).toBeUndefined();
    expect(normalizeDate('2024-05-01T00:00:00Z')).toBeUndefined();
  });
});

describe('replacesVersion', () => {
  const at = (iso: string) => normalizeTimestamp(iso)!;

  it('lets the newer instant win, whatever offset it was written with', () => {
    expect(replacesVersion(at('2026-01-09T00:00:00Z'), at('2026-01-05T00:00:00Z'))).toBe(true);
    expect(replacesVersion(at('2026-01-01T00:00:00Z'), at('2026-01-05T00:00:00Z'))).toBe(false);
    // 22:00Z against 23:00Z: the text sorts the other way round.
    expect(replacesVersion(at('2026-01-09T00:00:00+02:00'), at('2026-01-08T23:00:00Z'))).toBe(false);
    expect(replacesVersion(at('2026-01-08T23:00:00Z'), at('2026-01-09T00:00:00+02:00'))).toBe(true);
  });

  it('gives a tie to the incoming row, ranks null below any timestamp, and lets a null replace a null', () => {
    expect(replacesVersion(at('2026-01-08T22:00:00Z'), at('2026-01-09T00:00:00+02:00'))).toBe(true);
    expect(replacesVersion(null, at('2026-01-05T00:00:00Z'))).toBe(false);
    expect(replacesVersion(at('0001-01-01T00:00:00Z'), null)).toBe(true);
    expect(replacesVersion(null, null)).toBe(true);
  });
});
