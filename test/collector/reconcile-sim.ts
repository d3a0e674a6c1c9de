/**
 * Test helpers for reconcile.test.ts: real BSM record bytes, a tiny audit subsystem (one worker writing the trail
 * first, then a bounded pipe queue with a drop counter, kernel-audit-pipe.md §5 and §12) and a collector stand-in that
 * feeds a Reconciler the way collector.ts does (per batch: setKernelDrops, pushPipe…, pump; trail records tagged with
 * an epoch; "drained" marks with the epoch loaded before the read that found the queue empty), on a clock the test
 * advances by hand. The ground truth of every record is kept, so the output can be checked record by record.
 */
import assert from 'node:assert/strict';
import { encodeRecord, str } from '../../src/format/encode/index.js';
import { Reconciler, type ReconcilerOptions } from '../../src/collector/reconcile.js';
import { FLAG_PIPE_ONLY, type SpoolAppend } from '../../src/spool/spool.js';

/** A real record (header32, text, return32, trailer); the same `id` gives the same bytes (an identical duplicate). */
export function rec(id: number, pad = 0): Buffer {
  return encodeRecord({ type: 'header32', event: 72, sec: 1764000000 + Math.floor(id / 1000), msec: id % 1000 }, [
    { type: 'text', text: str(`record ${id}${'.'.repeat(pad)}`) },
    { type: 'return32', status: 0, value: id & 0xffff },
  ]);
}

export const TRAIL_FILE = '20261124180000.not_terminated';
export const SESSION = 'pipe:2026-11-24T18:00:00.000Z';

export type Expected = 'live' | 'recovered' | 'trail' | 'pipeOnly';

/** One record the kernel committed, and what became of it. */
export interface Truth {
  bytes: Buffer;
  /** Trail byte offset, when written to the trail. */
  trailOffset?: number;
  /** Pipe byte offset, when the collector received it from the pipe. */
  pipeOffset?: number;
  /** Queued on the pipe but dropped (queue full) or set aside by the collector (discarded). */
  dropped: boolean;
  /** Committed before the pipe was opened (or selected only for the trail): the pipe never had it. */
  neverInPipe: boolean;
}

export function expectedOf(t: Truth): Expected | undefined {
  if (t.trailOffset !== undefined) {
    if (t.pipeOffset !== undefined) return 'live';
    return t.dropped ? 'recovered' : 'trail';
  }
  return t.pipeOffset !== undefined ? 'pipeOnly' : undefined;
}

export interface SimOptions extends Partial<ReconcilerOptions> {
  /** Pipe queue limit (records); beyond it the kernel drops. */
  qlimit?: number;
  /** Whether the pipe is open from the start (records committed before open() never reach it). */
  pipeOpen?: boolean;
}

export class Sim {
  now = 1_000_000;
  readonly out: SpoolAppend[] = [];
  readonly rc: Reconciler;
  readonly truth: Truth[] = [];
  private readonly trailFile: number[] = []; // truth indexes in trail order
  private trailRead = 0; // records of trailFile handed to the reconciler
  private trailBytes = 0;
  private readonly queue: number[] = []; // truth indexes waiting in the pipe queue
  private pipeOffset = 0;
  drops = 0;
  pipeOpen: boolean;
  readonly qlimit: number;
  private epoch = 0;
  /** Every pipe record handed to the reconciler, in pipe order (truth indexes). */
  readonly pushedPipe: number[] = [];

  constructor(opts: SimOptions = {}) {
    this.qlimit = opts.qlimit ?? 1 << 30;
    this.pipeOpen = opts.pipeOpen ?? true;
    this.rc = new Reconciler({ pipeSession: SESSION, graceMs: opts.graceMs, pipeOnlyAfterMs: opts.pipeOnlyAfterMs, dropsKnown: opts.dropsKnown }, (r) => this.out.push(r));
  }

  /** The kernel commits a record: trail first (unless the write fails), then the pipe (unless it does not select it). */
  commit(bytes: Buffer, where: { trail?: boolean; pipe?: boolean } = {}): number {
    const i = this.truth.length;
    const t: Truth = { bytes, dropped: false, neverInPipe: false };
    this.truth.push(t);
    if (where.trail ?? true) {
      t.trailOffset = this.trailBytes;
      this.trailBytes += bytes.length;
      this.trailFile.push(i);
    }
    if (!this.pipeOpen || !(where.pipe ?? true)) t.neverInPipe = true;
    else if (this.queue.length >= this.qlimit) {
      t.dropped = true;
      this.drops++;
    } else this.queue.push(i);
    return i;
  }

  commitMany(ids: Iterable<number>, where?: { trail?: boolean; pipe?: boolean }): number[] {
    const r: number[] = [];
    for (const id of ids) r.push(this.commit(rec(id), where));
    return r;
  }

  /** The kernel drops a record the pipe would have had (e.g. allocation failure): counted, never queued. */
  dropNext(bytes: Buffer): number {
    const i = this.commit(bytes, { pipe: false });
    this.truth[i]!.neverInPipe = false;
    this.truth[i]!.dropped = true;
    this.drops++;
    return i;
  }

  advance(ms: number): void {
    this.now += ms;
  }

  /** The trail follower reads up to `n` records (one epoch per call, as per event-loop turn in the collector). */
  readTrail(n = Infinity): number {
    const until = Math.min(this.trailFile.length, this.trailRead + n);
    if (this.trailRead === until) return 0;
    this.epoch++;
    const k = until - this.trailRead;
    for (; this.trailRead < until; this.trailRead++) {
      const i = this.trailFile[this.trailRead]!;
      const t = this.truth[i]!;
      this.rc.pushTrail(t.bytes, TRAIL_FILE, t.trailOffset!, this.epoch, this.now);
    }
    this.rc.pump(this.now);
    return k;
  }

