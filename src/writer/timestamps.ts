/**
 * Strict RFC 3339 dates and timestamps, normalised to the one form the writer sends and hashes.
 *
 * Why not `Date.parse`: it rolls `2024-02-30` over to March 1st and accepts many non-ISO shapes, and a
 * timestamp without a zone would be read by Postgres in the session `TimeZone` (a silent shift). So the
 * writer checks the calendar itself, requires a zone, and always sends UTC with six fraction digits:
 * `2024-05-01T10:00:00.000000Z`. Equal instants then have equal strings, which keeps row hashes stable.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function validCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const days = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day <= days;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `YYYY-MM-DD` when `value` is a real calendar date in years 0001–9999, else undefined. */
export function normalizeDate(value: string): string | undefined {
  const m = DATE.exec(value);
  if (!m) return undefined;
  return validCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])) ? value : undefined;
}

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The canonical UTC form of an RFC 3339 timestamp with a zone (`Z` or `±hh:mm`), or undefined when the
 * text is not one, names an impossible date or time, or falls outside years 0001–9999 in UTC.
 * Fractions beyond microseconds are rounded, as Postgres would. A leap second rolls over, as in Postgres.
 *
 * Hand-written rather than a regex: it runs for every timestamp of every row, and the common
 * `…T10:00:00.000Z` form must cost well under a microsecond. (It used to run twice per value, for
 * validation and for encoding, behind a memo; one pass left the memo costing more than it saved.)
 */
export function normalizeTimestamp(value: string): string | undefined {
  const length = value.length;
  if (length < 20 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return undefined;
  const t = value.charCodeAt(10);
  if ((t !== 84 && t !== 116) || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  if (!validCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 60) return undefined;
  let at = 19;
  let fractionDigits = 0;
  if (value.charCodeAt(at) === 46) {
    at++;
    while (at < length && value.charCodeAt(at) >= 48 && value.charCodeAt(at) <= 57) at++;
    fractionDigits = at - 20;
    if (fractionDigits < 1 || fractionDigits > 9) return undefined;
  }
  const zone = value.charCodeAt(at);
  let offsetMinutes = 0;
  if (zone === 90 || zone === 122) {
    if (at + 1 !== length) return undefined;
  } else if (zone === 43 || zone === 45) {
    if (at + 6 !== length || value.charCodeAt(at + 3) !== 58) return undefined;
    const offsetHours = digits(value, at + 1, 2);
    const offsetMins = digits(value, at + 4, 2);
    if (offsetHours < 0 || offsetMins < 0 || offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (zone === 45 ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return undefined;
  }
  if (offsetMinutes === 0 && second < 60 && t === 84 && fractionDigits <= 6) {
    // The common case needs no arithmetic: already UTC, only the fraction is padded.
    if (fractionDigits === 6 && zone === 90) return value;
    const fraction = fractionDigits === 0 ? '' : value.slice(20, 20 + fractionDigits);
    return `${value.slice(0, 19)}.${fraction.padEnd(6, '0')}Z`;
  }
  const fraction = value.slice(20, 20 + fractionDigits);
  let micros = Number(fraction.padEnd(6, '0').slice(0, 6));
  if (fractionDigits > 6 && Number(fraction[6]) >= 5) micros += 1;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, 0);
  if (micros === 1_000_000) {
    date.setTime(date.getTime() + 1000);
    micros = 0;
  }
  const y = date.getUTCFullYear();
  if (y < 1 || y > 9999) return undefined;
  return (
    `${pad(y, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}` +
    `T${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}` +
    `.${pad(micros, 6)}Z`
  );
}

/**
 * Whether a row at version `incoming` takes the place of one at `current` (both canonical `updated_at`
 * values, or null when the row has none): "newer wins", with a tie going to `incoming`, the later
 * arrival. A null version ranks below every timestamp: a row that names its version is never replaced
 * by one that does not. Between two nulls (models without `updated_at`) the later row wins.
 *
 * One ordering for duplicates in a batch, for the stored-row check and for the upsert's SQL guard: it is
 * a total preorder (null lowest, ties to the later row), so collapsing a batch to its winner first and
 * then comparing that with the stored row gives what applying the rows one by one would. With any other
 * treatment of null, where a call's rows are cut into batches would change which row survives.
 *
 * Canonical forms are fixed-width UTC, so comparing the strings compares the instants, with no parsing
 * or allocation on this per-row path.
 */
export function replacesVersion(incoming: string | null, current: string | null): boolean {
  return current === null || (incoming !== null && incoming >= current);
}
