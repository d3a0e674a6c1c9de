/**
 * Runs a selection over several inputs: one after the other (as auditreduce), or merged by header time with
 * `merge` (auditreduce cannot merge, §5 bug 14). Output goes to `write`, awaited for backpressure.
 */
import type { Selection } from './compile.js';
import { emptyStats, InputScanner, itemTime, type Emit, type ReduceStats, type ScanOptions } from './reduce-stream.js';

/** Output buffer size for `batch` (a chunk's selected bytes usually fit in one). */
const BATCH_BYTES = 1 << 20;

export interface ReduceInput {
  /** Name used in diagnostics (a path, or `-` / `(stdin)`). */
  name: string;
  /** The input's bytes. Opened lazily so that a later input is not opened before an earlier one is done. */
  open(): AsyncIterable<Buffer | string>;
}

export interface RunOptions extends ScanOptions {
  /**
   * Merge the inputs by header time (sec, msec); ties go by input order, then byte offset. Each input is assumed
   * to be in time order itself (a trail is): the merge interleaves inputs and never reorders within one.
   */
  merge?: boolean;
  /**
   * Copy the selected bytes of each input chunk into one output buffer (binary output): one write per chunk
   * instead of one per run of records. `write` then gets offset -1.
   */
  batch?: boolean;
}

/**
 * Called with each output slice (one or more whole records) and the input offset of its first byte; may return a
 * promise to apply backpressure.
 */
export type Write = (chunk: Buffer, offset: number) => void | Promise<void>;

const asBuffer = (c: Buffer | string): Buffer => (typeof c === 'string' ? Buffer.from(c, 'latin1') : c);

export async function runReduce(inputs: ReduceInput[], sel: Selection, write: Write, opts: RunOptions = {}): Promise<ReduceStats> {
  const stats = emptyStats();
  if (opts.merge && inputs.length > 1) {
    await merged(inputs, sel, write, stats, opts);
    return stats;
  }
  for (const input of inputs) {
    let pending: Buffer[] = [];
    let offsets: number[] = [];
    let batch: Buffer | null = null;
    let used = 0;
    const emit: Emit = opts.batch
      ? (b, s, e) => {
          const len = e - s;
          if (batch === null || used + len > batch.length) {
            if (batch !== null && used > 0) {
              pending.push(batch.subarray(0, used));
              offsets.push(-1);
            }
            batch = Buffer.allocUnsafe(Math.max(BATCH_BYTES, len));
            used = 0;
          }
          // TypedArray#set from a view: the cheapest per-record copy measured (Buffer#copy adds argument checks
          // around the same memcpy; a byte loop is slow until the JIT has warmed up, which is most of a short run).
          batch.set(new Uint8Array(b.buffer, b.byteOffset + s, len), used);
          used += len;
        }
      : (b, s, e, off) => {
          pending.push(b.subarray(s, e));
          offsets.push(off);
        };
    const scanner = new InputScanner(sel, input.name, stats, emit, { ...opts, coalesce: opts.coalesce !== false });
    const drain = async (): Promise<void> => {
      if (batch !== null && used > 0) {
        // The batch buffer goes to the writer as is; later records start a new one.
        pending.push(batch.subarray(0, used));
        offsets.push(-1);
        batch = batch.subarray(used);
        used = 0;
        if (batch.length < 4096) batch = null;
      }
      const out = pending;
      const offs = offsets;
      pending = [];
      offsets = [];
      for (let i = 0; i < out.length; i++) {
        const w = write(out[i]!, offs[i]!);
        if (w) await w;
      }
    };
    for await (const chunk of input.open()) {
      scanner.push(asBuffer(chunk));
      await drain();
    }
    scanner.end();
    await drain();
  }
  return stats;
}

interface Queued {
  bytes: Buffer;
  offset: number;
  sec: number;
  msec: number;
}

interface Source {
  index: number;
  iter: AsyncIterator<Buffer | string>;
  scanner: InputScanner;
  queue: Queued[];
  head: number;
  done: boolean;
}

/** k-way merge: each input is read only until it has a selected record waiting (memory stays bounded). */
async function merged(inputs: ReduceInput[], sel: Selection, write: Write, stats: ReduceStats, opts: RunOptions): Promise<void> {
  // The selection keeps per-stream state in openbsm mode only, and merging is a corrected-mode feature.
  const sources: Source[] = inputs.map((input, index) => {
    const queue: Queued[] = [];
    const scanner = new InputScanner(
      sel,
      input.name,
      stats,
      (b, s, e, offset) => {
        const [sec, msec] = itemTime(b, s);
        queue.push({ bytes: b.subarray(s, e), offset, sec, msec });
      },
      { ...opts, coalesce: false },
    );
    return { index, iter: input.open()[Symbol.asyncIterator](), scanner, queue, head: 0, done: false };
  });
  let out: Buffer[] = [];
  let outBytes = 0;
  const flush = async (): Promise<void> => {
    if (out.length === 0) return;
    const c = out.length === 1 ? out[0]! : Buffer.concat(out, outBytes);
    out = [];
    outBytes = 0;
    const w = write(c, -1);
    if (w) await w;
  };
  const fill = async (src: Source): Promise<void> => {
    while (src.head >= src.queue.length && !src.done) {
      if (src.head > 0) {
        src.queue.splice(0, src.head);
        src.head = 0;
      }
      const r = await src.iter.next();
      if (r.done) {
        src.scanner.end();
        src.done = true;
      } else {
        src.scanner.push(asBuffer(r.value));
      }
    }
  };
  for (;;) {
    let best: Source | undefined;
    for (const src of sources) {
      await fill(src);
      if (src.head >= src.queue.length) continue;
      const q = src.queue[src.head]!;
      if (!best) {
        best = src;
        continue;
      }
      const b = best.queue[best.head]!;
      if (q.sec < b.sec || (q.sec === b.sec && q.msec < b.msec)) best = src;
    }
    if (!best) break;
    const item = best.queue[best.head++]!;
    if (!opts.batch) {
      const w = write(item.bytes, item.offset);
      if (w) await w;
      continue;
    }
    // Binary output: gather records into one write of about BATCH_BYTES. The views stay valid (chunks are never
    // reused), so nothing is copied until the one concat.
    out.push(item.bytes);
    outBytes += item.bytes.length;
    if (outBytes >= BATCH_BYTES) await flush();
  }
  await flush();
}
