/**
 * audit_control: `key:value` lines (config-files.md §5). The value is everything after the first ':' so that a
 * `host:` with an IPv6 address survives. Repeated `dir:` lines are fallbacks, in order.
 */
import { readFileSync } from 'node:fs';
import { BsmkitError } from '../errors.js';
import type { ClassTable } from './class-table.js';
import { diag, type CatalogDiagnostic } from './diagnostics.js';
import { tryParseFlags } from './flags.js';
import { contentLines } from './lines.js';
import { decodeConfigBytes } from './paths.js';

/** Policy words and bits (sys/bsm/audit.h, config-files.md §5.1). */
export const POLICY_BITS: Readonly<Record<string, number>> = Object.freeze({
  cnt: 0x0001,
  ahlt: 0x0002,
  argv: 0x0004,
  arge: 0x0008,
  seq: 0x0010,
  group: 0x0080,
  trail: 0x0100,
  path: 0x0200,
  zonename: 0x1000,
  perzone: 0x2000,
});

/** XNU's A_SETPOLICY accepts only these. */
export const XNU_POLICY_MASK = 0x000f;
/** MIN_AUDIT_FILE_SIZE: auditd refuses smaller rotation sizes. */
export const MIN_AUDIT_FILE_SIZE = 512 * 1024;
/** AQ_MAXHIGH: the largest queue high-water mark the kernel accepts. */
export const AQ_MAXHIGH = 10000;

export interface ExpireAfter {
  /** Age limit in seconds, if given. */
  ageSeconds?: number;
  /** Total trail size limit in bytes, if given. */
  sizeBytes?: number;
  /** How age and size combine when both are given. */
  op?: 'and' | 'or';
}

export interface AuditControl {
  /** Every `dir:` in order (fallbacks). */
  dirs: string[];
  dist?: boolean;
  /** Flags strings as written; check them with tryParseFlags. */
  flags?: string;
  naflags?: string;
  minfree?: number;
  policy?: string[];
  /** Bytes; 0 means no size-based rotation. */
  filesz?: number;
  expireAfter?: ExpireAfter;
  /** The `expire-after` value as written. */
  expireAfterText?: string;
  host?: string;
  qsize?: number;
  /** Every key:value line in file order, unknown keys included. */
  lines: { key: string; value: string; line: number }[];
}

const KNOWN_KEYS = new Set(['dir', 'dist', 'flags', 'minfree', 'naflags', 'policy', 'filesz', 'expire-after', 'host', 'qsize']);
const SIZE_UNITS: Record<string, number> = { B: 1, K: 1024, M: 1024 * 1024, G: 1024 * 1024 * 1024 };
const AGE_UNITS: Record<string, number> = { s: 1, h: 3600, d: 86400, y: 365 * 86400 };

/** `2M` → 2097152. Suffixes B, K, M, G (any case); a bare number is bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*([0-9]+)\s*([BbKkMmGg]?)\s*$/.exec(text);
  if (!m) return undefined;
  const mult = SIZE_UNITS[(m[2] || 'B').toUpperCase()]!;
  const v = Number(m[1]) * mult;
  return Number.isSafeInteger(v) ? v : undefined;
}

/** `10M`, `30d`, `1y OR 500M`, `7d and 1G`: clauses `<n><unit>` joined by AND/OR. */
export function parseExpireAfter(text: string): ExpireAfter | undefined {
  const parts = text.trim().split(/\s+(and|or)\s+/i);
  if (parts.length === 0 || parts.length > 3) return undefined;
  const out: ExpireAfter = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i % 2 === 1) {
      out.op = p.toLowerCase() as 'and' | 'or';
      continue;
    }
    const m = /^([0-9]+)\s*([shdyBKMG])$/.exec(p.trim());
    if (!m) return undefined;
    const n = Number(m[1]);
    const unit = m[2]!;
    if (unit in AGE_UNITS) {
      if (out.ageSeconds !== undefined) return undefined;
      out.ageSeconds = n * AGE_UNITS[unit]!;
    } else {
      if (out.sizeBytes !== undefined) return undefined;
      out.sizeBytes = n * SIZE_UNITS[unit]!;
    }
  }
  return out;
}

export interface ParseControlOptions {
  /** When given, `flags`/`naflags` are checked against these classes. */
  classes?: ClassTable;
}

