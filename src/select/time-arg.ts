/**
 * Time arguments of -a / -b / -d (auditreduce.md §2, §7.3): `YYYYMMDD[HH[MM[SS]]]` in local time (the process's
 * TZ) with correct DST, in UTC with `utc`, or ISO 8601 with an explicit offset. openbsm mode reproduces upstream's
 * `mktime()` with `tm_isdst = 0`: the fields are read as the zone's *standard* time, one hour off during DST.
 */
import { UsageError } from '../errors.js';

export type TimeZoneRule = 'local' | 'utc' | 'local-no-dst';

interface Fields {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function fields(flag: string, text: string, dateOnly: boolean): Fields {
  const re = dateOnly ? /^(\d{4})(\d{2})(\d{2})$/ : /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(?:(\d{2})(\d{2})?)?)?$/;
  const m = re.exec(text);
  if (!m) {
    throw new UsageError(`${flag} ${text}: expected ${dateOnly ? 'YYYYMMDD' : 'YYYYMMDD[HH[MM[SS]]]'}${dateOnly ? '' : ' or ISO 8601 with an offset'}`);
  }
  const f: Fields = { y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +(m[4] ?? 0), mi: +(m[5] ?? 0), s: +(m[6] ?? 0) };
  if (f.mo < 1 || f.mo > 12 || f.d < 1 || f.d > 31 || f.h > 23 || f.mi > 59 || f.s > 60) {
    throw new UsageError(`${flag} ${text}: a field is out of range`);
  }
  return f;
}

/** Standard-time offset west of UTC in seconds (the larger of January's and July's offsets). */
function standardOffsetWest(year: number): number {
  return Math.max(new Date(year, 0, 1).getTimezoneOffset(), new Date(year, 6, 1).getTimezoneOffset()) * 60;
}

function toSeconds(f: Fields, rule: TimeZoneRule): number {
  switch (rule) {
    case 'utc':
      return Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s) / 1000;
    case 'local':
      return new Date(f.y, f.mo - 1, f.d, f.h, f.mi, f.s).getTime() / 1000;
    case 'local-no-dst':
      return Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s) / 1000 + standardOffsetWest(f.y);
  }
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** -a / -b: Unix seconds (whole seconds; ISO fractions are dropped since header comparisons are on seconds). */
export function parseTimeArg(flag: string, text: string, rule: TimeZoneRule, allowIso = true): number {
  if (allowIso && ISO.test(text)) {
    const ms = Date.parse(text.replace(' ', 'T'));
    if (Number.isNaN(ms)) throw new UsageError(`${flag} ${text}: not a valid time`);
    return Math.floor(ms / 1000);
  }
  return toSeconds(fields(flag, text, false), rule);
}

/** -d: the day's first and last second, 00:00:00 and 23:59:59 (as upstream). */
export function parseDayArg(text: string, rule: TimeZoneRule): { after: number; before: number } {
  const f = fields('-d', text, true);
  return { after: toSeconds(f, rule), before: toSeconds({ ...f, h: 23, mi: 59, s: 59 }, rule) };
}
