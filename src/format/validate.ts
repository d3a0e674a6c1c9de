/**
 * Validation without decoding: frame, check every record's tokens, count, and report damage.
 *
 * The fast path never builds token objects: the framer hands out byte ranges and isCleanRecord walks the tokens in
 * place. Only a record that is not clean is decoded (decodeRecord), to report exactly what is wrong with it. This is
 * what `bsmkit print --validate` and the collector's spool recovery use.
 */
import { open } from 'node:fs/promises';
import { decodeRecord } from './decode-record.js';
import { Framer, type FramerOptions, type FramerRangeSink } from './framer.js';
import { isCleanRecord } from './token-index.js';
import type { Diagnostic } from './types.js';

const READ_SIZE = 1 << 20;

export interface ValidationCounts {
  bytes: number;
  records: number;
  fileTokens: number;
  /** Records and file tokens with no damage at all. */
  intact: number;
  errors: number;
  warnings: number;
}

export function emptyCounts(): ValidationCounts {
  return { bytes: 0, records: 0, fileTokens: 0, intact: 0, errors: 0, warnings: 0 };
}

/** Frames and checks a byte stream pushed in chunks; diagnostics go to `onDiagnostic` in stream order. */
export class Validator implements FramerRangeSink {
  readonly counts: ValidationCounts = emptyCounts();
  private readonly framer: Framer;
  private readonly onDiagnostic: (d: Diagnostic) => void;

  constructor(onDiagnostic: (d: Diagnostic) => void = () => {}, opts: FramerOptions = {}) {
    this.onDiagnostic = onDiagnostic;
    this.framer = new Framer(this, opts);
  }

  push(chunk: Buffer): void {
    this.counts.bytes += chunk.length;
    this.framer.push(chunk);
  }

  /** See Framer.pendingBytes / pushReplacing: lets a reader copy only the carried-over bytes. */
  pendingBytes(): Buffer {
    return this.framer.pendingBytes();
  }

  pushReplacing(buf: Buffer, pendingLength: number): void {
    this.counts.bytes += buf.length - pendingLength;
    this.framer.pushReplacing(buf);
  }

  end(): ValidationCounts {
    this.framer.end();
    return this.counts;
  }

  range(buf: Buffer, start: number, end: number, offset: number, kind: 'record' | 'file-token'): void {
    const c = this.counts;
    if (kind === 'record') c.records++;
    else c.fileTokens++;
    if (isCleanRecord(buf, start, end)) {
      c.intact++;
      return;
    }
    const rec = decodeRecord(buf.subarray(start, end), offset);
    if (rec.intact) c.intact++;
    for (let i = 0; i < rec.diagnostics.length; i++) this.diagnostic(rec.diagnostics[i]);
  }

  diagnostic(d: Diagnostic): void {
    if (d.severity === 'error') this.counts.errors++;
    else this.counts.warnings++;
    this.onDiagnostic(d);
  }
}

/** Validates a whole file with bounded memory (1 MiB reads). */
export async function validateFile(path: string, onDiagnostic?: (d: Diagnostic) => void): Promise<ValidationCounts> {
  const v = new Validator(onDiagnostic);
  const fh = await open(path, 'r');
  try {
    for (;;) {
      // A fresh buffer per read, starting with the incomplete record carried over from the last one: copying that
      // small tail costs less than the framer joining every whole chunk to it.
      const pending = v.pendingBytes();
      const buf = Buffer.allocUnsafeSlow(pending.length + READ_SIZE);
      pending.copy(buf, 0);
      const { bytesRead } = await fh.read(buf, pending.length, READ_SIZE, null);
      if (bytesRead === 0) break;
      v.pushReplacing(buf.subarray(0, pending.length + bytesRead), pending.length);
    }
  } finally {
    await fh.close();
  }
  return v.end();
}
