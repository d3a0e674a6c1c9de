/**
 * Byte strings of the record model → JSON text (docs/json-format.md "Strings").
 *
 * Rule: drop one trailing NUL (the recorded terminator), decode the rest as UTF-8 and write it as a JSON string.
 * When the bytes are not valid UTF-8 the text carries U+FFFD for each bad sequence and a sibling `<name>_hex`
 * field holds the recorded bytes exactly (terminator included), so nothing is lost.
 *
 * Fast path: most paths and texts are printable ASCII without `"` or `\`; those bytes are copied verbatim with a
 * latin1 slice, skipping the UTF-8 decoder and JSON.stringify (bench/micro/json.bench.mjs, "string fast path").
 */
import { isUtf8 } from 'node:buffer';

/** 1 for bytes that may appear verbatim inside a JSON string: printable ASCII except `"` and `\`. */
const VERBATIM = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) VERBATIM[c] = c === 0x22 || c === 0x5c ? 0 : 1;

/** Length of `b` without one trailing NUL. */
export function textEnd(b: Uint8Array): number {
  const n = b.length;
  return n > 0 && b[n - 1] === 0 ? n - 1 : n;
}

/** True when `b[0..end)` can be written verbatim between JSON quotes. */
function verbatim(b: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) if (VERBATIM[b[i]] === 0) return false;
  return true;
}

/**
 * `key` + JSON string of `b` (trailing NUL dropped), plus `hexKey` + the hex of all recorded bytes when `b` is not
 * valid UTF-8. `key` and `hexKey` are precomputed fragments such as `,"path":` and `,"path_hex":`.
 */
export function stringField(key: string, hexKey: string, b: Buffer): string {
  const end = textEnd(b);
  if (verbatim(b, end)) return key + '"' + b.toString('latin1', 0, end) + '"';
  const body = end === b.length ? b : b.subarray(0, end);
  const text = JSON.stringify(body.toString('utf8'));
  if (isUtf8(body)) return key + text;
  return key + text + hexKey + '"' + b.toString('hex') + '"';
}

/** Just the JSON string literal of `b` (trailing NUL dropped, invalid UTF-8 as U+FFFD); for arrays of strings. */
export function stringLiteral(b: Buffer): string {
  const end = textEnd(b);
  if (verbatim(b, end)) return '"' + b.toString('latin1', 0, end) + '"';
  return JSON.stringify((end === b.length ? b : b.subarray(0, end)).toString('utf8'));
}

/** True when the string `b` (trailing NUL dropped) is valid UTF-8. */
export function isUtf8Text(b: Buffer): boolean {
  const end = textEnd(b);
  return verbatim(b, end) || isUtf8(end === b.length ? b : b.subarray(0, end));
}