export function parseAuditControl(
  text: string,
  file: string,
  options: ParseControlOptions = {},
): { control: AuditControl; diagnostics: CatalogDiagnostic[] } {
  const diagnostics: CatalogDiagnostic[] = [];
  const c: AuditControl = { dirs: [], lines: [] };
  const seen = new Map<string, number>();
  for (const { line, text: t } of contentLines(text, file, diagnostics)) {
    const colon = t.indexOf(':');
    if (colon < 0) {
      diagnostics.push(diag('CAT_E_SYNTAX', file, line, `'${t}' is not key:value; line skipped`));
      continue;
    }
    const key = t.slice(0, colon);
    const value = t.slice(colon + 1);
    c.lines.push({ key, value, line });
    if (!KNOWN_KEYS.has(key)) {
      diagnostics.push(diag('CAT_W_UNKNOWN_KEY', file, line, `unknown key '${key}' ignored`));
      continue;
    }
    if (key !== 'dir') {
      const prev = seen.get(key);
      if (prev !== undefined) {
        diagnostics.push(diag('CAT_W_DUPLICATE', file, line, `${key} already set on line ${prev}; libbsm uses the first`));
        continue;
      }
      seen.set(key, line);
    }
    const bad = (msg: string) => diagnostics.push(diag('CAT_W_VALUE', file, line, msg));
    switch (key) {
      case 'dir':
        if (value === '') bad('empty dir');
        else c.dirs.push(value);
        break;
      case 'dist':
        if (value === 'on' || value === 'off') c.dist = value === 'on';
        else bad(`dist must be 'on' or 'off', not '${value}'`);
        break;
      case 'flags':
      case 'naflags': {
        c[key] = value;
        if (options.classes) {
          const r = tryParseFlags(value, options.classes);
          if (!r.ok) diagnostics.push(diag('CAT_W_UNKNOWN_CLASS', file, line, `${key}: ${r.error}; the whole mask is invalid`));
        }
        break;
      }
      case 'minfree': {
        const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
        if (!(n >= 0 && n <= 100)) bad(`minfree must be a percentage 0-100, not '${value}'`);
        else c.minfree = n;
        break;
      }
      case 'policy': {
        const words = value.split(',').filter((w) => w !== '');
        for (const w of words) if (!(w in POLICY_BITS)) bad(`unknown policy word '${w}'`);
        c.policy = words;
        break;
      }
      case 'filesz': {
        const n = parseSize(value);
        if (n === undefined) bad(`filesz '${value}' is not a size (number with B, K, M or G)`);
        else {
          if (n !== 0 && n < MIN_AUDIT_FILE_SIZE) bad(`filesz ${value} is below the 512K minimum auditd accepts`);
          c.filesz = n;
        }
        break;
      }
      case 'expire-after': {
        const e = parseExpireAfter(value);
        if (!e) bad(`expire-after '${value}' is not <n>{s,h,d,y} and/or <n>{B,K,M,G} joined by AND/OR`);
        else {
          c.expireAfter = e;
          c.expireAfterText = value;
        }
        break;
      }
      case 'host':
        c.host = value;
        break;
      case 'qsize': {
        const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
        if (!(n >= 1 && n <= AQ_MAXHIGH)) bad(`qsize must be 1-${AQ_MAXHIGH}, not '${value}'`);
        else c.qsize = n;
        break;
      }
    }
  }
  return { control: c, diagnostics };
}

export function loadAuditControlFile(path: string, options: ParseControlOptions = {}) {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_CATALOG_READ', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseAuditControl(decodeConfigBytes(bytes), path, options);
}

/** Policy words → bits; unknown words are ignored (parseAuditControl reports them). */
export function policyBits(words: readonly string[]): number {
  let bits = 0;
  for (const w of words) bits |= POLICY_BITS[w] ?? 0;
  return bits >>> 0;
}

/** Writes an audit_control file from settings, keys in OpenBSM's default order. */
export function formatAuditControl(c: Omit<AuditControl, 'lines'>): string {
  const out: string[] = [];
  for (const d of c.dirs) out.push(`dir:${d}`);
  if (c.dist !== undefined) out.push(`dist:${c.dist ? 'on' : 'off'}`);
  if (c.flags !== undefined) out.push(`flags:${c.flags}`);
  if (c.minfree !== undefined) out.push(`minfree:${c.minfree}`);
  if (c.naflags !== undefined) out.push(`naflags:${c.naflags}`);
  if (c.policy !== undefined) out.push(`policy:${c.policy.join(',')}`);
  if (c.filesz !== undefined) out.push(`filesz:${formatSize(c.filesz)}`);
  if (c.expireAfterText !== undefined) out.push(`expire-after:${c.expireAfterText}`);
  else if (c.expireAfter) out.push(`expire-after:${formatExpireAfter(c.expireAfter)}`);
  if (c.host !== undefined) out.push(`host:${c.host}`);
  if (c.qsize !== undefined) out.push(`qsize:${c.qsize}`);
  return out.map((l) => l + '\n').join('');
}

/** The largest exact unit: 2097152 → `2M`, 1000 → `1000B`. */
export function formatSize(bytes: number): string {
  for (const u of ['G', 'M', 'K'] as const) {
    const m = SIZE_UNITS[u]!;
    if (bytes !== 0 && bytes % m === 0) return `${bytes / m}${u}`;
  }
  return bytes === 0 ? '0' : `${bytes}B`;
}

function formatExpireAfter(e: ExpireAfter): string {
  const parts: string[] = [];
  if (e.ageSeconds !== undefined) {
    const a = e.ageSeconds;
    parts.push(a % AGE_UNITS.y! === 0 ? `${a / AGE_UNITS.y!}y` : a % 86400 === 0 ? `${a / 86400}d` : a % 3600 === 0 ? `${a / 3600}h` : `${a}s`);
  }
  if (e.sizeBytes !== undefined) parts.push(formatSize(e.sizeBytes));
  return parts.join(` ${(e.op ?? 'or').toUpperCase()} `);
}
