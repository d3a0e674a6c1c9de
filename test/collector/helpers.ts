/** Test helpers: a sink that keeps what it stores, and ground-truth tallies of the kernel model. */
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Framer } from '../../src/format/framer.js';
import type { CollectedRecord, Sink } from '../../src/sinks/sink.js';
import { materialize, type RawBatch } from '../../src/spool/raw-batch.js';
import type { GroundTruth } from '../../src/testing/kernel-model/index.js';

export interface Stored {
  seq: number;
  id: string;
  origin: string;
  hex: string;
  sourceFile?: string;
  sourceOffset: number;
}

/** Keeps every record in memory; can be stalled (write waits) or made to fail. */
export class MemorySink implements Sink {
  readonly stored: Stored[] = [];
  stall?: Promise<void>;
  failNext = 0;
  writes = 0;
  /** Size of every batch written. */
  readonly sizes: number[] = [];
  catchUpBatch?: number;
  constructor(readonly name = 'memory') {}
  async open(): Promise<void> {}
  async write(batch: readonly CollectedRecord[]): Promise<void> {
    this.writes++;
    this.sizes.push(batch.length);
    if (this.stall) await this.stall;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected sink failure');
    }
    this.keep(batch);
  }
  protected keep(batch: readonly CollectedRecord[]): void {
    for (const r of batch) this.stored.push({ seq: r.seq, id: r.id, origin: r.origin, hex: r.bytes.toString('hex'), sourceFile: r.sourceFile, sourceOffset: r.sourceOffset });
  }
  async close(): Promise<void> {}
}

/**
 * A MemorySink that takes two writes at once (Sink.maxInFlight) and keeps that contract: writes are stored in call
 * order, each after a short while, and when one fails, the writes handed over before the failure fail too.
 */
export class PipelinedMemorySink extends MemorySink {
  readonly maxInFlight = 2;
  /** Writes in flight now, and the most seen at once. */
  inFlight = 0;
  maxSeen = 0;
  /** Indexes (0-based, in call order) of writes that fail, once each. */
  readonly failAt = new Set<number>();
  private chain: Promise<unknown> = Promise.resolve();
  private epoch = 0;

  override write(batch: readonly CollectedRecord[]): Promise<void> {
    const index = this.writes++;
    this.sizes.push(batch.length);
    const epoch = this.epoch;
    this.maxSeen = Math.max(this.maxSeen, ++this.inFlight);
    const p = this.chain
      .then(async () => {
        if (this.stall) await this.stall;
        await new Promise((r) => setTimeout(r, 2));
        if (epoch !== this.epoch) throw new Error('not stored: an earlier batch failed');
        if (this.failAt.delete(index)) {
          this.epoch++;
          throw new Error('injected sink failure');
        }
        this.keep(batch);
      })
      .finally(() => this.inFlight--);
    this.chain = p.catch(() => undefined);
    return p;
  }
}

/** A MemorySink that also takes the collector's raw spool batches (as the worker-thread sinks do). */
export class RawMemorySink extends MemorySink {
  rawWrites = 0;
  async writeRaw(raw: RawBatch): Promise<void> {
    this.rawWrites++;
    await this.write(materialize(raw));
  }
}

/**
 * An exactly-once file sink for crash tests: one NDJSON line per record, appended with a single write per batch;
 * lastSeq() reads the last complete line back (a torn line is ignored: it is written again).
 */
export class LineFileSink implements Sink {
  readonly name = 'lines';
  constructor(private readonly path: string) {}
  async open(): Promise<void> {}
  async write(batch: readonly CollectedRecord[]): Promise<void> {
    let s = '';
    for (const r of batch) s += JSON.stringify({ seq: r.seq, id: r.id, origin: r.origin, hex: r.bytes.toString('hex') }) + '\n';
    appendFileSync(this.path, s);
  }
  async lastSeq(): Promise<number | undefined> {
    if (!existsSync(this.path)) return undefined;
    const lines = readFileSync(this.path, 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        return (JSON.parse(lines[i]!) as { seq: number }).seq;
      } catch {
        /* torn or empty */
      }
    }
    return undefined;
  }
  async close(): Promise<void> {}
}

/** Reads a LineFileSink file (complete lines only; later duplicates of a seq replace earlier ones, as a store would). */
export function readLines(path: string): Array<{ seq: number; id: string; origin: string; hex: string }> {
  const out: Array<{ seq: number; id: string; origin: string; hex: string }> = [];
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    try {
      out.push(JSON.parse(l) as { seq: number; id: string; origin: string; hex: string });
    } catch {
      /* torn */
    }
  }
  return out;
}

/** What the model did with the trail and with pipe `pipeId`. */
export function tally(truth: GroundTruth, pipeId: number) {
  const t = { trailWritten: 0, live: 0, recovered: 0, trailOnly: 0, pipeOnly: 0, lostBoth: 0, dropsQlimit: 0, dropsAlloc: 0 };
  for (const r of truth.records) {
    const o = r.pipes.find((p) => p.pipe === pipeId)?.outcome;
    const written = r.trail.fate === 'written';
    if (written) t.trailWritten++;
    if (o === 'qlimit') t.dropsQlimit++;
    if (o === 'alloc') t.dropsAlloc++;
    if (written && o === 'queued') t.live++;
    else if (written && (o === 'qlimit' || o === 'alloc')) t.recovered++;
    else if (written) t.trailOnly++;
    else if (o === 'queued') t.pipeOnly++;
    else if (o === 'qlimit' || o === 'alloc') t.lostBoth++;
  }
  return t;
}

/** The id of the first pipe the model opened (the collector's, when it is the only one). */
export function firstPipeId(truth: GroundTruth): number {
  const e = truth.events.find((x) => x.type === 'pipe-open');
  if (!e) throw new Error('no pipe was opened');
  return e.pipe as number;
}

/** Every record of the trail files in `dirs`, in file name order, as hex (what a complete collection must hold). */
export function trailRecords(dirs: string[]): string[] {
  const out: string[] = [];
  const files = dirs.flatMap((d) => readdirSync(d).filter((n) => /^\d{14}\./.test(n)).map((n) => join(d, n))).sort((a, b) => a.split('/').pop()!.localeCompare(b.split('/').pop()!));
  for (const f of files) {
    const fr = new Framer({ record: (b, _o, kind) => kind === 'record' && out.push(b.toString('hex')), diagnostic: () => undefined });
    fr.push(readFileSync(f));
  }
  return out;
}
