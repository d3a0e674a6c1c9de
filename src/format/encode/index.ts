/**
 * The BSM encoder: tokens, whole records and standalone file tokens from the raw model of format/types.ts.
 *
 * `encode*` functions share one module-level writer and return a fresh copy of the bytes, so each call costs one
 * exact-size allocation whatever the number of tokens. To build a whole trail in one buffer, use `writeRecord` and
 * `writeFileToken` with your own BufferWriter.
 */
import { BsmkitError } from '../../errors.js';
import { TRAILER_MAGIC } from '../token-ids.js';
import { BufferWriter } from './buffer-writer.js';
import type { HeaderInput, TokenInput } from './input-types.js';
import { ENCODE_ERROR, writeToken } from './write-token.js';

export type { HeaderInput, TokenInput } from './input-types.js';
export { BufferWriter } from './buffer-writer.js';
export { ENCODE_ERROR, writeToken } from './write-token.js';
export { execArgs, execEnv, hex, ipAddr, ipv4, ipv6, raw, str, stringList, uuid } from './values.js';

/** AUDIT_HEADER_VERSION_OPENBSM, what current macOS and FreeBSD write. */
export const DEFAULT_HEADER_VERSION = 11;

const shared = new BufferWriter(4096);

/** Names the token that failed, keeping Node's RangeError (or our BsmkitError) as the cause. */
function rethrow(err: unknown, where: string, w?: BufferWriter, start = 0): never {
  w?.truncate(start);
  if (err instanceof BsmkitError) throw new BsmkitError(err.code, `${where}: ${err.message}`, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  throw new BsmkitError(ENCODE_ERROR, `${where}: ${message}`, { cause: err });
}

/** The bytes of one token. */
export function encodeToken(t: TokenInput): Buffer {
  const w = shared.reset();
  try {
    writeToken(w, t);
  } catch (err) {
    rethrow(err, `${t.type} token`);
  }
  return w.toBuffer();
}

/**
 * Appends header + body tokens + trailer to `w`, with the header size and the trailer count set to the record's
 * real size. `body` holds neither header nor trailer. On an encoding error nothing of the record stays in `w`.
 */
export function writeRecord(w: BufferWriter, header: HeaderInput, body: readonly TokenInput[]): void {
  const start = w.length;
  const version = header.version ?? DEFAULT_HEADER_VERSION;
  const modifier = header.modifier ?? 0;
  try {
    // size 0 for now, patched once the record's length is known
    writeToken(w, { ...header, size: 0, version, modifier });
  } catch (err) {
    rethrow(err, `record header (${header.type})`, w, start);
  }
  for (let i = 0; i < body.length; i++) {
    try {
      writeToken(w, body[i]);
    } catch (err) {
      rethrow(err, `record body token ${i} (${body[i].type})`, w, start);
    }
  }
  const size = w.length + 7 - start;
  w.u8(0x13).u16(TRAILER_MAGIC).u32(size);
  w.patchU32(start + 1, size);
}

/** header + body tokens + trailer; fills the header size and trailer count with the real total size. */
export function encodeRecord(header: HeaderInput, body: TokenInput[]): Buffer {
  writeRecord(shared.reset(), header, body);
  return shared.toBuffer();
}

/** Appends a file token (0x11): `u32 sec, u32 msec, str16 name`. */
export function writeFileToken(w: BufferWriter, sec: number, msec: number, name: Buffer): void {
  const start = w.length;
  try {
    writeToken(w, { type: 'file', sec, msec, name });
  } catch (err) {
    rethrow(err, 'file token', w, start);
  }
}

/** A standalone file token (0x11) as written between records. `name` is written as given (include its NUL). */
export function encodeFileToken(sec: number, msec: number, name: Buffer): Buffer {
  writeFileToken(shared.reset(), sec, msec, name);
  return shared.toBuffer();
}
