/**
 * Records to a stream (default: standard output), as praudit text or as NDJSON lines (collected-json.ts).
 *
 * A stream cannot be read back, so this sink is at-least-once: after a crash the collector replays from its
 * checkpoint and records since then may be printed twice. write() resolves once the stream has accepted the
 * batch (its write callback), so a slow reader slows this sink only, never the drain (the spool absorbs it).
 * A stream that fails (EPIPE: the reader went away) fails this sink's writes; its 'error' event is taken by the sink
 * while it is open, so it never becomes an uncaught exception.
 */
import { decodeRecord } from '../format/decode-record.js';
import { hostOrBuiltinEventTable } from '../catalog/event-table.js';
import { createPrauditRenderer, type PrauditOptions, type PrauditRenderer } from '../render/praudit/index.js';
import type { EventDescriber } from '../render/json/index.js';
import { BsmkitError } from '../errors.js';
import { CollectedJsonWriter } from './collected-json.js';
import type { CollectedRecord, Sink } from './sink.js';

export interface StdoutSinkOptions {
  /** 'praudit' (default): praudit's text, as `bsmkit print`; 'json': one NDJSON line per record. */
  format?: 'praudit' | 'json';
  /** Where to write (default process.stdout). */
  stream?: NodeJS.WritableStream;
  /** Event table (default: hostOrBuiltinEventTable()). */
  events?: EventDescriber;
  /** praudit options (delimiter, one line, raw, short, XML, …) for the 'praudit' format. */
  praudit?: Omit<PrauditOptions, 'events'>;
  /** Sink name (default "stdout"). */
  name?: string;
}

export class StdoutSink implements Sink {
  readonly name: string;
  private readonly stream: NodeJS.WritableStream;
  private readonly format: 'praudit' | 'json';
  private readonly events: EventDescriber | undefined;
  private readonly prauditOpts: Omit<PrauditOptions, 'events'>;
  private praudit: PrauditRenderer | undefined;
  private json: CollectedJsonWriter | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** The stream's error, once it failed: later writes fail at once with it (a failed stream takes no more data). */
  private streamError: Error | undefined;
  private readonly onStreamError = (err: Error): void => {
    this.streamError ??= err;
  };

  constructor(opts: StdoutSinkOptions = {}) {
    this.name = opts.name ?? 'stdout';
    this.stream = opts.stream ?? process.stdout;
    this.format = opts.format ?? 'praudit';
    this.events = opts.events;
    this.prauditOpts = opts.praudit ?? {};
  }

  async open(): Promise<void> {
    // Without a listener, a stream's 'error' (EPIPE) is thrown as an uncaught exception and ends the process.
    this.stream.removeListener('error', this.onStreamError);
    this.stream.on('error', this.onStreamError);
    const events = this.events ?? hostOrBuiltinEventTable();
    if (this.format === 'json') this.json = new CollectedJsonWriter(events);
    else {
      this.praudit = createPrauditRenderer({ ...this.prauditOpts, events });
      const begin = this.praudit.begin();
      if (begin) await this.put(begin);
    }
  }

  write(batch: readonly CollectedRecord[]): Promise<void> {
    const p = this.chain.then(() => this.writeNow(batch));
    this.chain = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    await this.chain;
    try {
      if (this.praudit) {
        const end = this.praudit.end();
        this.praudit = undefined;
        // a failed stream takes no footer: nothing more can reach the reader
        if (end && !this.streamError) await this.put(end);
      }
    } finally {
      this.json = undefined;
      // The listener stays while a failed write may still report: only a healthy stream is handed back untouched.
      if (!this.streamError) this.stream.removeListener('error', this.onStreamError);
    }
  }

  private async writeNow(batch: readonly CollectedRecord[]): Promise<void> {
    if (this.json) {
      if (batch.length) await this.put(this.json.render(batch).data);
      return;
    }
    if (!this.praudit) throw new BsmkitError('BSMKIT_E_SINK_CLOSED', `${this.name} sink is not open`);
    let out = '';
    for (const r of batch) out += this.praudit.record(decodeRecord(r.bytes, r.sourceOffset));
    if (out) await this.put(out);
  }

  /** praudit text is bytes held as latin1 chars (recorded strings are not re-encoded); NDJSON comes as UTF-8 bytes. */
  private put(text: string | Buffer): Promise<void> {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    const failed = (err: Error): BsmkitError => new BsmkitError('BSMKIT_E_SINK_WRITE', `${this.name} sink: write failed: ${err.message}`, { cause: err });
    if (this.streamError) return Promise.reject(failed(this.streamError));
    return new Promise((resolve, reject) => {
      // A stream may report its failure as an 'error' event only, without calling back: either ends the wait.
      const onError = (err: Error): void => reject(failed(err));
      this.stream.once('error', onError);
      this.stream.write(bytes, (err) => {
        this.stream.removeListener('error', onError);
        if (err) reject(failed(err));
        else resolve();
      });
    });
  }
}
