/**
 * Small presentation helpers shared by the process listings and the OCSF / ECS mappers.
 */
import type { ProcessImage, ProcessInfo } from './types.js';

/** 0xffffffff: the audit user id of a process that never logged in (AU_DEFAUDITID). */
export const AUID_UNSET = 0xffffffff;

/** ISO 8601 UTC text of a time in ms since the epoch; undefined when the time is outside Date's range. */
export function isoTime(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}

/** The last path component. */
export function baseName(path: string): string {
  const trimmed = path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path;
  const i = trimmed.lastIndexOf('/');
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}

/** The program name of an image: basename of its executable, else argv[0]'s. */
export function imageName(img: ProcessImage | undefined): string | undefined {
  if (!img) return undefined;
  if (img.executable) return baseName(img.executable);
  if (img.argv && img.argv.length) return baseName(img.argv[0]);
  return undefined;
}

/**
 * argv joined into one command line; a word with anything but [A-Za-z0-9_@%+=:,./-] is single-quoted (POSIX shell
 * style), so the line splits back into the same words.
 */
export function commandLine(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ');
}

function quoteWord(w: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w)) return w;
  return "'" + w.replace(/'/g, "'\\''") + "'";
}

/** One line describing what a process runs: its command line, else its executable, else `?`. */
export function describeProcess(p: ProcessInfo): string {
  const img = p.image;
  if (img?.argv && img.argv.length) return commandLine(img.argv);
  if (img?.executable) return img.executable;
  return '?';
}

/** `NAME=VALUE` → [name, value] (no `=`: the whole string is the name, value empty). */
export function splitEnv(s: string): [string, string] {
  const i = s.indexOf('=');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

const ISO_NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;
const ISO_ZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * A point in time for `--at`, in ms since the epoch: ISO 8601 (`2024-03-10T12:00:00Z`, with an offset, or without
 * a zone = UTC), a date alone (UTC midnight), or Unix seconds (`1710072000`, `@1710072000.5`). Undefined when the
 * text is none of these.
 */
export function parseTimePoint(text: string): number | undefined {
  const t = text.trim();
  const unix = /^@?(\d+(?:\.\d+)?)$/.exec(t);
  if (unix && (t.startsWith('@') || !/^\d{8}$/.test(t))) return Math.round(Number(unix[1]) * 1000);
  let iso: string | undefined;
  if (ISO_ZONED.test(t)) iso = t.replace(' ', 'T');
  else if (ISO_NO_ZONE.test(t)) iso = t.replace(' ', 'T') + 'Z';
  else if (/^\d{4}-\d{2}-\d{2}$/.test(t)) iso = t + 'T00:00:00Z';
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}
