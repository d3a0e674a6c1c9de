/**
 * The read → frame → decode → render loop behind `bsmkit print`, with diagnostics on stderr and a progress bar.
 * Records are rendered synchronously inside the framer's callback (no per-record promises); output is batched
 * and written with backpressure, so memory stays bounded whatever the input size.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { Framer } from '../format/framer.js';
import { decodeRecord } from '../format/decode-record.js';
import { isCleanRecord } from '../format/token-index.js';
import type { BsmRecord, Diagnostic } from '../format/types.js';
import { createPrauditRenderer, type PrauditOptions } from '../render/praudit/index.js';
import { createPrauditByteRenderer, type PrauditByteRenderer } from '../render/praudit/byte-renderer.js';
import { createJsonByteRenderer, type JsonByteRenderer, type JsonOptions } from '../render/json/index.js';
import { BsmkitError } from '../errors.js';
import { write, type CliIo } from './io.js';
import { Progress } from './progress.js';
import { OutBuffer } from './out-buffer.js';

export type PrintMode =
  | { kind: 'praudit'; options: PrauditOptions }
  | { kind: 'json'; options: JsonOptions }
  | { kind: 'validate' };

export interface PrintTotals {
  records: number;
  fileTokens: number;
  intact: number;
  errors: number;
  warnings: number;
  bytes: number;
}

const READ_SIZE = 1 << 20;
const FLUSH_AT = 1 << 20;

export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}: offset ${d.offset}: ${d.message} [${d.code}]\n`;
}

export async function printInputs(files: string[], mode: PrintMode, io: CliIo, opts: { progress?: boolean } = {}): Promise<PrintTotals> {
  const totals: PrintTotals = { records: 0, fileTokens: 0, intact: 0, errors: 0, warnings: 0, bytes: 0 };
  let render: ((rec: BsmRecord) => string) | undefined;
  let head = '';
  let tail = '';
  const encoding = mode.kind === 'json' ? 'utf8' : 'latin1';
  // Text modes render clean records straight from their bytes; the rest goes through decodeRecord.
  let fast: PrauditByteRenderer | undefined;
  // --json: clean records from their bytes, the rest decoded, both into the renderer's one output buffer.
  let json: JsonByteRenderer | undefined;
  if (mode.kind === 'praudit') {
    const r = createPrauditRenderer(mode.options);
    render = (rec) => r.record(rec);
    head = r.begin();
    tail = r.end();
    fast = createPrauditByteRenderer(mode.options);
  } else if (mode.kind === 'json') {
    json = createJsonByteRenderer(mode.options);
  }
  const out: { add(s: string): void; readonly size: number; take(): Buffer[] } = fast ?? (json ? jsonOut(json) : new OutBuffer(encoding));
  const validateOnly = mode.kind === 'validate';
  out.add(head);
  let errText = '';
  const flush = async (): Promise<void> => {
    if (errText) {
      await write(io.stderr, errText);
      errText = '';
    }
    for (const b of out.take()) await write(io.stdout, b);
  };

  for (const file of files) {
    const name = file === '-' ? '(stdin)' : file;
    const fileTotals = { records: 0, fileTokens: 0, intact: 0, errors: 0, warnings: 0 };
    const note = (d: Diagnostic): void => {
      if (d.severity === 'error') fileTotals.errors++;
      else fileTotals.warnings++;
      errText += formatDiagnostic(name, d);
    };
    // Ranged sink: no Buffer view per record unless the record needs the slow path.
    const framer = new Framer({
      range(buf, start, end, offset, kind) {
        if (kind === 'file-token') fileTotals.fileTokens++;
        else fileTotals.records++;
        if (
          fast !== undefined ? fast.record(buf, start, end)
          : json !== undefined ? json.record(buf, start, end, offset)
          : validateOnly && isCleanRecord(buf, start, end)
        ) {
          fileTotals.intact++;
          return;
        }
        const rec = decodeRecord(buf.subarray(start, end), offset);
        if (rec.intact) fileTotals.intact++;
        for (let i = 0; i < rec.diagnostics.length; i++) note(rec.diagnostics[i]);
        if (json) json.push(rec);
        else if (render) out.add(render(rec));
      },
      diagnostic: note,
    });
    const source = await openInput(file, io);
    const progress = opts.progress !== false && io.stderr.isTTY && source.size > 32 << 20 ? new Progress(io.stderr, basename(name), source.size) : undefined;
    let done = 0;
    try {
      for await (const chunk of source.chunks(framer)) {
        done += chunk;
        progress?.update(done);
        if (out.size >= FLUSH_AT || errText.length >= FLUSH_AT) await flush();
      }
      framer.end();
    } finally {
      await source.close();
      progress?.stop();
    }
    totals.bytes += done;
    totals.records += fileTotals.records;
    totals.fileTokens += fileTotals.fileTokens;
    totals.intact += fileTotals.intact;
    totals.errors += fileTotals.errors;
    totals.warnings += fileTotals.warnings;
    if (mode.kind === 'validate') {
      const damaged = fileTotals.records + fileTotals.fileTokens - fileTotals.intact;
      out.add(`${name}: ${done} bytes, ${fileTotals.records} records, ${fileTotals.fileTokens} file tokens, ${fileTotals.intact} intact, ${damaged} damaged, ${fileTotals.errors} errors, ${fileTotals.warnings} warnings\n`);
    }
    await flush();
  }
  out.add(tail);
  await flush();
  return totals;
}

/** The output interface over the JSON byte renderer (JSON mode adds no text of its own: no head, tail or summary). */
function jsonOut(r: JsonByteRenderer): { add(s: string): void; readonly size: number; take(): Buffer[] } {
  return {
    add(s: string): void {
      if (s !== '') throw new Error('print --json: unexpected text output');
    },
    get size(): number {
      return r.pending;
    },
    take: (): Buffer[] => (r.pending > 0 ? [r.take()] : []),
  };
}

interface Input {
  size: number;
  /** Pushes the input into the framer chunk by chunk; yields the number of new bytes after each push. */
  chunks(framer: Framer): AsyncIterable<number>;
  close(): Promise<void>;
}

async function openInput(file: string, io: CliIo): Promise<Input> {
  if (file === '-') {
    const stdin = io.stdin;
    return {
      size: 0,
      chunks: async function* (framer: Framer) {
        for await (const c of stdin) {
          const b = typeof c === 'string' ? Buffer.from(c, 'latin1') : (c as Buffer);
          framer.push(b);
          yield b.length;
        }
      },
      close: async () => {},
    };
  }
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_OPEN', `cannot open ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const st = await fh.stat();
  const handle = fh;
  return {
    size: st.size,
    chunks: async function* (framer: Framer) {
      for (;;) {
        // A fresh buffer per read (records handed out are views into it and must not be overwritten), starting with
        // the incomplete record carried over: copying that tail costs less than the framer joining whole chunks.
        const pending = framer.pendingBytes();
        const buf = Buffer.allocUnsafeSlow(pending.length + READ_SIZE);
        pending.copy(buf, 0);
        const { bytesRead } = await handle.read(buf, pending.length, READ_SIZE, null);
        if (bytesRead === 0) return;
        framer.pushReplacing(buf.subarray(0, pending.length + bytesRead));
        yield bytesRead;
      }
    },
    close: () => handle.close(),
  };
}
