/**
 * The ground truth: what the simulated kernel did with every record, so collector tests can compare their report
 * with what really happened.
 *
 * - `truth.bin`: one binary entry per record, in commit order (little-endian):
 *   u32 entryLength | f64 seq | u8 kind | u8 trailFate | u16 event | u32 auid | u8 failed | u8 flags |
 *   u16 pipeCount | u32 length | u32 trailFile (0xffffffff: none) | f64 trailOffset (−1: none) |
 *   pipeCount × (u32 pipeId, u8 outcome) | [record bytes when flags & 1]
 *   Record bytes are included for records that reached a pipe but not the trail (LOCAL-only, write errors), the
 *   only ones a test cannot find in the trail files.
 * - `events.ndjson`: trail files created/renamed/expired, `current` changes, pipes opened/flushed/closed (with the
 *   sequence numbers discarded), audit enabled/disabled/suspended.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const TRUTH_FILE = 'truth.bin';
export const EVENTS_FILE = 'events.ndjson';
export const SUMMARY_FILE = 'summary.json';
const MAGIC = Buffer.from('BSMKTRU1');
const FIXED = 40;

export const TrailFate = { WRITTEN: 0, NOT_SELECTED: 1, DISABLED: 2, SUSPENDED: 3, WRITE_ERROR: 4, ENOSPC: 5 } as const;
export const PipeOutcome = { QUEUED: 0, QLIMIT: 1, ALLOC: 2, NOT_SELECTED: 3 } as const;
const FATE_NAMES = ['written', 'not-selected', 'disabled', 'suspended', 'write-error', 'enospc'] as const;
const OUTCOME_NAMES = ['queued', 'qlimit', 'alloc', 'not-selected'] as const;
const KIND_NAMES = ['kernel', 'user', 'session'] as const;

export type TrailFateName = (typeof FATE_NAMES)[number];
export type PipeOutcomeName = (typeof OUTCOME_NAMES)[number];

export class TruthWriter {
  private readonly fd: number;
  private readonly eventsFd: number;
  private buf = Buffer.allocUnsafe(4 << 20);
  /** DataView stores are inlined by V8; Buffer.write*LE calls are not (this runs once per record). */
  private dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;

  constructor(dir: string) {
    this.fd = openSync(join(dir, TRUTH_FILE), 'w');
    this.eventsFd = openSync(join(dir, EVENTS_FILE), 'w');
    writeSync(this.fd, MAGIC);
  }

  /** Reserves room for one entry; returns its offset in the buffer. */
  private reserve(n: number): number {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) {
        this.buf = Buffer.allocUnsafe(n * 2);
        this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      }
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /**
   * One record. `pipeIds`/`outcomes` list every open pipe's outcome (empty when the record reached no pipe logic,
   * e.g. while audit was disabled). `bytes` is kept only when given.
   */
  record(
    seq: number,
    kind: number,
    fate: number,
    event: number,
    auid: number,
    failed: number,
    length: number,
    trailFile: number,
    trailOffset: number,
    pipeIds: ArrayLike<number>,
    outcomes: ArrayLike<number>,
    npipes: number,
    bytes: Buffer | null,
  ): void {
    const size = FIXED + npipes * 5 + (bytes ? bytes.length : 0);
    const at = this.reserve(size);
    const b = this.buf;
    const dv = this.dv;
    dv.setUint32(at, size, true);
    dv.setFloat64(at + 4, seq, true);
    b[at + 12] = kind;
    b[at + 13] = fate;
    dv.setUint16(at + 14, event, true);
    dv.setUint32(at + 16, auid >>> 0, true);
    b[at + 20] = failed;
    b[at + 21] = bytes ? 1 : 0;
    dv.setUint16(at + 22, npipes, true);
    dv.setUint32(at + 24, length, true);
    dv.setUint32(at + 28, trailFile >>> 0, true);
    dv.setFloat64(at + 32, trailOffset, true);
    let p = at + FIXED;
    for (let i = 0; i < npipes; i++) {
      dv.setUint32(p, pipeIds[i]!, true);
      b[p + 4] = outcomes[i]!;
      p += 5;
    }
    if (bytes) bytes.copy(b, p);
  }

  event(e: Record<string, unknown>): void {
    writeSync(this.eventsFd, JSON.stringify(e) + '\n');
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
    closeSync(this.eventsFd);
  }
}

export interface TruthRecord {
  seq: number;
  kind: (typeof KIND_NAMES)[number];
  event: number;
  auid: number;
  failed: boolean;
  length: number;
  trail: { fate: TrailFateName; file?: string; offset?: number };
  pipes: Array<{ pipe: number; outcome: PipeOutcomeName }>;
  /** Present for records that reached a pipe but not the trail. */
  bytes?: Buffer;
}

export interface TruthEvent {
  type: string;
  [key: string]: unknown;
}

export interface GroundTruth {
  records: TruthRecord[];
  events: TruthEvent[];
  /** Trail file index → its latest path (after renames; expired files keep their last name). */
  files: Map<number, string>;
}

/** Reads a model's ground truth directory (after KernelModel.sync() or stop()). */
export function readGroundTruth(dir: string): GroundTruth {
  const events: TruthEvent[] = readFileSync(join(dir, EVENTS_FILE), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TruthEvent);
  const files = new Map<number, string>();
  for (const e of events) {
    if ((e.type === 'trail-open' || e.type === 'trail-rename') && typeof e.file === 'number') files.set(e.file, String(e.path));
  }
  const b = readFileSync(join(dir, TRUTH_FILE));
  if (b.length < MAGIC.length || !b.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${join(dir, TRUTH_FILE)}: not a kernel-model truth log`);
  const records: TruthRecord[] = [];
  let p = MAGIC.length;
  while (p + FIXED <= b.length) {
    const size = b.readUInt32LE(p);
    if (size < FIXED || p + size > b.length) break;
    const fateCode = b[p + 13]!;
    const npipes = b.readUInt16LE(p + 22);
    const length = b.readUInt32LE(p + 24);
    const fileIdx = b.readUInt32LE(p + 28);
    const rec: TruthRecord = {
      seq: b.readDoubleLE(p + 4),
      kind: KIND_NAMES[b[p + 12]!] ?? 'kernel',
      event: b.readUInt16LE(p + 14),
      auid: b.readUInt32LE(p + 16),
      failed: b[p + 20] === 1,
      length,
      trail: { fate: FATE_NAMES[fateCode] ?? 'written' },
      pipes: [],
    };
    if (fileIdx !== 0xffffffff) {
      rec.trail.file = files.get(fileIdx);
      rec.trail.offset = b.readDoubleLE(p + 32);
    }
    let q = p + FIXED;
    for (let i = 0; i < npipes; i++) {
      rec.pipes.push({ pipe: b.readUInt32LE(q), outcome: OUTCOME_NAMES[b[q + 4]!] ?? 'queued' });
      q += 5;
    }
    if (b[p + 21]! & 1) rec.bytes = Buffer.from(b.subarray(q, q + length));
    records.push(rec);
    p += size;
  }
  return { records, events, files };
}
