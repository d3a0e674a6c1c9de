/**
 * A built-in sink run on its own worker thread. Rendering rows and DuckDB's inserts cost several µs per record: on
 * the collector's main thread that work would hold up the trail, the reconciliation and the spool, so the store
 * would slow intake down instead of just lagging behind it (its lag is what the spool absorbs).
 *
 * The collector hands spooled records over as a RawBatch (spool/raw-batch.ts): the buffers are transferred, and the
 * record objects and ids are made on the worker. Errors come back with their code and message.
 */
import { Worker } from 'node:worker_threads';
import { BsmkitError } from '../errors.js';
import { packRecords, type RawBatch } from '../spool/raw-batch.js';
import { workerUrl } from '../worker-url.js';
import type { DuckDbSinkOptions } from './duckdb-sink.js';
import type { NdjsonFileSinkOptions } from './ndjson-file-sink.js';
import type { CollectedRecord, Sink } from './sink.js';
import { STORE_ROW_GROUP } from './store-schema.js';
import { claimTarget, DEFAULT_NDJSON_PREFIX, ndjsonTarget, releaseTarget } from './held-files.js';
import { defaultStorePath } from './store-path.js';

/** What the worker builds (options must be plain data: no functions cross threads). */
export type WorkerSinkSpec =
  | { kind: 'duckdb'; options?: Omit<DuckDbSinkOptions, 'events'> }
  | { kind: 'ndjson'; options: Omit<NdjsonFileSinkOptions, 'events' | 'now'> };

/** Requests to the worker (sink-worker.ts) and its replies. */
type SinkCall = { op: 'open' | 'lastSeq' | 'close' } | { op: 'write'; raw: RawBatch; seqs?: Float64Array; ids?: string[] };
export type SinkRequest = SinkCall & { id: number };
export type SinkReply = { id: number; ok: true; value?: number } | { id: number; ok: false; message: string; code?: string };

const CLOSE_TIMEOUT_MS = 60_000;

export class WorkerSink implements Sink {
  readonly name: string;
  readonly catchUpBatch?: number;
  /** As the sink on the worker: its writes are passed on as they come, and it keeps them in order (sink-worker.ts). */
  readonly maxInFlight?: number;
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: number | undefined) => void; reject: (e: Error) => void }>();
  /** open() succeeded and close() was not called: a fresh worker (after one died) opens the sink first. */
  private opened = false;
  /** The store or NDJSON files claimed in this process (held-files.ts), from open() to close(). */
  private claim: string | undefined;

  constructor(private readonly spec: WorkerSinkSpec) {
    this.name = spec.options?.name ?? spec.kind;
    // both built-in sinks prepare one write while the previous one is stored
    this.maxInFlight = 2;
    if (spec.kind === 'duckdb') this.catchUpBatch = STORE_ROW_GROUP;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(workerUrl(import.meta.url, './sink-worker'), { workerData: this.spec });
    w.on('message', (m: SinkReply) => {
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new BsmkitError(m.code ?? 'BSMKIT_E_SINK', m.message));
    });
    const fail = (err: Error): void => {
      this.worker = undefined;
      for (const p of this.waiting.values()) p.reject(err);
      this.waiting.clear();
    };
    w.on('error', (err) => fail(new BsmkitError('BSMKIT_E_SINK', `sink ${this.name}: worker thread failed: ${err.message}`, { cause: err })));
    w.on('exit', (code) => {
      if (this.worker === w) fail(new BsmkitError('BSMKIT_E_SINK', `sink ${this.name}: worker thread exited (code ${code})`));
    });
    return (this.worker = w);
  }

  private call(req: SinkCall, transfer: ArrayBuffer[] = []): Promise<number | undefined> {
    const fresh = !this.worker;
    const w = this.start();
    // The worker runs requests in order: an open sent first is done before this request (which fails if it failed).
    if (fresh && this.opened && req.op !== 'open') void this.call({ op: 'open' }).catch(() => undefined);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ ...req, id }, transfer);
    });
  }

  async open(): Promise<void> {
    // The worker's sink claims its target in the worker's own module copy: here, on the thread that makes every
    // sink, is where two sinks on one store or directory can see each other (held-files.ts).
    const spec = this.spec;
    const [target, code] =
      spec.kind === 'duckdb'
        ? [spec.options?.path ?? defaultStorePath(), 'BSMKIT_E_STORE_OPEN']
        : [ndjsonTarget(spec.options.dir, spec.options.prefix ?? DEFAULT_NDJSON_PREFIX), 'BSMKIT_E_SINK_OPEN'];
    this.claim = claimTarget(target, this, code, `sink ${this.name}: cannot open ${target}`);
    try {
      await this.call({ op: 'open' });
    } catch (err) {
      if (!this.opened) releaseTarget(this.claim, this);
      throw err;
    }
    this.opened = true;
  }

  /** Records packed into one buffer and sent (their seqs may have gaps: a selection filtered them). */
  async write(batch: readonly CollectedRecord[]): Promise<void> {
    if (batch.length === 0) return;
    const { raw, seqs } = packRecords(batch);
    // The records' own ids go along: write() stores what it is given (the worker would derive the same ones from a
    // spool batch, but a caller may have its own).
    await this.call({ op: 'write', raw, seqs, ids: batch.map((r) => r.id) }, transferList(raw, seqs));
  }

  /** A spool RawBatch, handed over without making record objects here. Its buffers are transferred (unusable after). */
  async writeRaw(raw: RawBatch): Promise<void> {
    if (raw.count === 0) return;
    await this.call({ op: 'write', raw }, transferList(raw));
  }

  async lastSeq(): Promise<number | undefined> {
    return this.call({ op: 'lastSeq' });
  }

  async close(): Promise<void> {
    this.opened = false;
    const w = this.worker;
    if (!w) {
      releaseTarget(this.claim, this);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      // A close that never answers must not hold the collector's shutdown: the store stays consistent without it
      // (DuckDB replays its write-ahead log on the next open).
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BsmkitError('BSMKIT_E_SINK', `sink ${this.name}: close did not finish within ${CLOSE_TIMEOUT_MS / 1000} s; worker stopped`)), CLOSE_TIMEOUT_MS);
      });
      await Promise.race([this.call({ op: 'close' }), limit]);
    } finally {
      clearTimeout(timer);
      this.worker = undefined;
      await w.terminate();
      releaseTarget(this.claim, this);
    }
  }
}

function transferList(raw: RawBatch, seqs?: Float64Array): ArrayBuffer[] {
  const arrays: ArrayBufferView[] = [raw.data, raw.lens, raw.origins, raw.flags, raw.files, raw.srcOffs];
  if (seqs) arrays.push(seqs);
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.byteLength > 0 && a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) out.add(a.buffer);
  return [...out];
}
