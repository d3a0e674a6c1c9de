/**
 * Stable record ids: a 64-bit hash (two independent 32-bit FNV-1a lanes) of the record's source position and bytes,
 * as 16 hex digits. The same record read again (after a restart, or recovered from the trail instead of taken from
 * the pipe) gets the same id, because in trail and hybrid modes the position is the trail position.
 *
 * The position of a trail record uses the file's 14-digit start time, not its full name: the name changes when the
 * file is terminated (`*.not_terminated` → `START.END`) but the record is the same.
 */
/** The stable part of a source file name: the trail start time for trail files, the whole name otherwise. */
export function stableSourceKey(sourceFile: string | undefined): string {
  if (sourceFile === undefined) return '';
  return /^\d{14}\./.test(sourceFile) ? sourceFile.slice(0, 14) : sourceFile;
}

export function recordId(bytes: Uint8Array, sourceFile: string | undefined, sourceOffset: number): string {
  recordIdLanes(bytes, sourceFile, sourceOffset, lanes);
  return idText(lanes[0]!, lanes[1]!);
}

const lanes = new Uint32Array(2);

/** recordId's two 32-bit lanes (the id is their hex, high lane first) into `out`. */
export function recordIdLanes(bytes: Uint8Array, sourceFile: string | undefined, sourceOffset: number, out: Uint32Array): void {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  const key = stableSourceKey(sourceFile) + '@' + sourceOffset;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  out[0] = a >>> 0;
  out[1] = b >>> 0;
}

const idBytes = Buffer.alloc(8);

/** The id text of two lanes: 16 lowercase hex digits. */
export function idText(hi: number, lo: number): string {
  idBytes[0] = hi >>> 24;
  idBytes[1] = hi >>> 16;
  idBytes[2] = hi >>> 8;
  idBytes[3] = hi;
  idBytes[4] = lo >>> 24;
  idBytes[5] = lo >>> 16;
  idBytes[6] = lo >>> 8;
  idBytes[7] = lo;
  return idBytes.toString('hex');
}

/** A 32-bit content hash used to align pipe and trail records (bytes only, no position). */
export function contentHash(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5 ^ (end - start);
  // Records differ mostly in their header time and subject fields: hashing every byte is cheap enough here.
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
