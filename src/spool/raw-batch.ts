/**
 * A run of spooled records as plain arrays: the bytes in one buffer and one entry per record. It crosses threads
 * cheaply (the buffers are transferred, not copied) and becomes CollectedRecord objects only where a sink needs them.
 */
import type { CollectedRecord, RecordOrigin } from '../sinks/sink.js';
import { recordId } from './record-id.js';

/** Entry flag: the record has no trail copy (kept from the pipe: trail write failure or LOCAL-only selection). */
export const FLAG_PIPE_ONLY = 1;
/** files[i] of a record without a source name. */
export const NO_SOURCE = 0xffff;
/** Origin codes as stored in the spool's entries. */
export const ORIGINS: readonly RecordOrigin[] = ['pipe', 'trail', 'recovered'];

export interface RawBatch {
  /** Spool seq of the first record; the others follow densely. */
  firstSeq: number;
  count: number;
  /** The records back to back (lens[i] bytes each). */
  data: Uint8Array;
  lens: Uint32Array;
  origins: Uint8Array;
  flags: Uint8Array;
  /** Index into sourceNames, or NO_SOURCE. */
  files: Uint16Array;
  srcOffs: Float64Array;
  sourceNames: string[];
}

export function emptyRawBatch(firstSeq: number): RawBatch {
  return {
    firstSeq, count: 0, data: new Uint8Array(0), lens: new Uint32Array(0), origins: new Uint8Array(0), flags: new Uint8Array(0),
    files: new Uint16Array(0), srcOffs: new Float64Array(0), sourceNames: [],
  };
}

/** Consecutive batches of one spool as one (their sourceNames index the same list: the later one is the longer). */
export function concatRaw(a: RawBatch, b: RawBatch): RawBatch {
  if (a.count === 0) return b;
  if (b.count === 0) return a;
  const cat = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(x: T, y: T): T => {
    // A Buffer's constructor is the deprecated Buffer(n) (DEP0005): bytes become a plain Uint8Array, which also owns
    // its whole ArrayBuffer and so can be transferred to a sink's worker (a pooled Buffer cannot).
    const make = (x instanceof Uint8Array ? Uint8Array : x.constructor) as new (n: number) => T;
    const out = new make(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    firstSeq: a.firstSeq, count: a.count + b.count, data: cat(a.data, b.data), lens: cat(a.lens, b.lens), origins: cat(a.origins, b.origins),
    flags: cat(a.flags, b.flags), files: cat(a.files, b.files), srcOffs: cat(a.srcOffs, b.srcOffs),
    sourceNames: b.sourceNames.length >= a.sourceNames.length ? b.sourceNames : a.sourceNames,
  };
}

/** The batch as the records a Sink receives (bytes are views of the batch's buffer). */
export function materialize(raw: RawBatch): CollectedRecord[] {
  const data = Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  const out = new Array<CollectedRecord>(raw.count);
  let a = 0;
  for (let i = 0; i < raw.count; i++) {
    const len = raw.lens[i]!;
    const bytes = data.subarray(a, a + len);
    a += len;
    const f = raw.files[i]!;
    const sourceFile = f === NO_SOURCE ? undefined : raw.sourceNames[f];
    const sourceOffset = raw.srcOffs[i]!;
    const r: CollectedRecord = { seq: raw.firstSeq + i, id: recordId(bytes, sourceFile, sourceOffset), bytes, origin: ORIGINS[raw.origins[i]!] ?? 'trail', sourceOffset };
    if (sourceFile !== undefined) r.sourceFile = sourceFile;
    if (raw.flags[i]! & FLAG_PIPE_ONLY) (r as CollectedRecord & { pipeOnly?: boolean }).pipeOnly = true;
    out[i] = r;
  }
  return out;
}

/** Packs records (e.g. a filtered batch) into one RawBatch; the seqs need not be dense (`seqs` keeps them). */
export function packRecords(batch: readonly CollectedRecord[]): { raw: RawBatch; seqs: Float64Array } {
  let total = 0;
  for (const r of batch) total += r.bytes.length;
  const n = batch.length;
  const data = new Uint8Array(total);
  const raw: RawBatch = {
    firstSeq: n ? batch[0]!.seq : 0, count: n, data, lens: new Uint32Array(n), origins: new Uint8Array(n), flags: new Uint8Array(n),
    files: new Uint16Array(n), srcOffs: new Float64Array(n), sourceNames: [],
  };
  const seqs = new Float64Array(n);
  const names = new Map<string, number>();
  let p = 0;
  for (let i = 0; i < n; i++) {
    const r = batch[i]!;
    data.set(r.bytes, p);
    p += r.bytes.length;
    raw.lens[i] = r.bytes.length;
    raw.origins[i] = ORIGINS.indexOf(r.origin);
    raw.flags[i] = (r as CollectedRecord & { pipeOnly?: boolean }).pipeOnly ? FLAG_PIPE_ONLY : 0;
    raw.srcOffs[i] = r.sourceOffset;
    seqs[i] = r.seq;
    if (r.sourceFile === undefined) raw.files[i] = NO_SOURCE;
    else {
      let k = names.get(r.sourceFile);
      if (k === undefined) {
        names.set(r.sourceFile, (k = raw.sourceNames.length));
        raw.sourceNames.push(r.sourceFile);
      }
      raw.files[i] = k;
    }
  }
  return { raw, seqs };
}
