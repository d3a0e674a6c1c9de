/**
 * Reading whole inputs: a file, a stream, or a buffer, framed and decoded.
 * Streaming (bounded memory whatever the file size); diagnostics are delivered in stream order with the records.
 */
import { createReadStream } from 'node:fs';
import { decodeRecord } from './decode-record.js';
import { Framer, type FramerOptions } from './framer.js';
import type { BsmRecord, Diagnostic } from './types.js';

export type StreamItem = { record: BsmRecord; diagnostic?: undefined } | { record?: undefined; diagnostic: Diagnostic };

/** Frames and decodes a whole buffer synchronously. */
export function decodeAll(buf: Buffer, opts: FramerOptions = {}): { records: BsmRecord[]; diagnostics: Diagnostic[] } {
  const records: BsmRecord[] = [];
  const diagnostics: Diagnostic[] = [];
  const f = new Framer(
    {
      record(bytes, offset) {
        const r = decodeRecord(bytes, offset);
        records.push(r);
        for (const d of r.diagnostics) diagnostics.push(d);
      },
      diagnostic(d) {
        diagnostics.push(d);
      },
    },
    opts,
  );
  f.push(buf);
  f.end();
  return { records, diagnostics };
}

/**
 * Frames a byte stream into records and between-record diagnostics, in order. Record-level diagnostics stay on
 * `record.diagnostics`. Pulls from the source only as fast as the consumer iterates (backpressure).
 */
export async function* frameStream(source: AsyncIterable<Buffer | string>, opts: FramerOptions = {}): AsyncGenerator<StreamItem> {
  let out: StreamItem[] = [];
  const f = new Framer(
    {
      record(bytes, offset) {
        const r = decodeRecord(bytes, offset);
        out.push({ record: r });
      },
      diagnostic(d) {
        out.push({ diagnostic: d });
      },
    },
    opts,
  );
  for await (const chunk of source) {
    f.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    if (out.length) {
      const batch = out;
      out = [];
      yield* batch;
    }
  }
  f.end();
  yield* out;
}

/** Default read size for files: large reads keep syscalls off the profile. */
export const READ_CHUNK = 1 << 20;

/** Streams the records of a file (or of `-` for stdin is the caller's business: pass a stream to frameStream). */
export function readFileItems(path: string, opts: FramerOptions = {}): AsyncGenerator<StreamItem> {
  return frameStream(createReadStream(path, { highWaterMark: READ_CHUNK }), opts);
}

/** Streams only the records of a file; diagnostics stay reachable through each record and `onDiagnostic`. */
export async function* readRecords(path: string, onDiagnostic?: (d: Diagnostic) => void): AsyncGenerator<BsmRecord> {
  for await (const it of readFileItems(path)) {
    if (it.record) yield it.record;
    else onDiagnostic?.(it.diagnostic);
  }
}
