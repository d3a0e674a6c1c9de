/**
 * Runs a tracker over named byte inputs (trail files, or `-` for a stream such as stdin), one after another,
 * reading in 1 MiB chunks on the zero-copy path. Used by `bsmkit ps`, `tree` and `activity`; events go to the
 * tracker's `onEvent`, and `afterChunk` lets the caller write output with backpressure between chunks.
 */
import { open } from 'node:fs/promises';
import { BsmkitError } from '../errors.js';
import type { Diagnostic } from '../format/types.js';
import type { ProcessTracker } from './tracker.js';

const READ_SIZE = 1 << 20;

export interface TrackInputsOptions {
  /** The stream read for `-`. */
  stdin?: AsyncIterable<Buffer | string>;
  onDiagnostic?: (file: string, d: Diagnostic) => void;
  /** Called after each chunk (await it: output backpressure). */
  afterChunk?: () => Promise<void> | void;
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_OPEN', `cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    for (;;) {
      // A fresh buffer per read: the framer may hold a view of the previous one across a record boundary.
      const buf = Buffer.allocUnsafeSlow(READ_SIZE);
      const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Feeds every input to `tracker`, then ends it (the reorder buffer is flushed). Returns the bytes read. */
export async function trackInputs(tracker: ProcessTracker, files: readonly string[], opts: TrackInputsOptions = {}): Promise<number> {
  let bytes = 0;
  for (const file of files) {
    const name = file === '-' ? '(stdin)' : file;
    const input = tracker.input(name, (d) => opts.onDiagnostic?.(name, d));
    let chunks: AsyncIterable<Buffer | string>;
    if (file === '-') {
      if (!opts.stdin) throw new BsmkitError('BSMKIT_E_OPEN', 'no standard input to read');
      chunks = opts.stdin;
    } else {
      chunks = fileChunks(file);
    }
    for await (const c of chunks) {
      const b = typeof c === 'string' ? Buffer.from(c, 'latin1') : c;
      bytes += b.length;
      input.push(b);
      await opts.afterChunk?.();
    }
    input.end();
    await opts.afterChunk?.();
  }
  tracker.end();
  await opts.afterChunk?.();
  return bytes;
}