  /**
   * The drain reads up to `n` records as one batch and hands them over (or sets them aside: `discard`, as the collector
   * does while its spool is paused or the pipe backlog is at its cap). A read that leaves the queue empty posts a mark
   * with the epoch loaded before the read.
   */
  drainPipe(n = Infinity, opts: { discard?: boolean; mark?: boolean } = {}): number {
    const epochBefore = this.epoch;
    const batch = this.queue.splice(0, Math.min(n, this.queue.length));
    this.rc.setKernelDrops(this.drops);
    if (opts.discard) {
      for (const i of batch) this.truth[i]!.dropped = true;
      this.rc.discardedPipe(batch.length);
    } else {
      for (const i of batch) {
        const t = this.truth[i]!;
        t.pipeOffset = this.pipeOffset;
        this.pipeOffset += t.bytes.length;
        this.rc.pushPipe(t.bytes, t.pipeOffset, this.now);
        this.pushedPipe.push(i);
      }
    }
    this.rc.pump(this.now);
    if (this.queue.length === 0 && opts.mark !== false) {
      this.rc.setKernelDrops(this.drops);
      this.rc.drained(epochBefore, this.now);
      this.rc.pump(this.now);
    }
    return batch.length;
  }

  /** Everything read on both sides, marks and time enough for every decision; no finish(). */
  settle(): void {
    for (let k = 0; k < 10; k++) {
      this.readTrail();
      this.drainPipe();
      this.advance(1000);
      this.drainPipe();
      this.rc.pump(this.now);
    }
  }

  get trailUnread(): number {
    return this.trailFile.length - this.trailRead;
  }
  get queued(): number {
    return this.queue.length;
  }

  originOf(r: SpoolAppend): Expected {
    if (r.flags === FLAG_PIPE_ONLY) return 'pipeOnly';
    return r.origin === 'pipe' ? 'live' : r.origin;
  }

  /** Tallies of the truth. */
  expectedCounts(): Record<Expected, number> {
    const c: Record<Expected, number> = { live: 0, recovered: 0, trail: 0, pipeOnly: 0 };
    for (const t of this.truth) {
      const e = expectedOf(t);
      if (e) c[e]++;
    }
    return c;
  }

  /**
   * Checks the whole output against the truth, once everything is resolved:
   * - the trail records come out exactly once each, in trail order, with their trail positions and bytes;
   * - each has its true origin (among identical duplicates, which copy is "the" live one cannot be told apart, so
   *   origins are compared per distinct byte string; `originsAsCounts` compares only totals, for the cases where the
   *   drop counter cannot say which unclaimed record was which);
   * - pipe-only records come out once each with the pipe session and offset and the pipe-only flag;
   * - every record taken from the pipe (live or pipe-only) comes out in pipe order: the only reordering is where
   *   pipe-only records sit among trail-only ones;
   * - the reconciler's counts equal both the output's tallies and the truth's.
   */
  check(opts: { originsAsCounts?: boolean } = {}): void {
    const rc = this.rc;
    assert.equal(rc.pipeBacklog, 0, 'pipe backlog left');
    assert.equal(rc.trailBacklog, 0, 'trail backlog left');
    assert.equal(rc.backlogBytes, 0, 'backlog bytes left');
    const trailOut = this.out.filter((r) => r.sourceFile !== SESSION);
    const trailTruth = this.trailFile.map((i) => this.truth[i]!);
    assert.deepEqual(
      trailOut.map((r) => `${r.sourceFile}@${r.sourceOffset}:${Buffer.from(r.bytes).toString('hex')}`),
      trailTruth.map((t) => `${TRAIL_FILE}@${t.trailOffset}:${t.bytes.toString('hex')}`),
      'trail records: each once, in trail order',
    );
    if (!opts.originsAsCounts) {
      const got = new Map<string, string[]>();
      const want = new Map<string, string[]>();
      trailOut.forEach((r, k) => {
        const key = Buffer.from(r.bytes).toString('hex');
        (got.get(key) ?? got.set(key, []).get(key)!).push(this.originOf(r));
        (want.get(key) ?? want.set(key, []).get(key)!).push(expectedOf(trailTruth[k]!)!);
      });
      for (const [k, w] of want) assert.deepEqual(got.get(k)!.sort(), w.sort(), `origins of ${k.slice(0, 80)}…`);
    }
    const pipeOnlyOut = this.out.filter((r) => r.sourceFile === SESSION);
    const pipeOnlyTruth = this.truth.filter((t) => expectedOf(t) === 'pipeOnly');
    assert.deepEqual(
      pipeOnlyOut.map((r) => [r.origin, r.flags, r.sourceOffset, Buffer.from(r.bytes).toString('hex')]),
      pipeOnlyTruth.map((t) => ['pipe', FLAG_PIPE_ONLY, t.pipeOffset, t.bytes.toString('hex')]),
      'pipe-only records',
    );
    assert.deepEqual(
      this.out.filter((r) => r.origin === 'pipe').map((r) => Buffer.from(r.bytes).toString('hex')),
      this.pushedPipe.map((i) => this.truth[i]!.bytes.toString('hex')),
      'records taken from the pipe come out in pipe order',
    );
    const tally: Record<Expected, number> = { live: 0, recovered: 0, trail: 0, pipeOnly: 0 };
    for (const r of this.out) tally[this.originOf(r)]++;
    assert.deepEqual({ ...rc.counts }, tally, 'counts = output');
    assert.deepEqual(tally, this.expectedCounts(), 'counts = truth');
  }
}

/** A small deterministic PRNG (mulberry32) for the randomised schedules. */
export { rng as prng } from '../sources/trail-writer.js';
