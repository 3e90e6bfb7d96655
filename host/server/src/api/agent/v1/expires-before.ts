/**
 * ListAgents/CountAgents `by_expires_before`: SPIRE parses it with Go's
 * layout "2006-01-02 15:04:05 -0700 -07" and ignores parse failures (no
 * filter). Returns Unix seconds, or undefined when Go's parse would fail.
 *
 * As in Go: fractional seconds may follow the seconds, the "-07" offset is
 * parsed after "-0700" and wins, and out-of-range fields fail.
 */
const layout = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)? ([+-])(\d{2})(\d{2}) ([+-])(\d{2})$/;

export function parseExpiresBefore(text: string): bigint | undefined {
  const m = layout.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const longHours = Number(m[9]);
  const longMinutes = Number(m[10]);
  if (longHours > 24 || longMinutes > 60) return undefined;
  const shortHours = Number(m[12]);
  if (shortHours > 24) return undefined;
  const offsetSeconds = (m[11] === "-" ? -1 : 1) * shortHours * 3600;
  const unix = utcSeconds(year, month, day, hour, minute, second) - offsetSeconds;
  // Go's zero Time (0001-01-01 00:00:00 UTC) reads as "no filter" too.
  if (unix === utcSeconds(1, 1, 1, 0, 0, 0)) return undefined;
  return BigInt(unix);
}

/** Date.UTC maps years 0–99 to 19xx; setUTCFullYear does not. */
function utcSeconds(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime() / 1000;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
