/**
 * RFC 3339 date-time parsing without `Date.parse`, whose accepted formats are implementation-defined.
 * Returns epoch milliseconds, or NaN when the string is not a valid RFC 3339 date-time with a time zone.
 * Fractions beyond milliseconds are truncated; leap seconds (":60") are rejected because no event clock
 * we accept produces them and JavaScript time cannot represent them.
 */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Value of the `n` ASCII digits of `s` at `at`, or -1 when any of them is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// Hand-written rather than a regular expression: this runs for every event on the hot path and a
// capturing regex plus a Date object cost more than the rest of validation together.
export function parseRfc3339(s: string): number {
  const n = s.length;
  if (n < 20 || n > 40) return NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const t = s.charCodeAt(10);
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 ||
    s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 ||
    (t !== 84 && t !== 116 && t !== 32) // T, t or space
  ) {
    return NaN;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return NaN;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    // A fraction of one or more digits (RFC 3339's time-secfrac; the 40-character limit bounds it); beyond
    // milliseconds it is truncated.
    let k = 0;
    i++;
    while (i < n) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (k < 3) ms = ms * 10 + d;
      k++;
      i++;
    }
    if (k === 0) return NaN;
    for (let pad = k; pad < 3; pad++) ms *= 10;
  }
  let offsetMinutes = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== n) return NaN;
  } else if (z === 43 || z === 45) {
    if (i + 6 !== n || s.charCodeAt(i + 3) !== 58) return NaN;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMinutes = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return NaN;
  }
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + ms;
}

/** True when `s` is already in the canonical form the pipeline stores: `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function isCanonicalUtc(s: string): boolean {
  return s.length === 24 && s.charCodeAt(23) === 90 /* Z */ && s.charCodeAt(10) === 84 /* T */ && s.charCodeAt(19) === 46 /* . */;
}

/** Canonical UTC form of epoch milliseconds, the one stored in the lake and used for partitioning. */
export function toCanonicalUtc(ms: number): string {
  return new Date(ms).toISOString();
}
