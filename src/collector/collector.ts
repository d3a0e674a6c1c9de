/**
 * The collector: source(s) → durable spool → sinks, each sink with its own checkpoint (docs/collector.md).
 *
 * - trail mode: the trail follower feeds the spool; the resume cursor is the trail position after the newest
 *   spooled trail record, read back from the spool itself, so a crash at any point neither loses nor repeats.
 * - pipe mode: the drain thread feeds the spool; kernel drops are reported with the pipe offsets around them.
 * - hybrid mode: both, aligned by reconcile.ts; the spool receives records in trail order with their trail
 *   positions, so restarts resume from the trail exactly as in trail mode.
 *
 * Intake pauses (never silently loses) when the spool's disk is full or the spool is at its size cap: the trail is
 * simply not read further (it keeps everything), hybrid mode discards pipe records (the trail supplies them later as
 * recovered) and pipe mode counts what it could not keep as lost ('spool-full') with positions.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { BsmkitError } from '../errors.js';
import type { Sink } from '../sinks/sink.js';
import type { TrailCursor } from '../sources/trail/cursor.js';
import { followTrail, type TrailFollower, type TrailItem } from '../sources/trail/follow.js';
import { parseTrailName } from '../sources/trail/names.js';
import { concatRaw, materialize } from '../spool/raw-batch.js';
import { lockSpool } from '../spool/spool-lock.js';
import { Spool, SpoolFullError, writeFileAtomic, type SpoolAppend } from '../spool/spool.js';
import { formatReport, statsLine, prometheusText, type CollectMode, type CollectorStats, type LossEntry, type RecordCounts, type SinkStats } from './accounting.js';
import { PipeDrain } from './pipe-drain.js';
import type { DrainMessage, DropGap, PipeDeviceSpec } from './pipe-drain-protocol.js';
import { Reconciler } from './reconcile.js';
import type { DrainPriority } from '../sources/pipe/thread-priority.js';

export interface CollectorOptions {
  mode: CollectMode;
  spoolDir: string;
  /** Trail directories (trail and hybrid modes). */
  trailDirs?: string[];
  /** The audit pipe (pipe and hybrid modes). */
  device?: PipeDeviceSpec;
  /** Pipe queue limit to set ('max': GET_QLIMIT_MAX, the default). */
  qlimit?: number | 'max';
  /** The pipe drain thread's scheduling (default 'high': real-time where the OS allows; thread-priority.ts). */
  drainPriority?: DrainPriority;
  sinks: Sink[];
  /** Where to start in the trail when the spool has no position yet (default 'start'). */
  from?: 'start' | 'end';
  spoolMaxBytes?: number;
  segmentBytes?: number;
  /** Optional record filter applied between the spool and the sinks (e.g. a compiled auditreduce selection). */
  select?: (bytes: Buffer) => boolean;
  sinkBatch?: number;
  statsIntervalMs?: number;
  onStats?: (line: string, stats: CollectorStats) => void;
  log?: (line: string) => void;
  /** Serve Prometheus text on 127.0.0.1:port (0: off). */
  prometheusPort?: number;
  trailPollMs?: number;
  graceMs?: number;
  pipeOnlyAfterMs?: number;
  /** Reconciliation backlog cap (records held per side before the trail stops being read). */
  maxBacklogRecords?: number;
  checkpointIntervalMs?: number;
  /** How long stop() waits for each sink's close() before it goes on without it (default 10 s). */
  sinkCloseMs?: number;
}

interface SinkState extends SinkStats {
  sink: Sink;
  done: Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for `p`, at most `ms`; the timer ends with the wait (a pending one would keep the process alive). */
async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(t);
  }
}
const MAX_LOSSES = 200;
/**
 * Records held per side for reconciliation. Beyond it the trail waits (it keeps everything) and pipe records are let
 * go (the trail supplies them as recovered): about 30 ms of a 1M records/s burst, and a few MB.
 */
const DEFAULT_BACKLOG_RECORDS = 32_768;
/** At shutdown: how long the trail reader must have delivered nothing to count as caught up, and the longest wait. */
const STOP_TRAIL_QUIET_MS = 500;
const STOP_TRAIL_WAIT_MS = 2_000;
/** How long stop() waits for each sink's close(). */
const SINK_CLOSE_MS = 10_000;
/** After the trail reader failed: the first pause before it reads on, and the longest. */
const TRAIL_RETRY_MS = 1_000;
const TRAIL_RETRY_MAX_MS = 30_000;
/** Pipe bytes the drain thread may have handed over and not yet seen processed (beyond it the kernel queue fills). */
const DRAIN_OUTSTANDING_BYTES = 16 << 20;
/** Byte cap of one catch-up batch (Sink.catchUpBatch records of ~120 bytes each fit easily). */
const CATCH_UP_BYTES = 64 << 20;

export class Collector {
  private readonly opts: CollectorOptions;
  readonly spool: Spool;
  private drain?: PipeDrain;
  private follower?: TrailFollower;
  private reconciler?: Reconciler;
  private readonly counts: RecordCounts = { live: 0, recovered: 0, trail: 0, pipeOnly: 0 };
  private readonly lost: Record<string, number> = {};
  private readonly lossEvents: Record<string, number> = {};
  private readonly damage = { trail: 0, pipe: 0 };
  private readonly losses: LossEntry[] = [];
  private readonly errors: string[] = [];
  private readonly sinks: SinkState[] = [];
  private kernel: CollectorStats['kernel'] = { drops: 0, haveCounters: false };
  private dropsBefore = 0; // kernel drops of earlier runs (from the checkpoint file)
  /** Records earlier runs let go from the pipe (kernel drops, their own discards) and did not recover yet. */
  private unrecoveredBefore = 0;
  private stopping = false;
  private stopped = false;
  private readonly startedAt = new Date().toISOString();
  private pipeSession: string;
  private flushQueued = false;
  private pauseStart = 0;
  private pausedMs = 0;
  private pauses = 0;
  private pauseReason?: string;
  private timers: NodeJS.Timeout[] = [];
  private trailLoop?: Promise<void>;
  private stopWake: Array<() => void> = [];
  /** Ends the pause before the trail reader reads on after a failure (stop()). */
  private trailRetryWake?: () => void;
  private server?: Server;
  private pipeClosed?: Promise<void>;
  private pipeClosedResolve?: () => void;
  private log: (line: string) => void;
  private readonly unlock: () => void;

  private constructor(opts: CollectorOptions) {
    this.opts = opts;
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    // One collector per spool (a second process's is refused); the lock goes with stop(), or with the process.
    this.unlock = lockSpool(opts.spoolDir);
    process.on('exit', this.unlock);
    try {
      this.spool = Spool.open({ dir: opts.spoolDir, maxBytes: opts.spoolMaxBytes, segmentBytes: opts.segmentBytes });
    } catch (err) {
      this.releaseLock();
      throw err;
    }
    for (const m of this.spool.recovery.messages) this.log(`spool recovery: ${m}`);
    this.pipeSession = `pipe:${this.startedAt}`;
    this.restoreCounters();
  }

  /** Opens the spool, the pipe (before fixing the trail resume point, §19.3), the trail and the sinks. */
  static async start(opts: CollectorOptions): Promise<Collector> {
    if ((opts.mode === 'trail' || opts.mode === 'hybrid') && !opts.trailDirs?.length) throw new BsmkitError('BSMKIT_E_USAGE', `--source ${opts.mode} needs at least one trail directory`);
    if ((opts.mode === 'pipe' || opts.mode === 'hybrid') && !opts.device) throw new BsmkitError('BSMKIT_E_USAGE', `--source ${opts.mode} needs an audit pipe device`);
    // a sink's name keys its checkpoint: two sinks of one name would move each other's
    const names = opts.sinks.map((s) => s.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new BsmkitError('BSMKIT_E_USAGE', `two sinks are named '${twice}': each sink needs its own name (it keys the sink's checkpoint)`);
    const c = new Collector(opts);
    try {
      await c.begin();
    } catch (err) {
      await c.stop().catch(() => undefined);
      throw err;
    }
    return c;
  }

  private restoreCounters(): void {
    const x = this.spool.extra as
      | { asOfSeq: number; counts: RecordCounts; lost: Record<string, number>; lossEvents: Record<string, number>; kernelDrops: number; damage: { trail: number; pipe: number }; unrecovered?: number }
      | undefined;
    let since = 0;
    if (x && typeof x.asOfSeq === 'number' && x.counts) {
      Object.assign(this.counts, x.counts);
      Object.assign(this.lost, x.lost ?? {});
      Object.assign(this.lossEvents, x.lossEvents ?? {});
      Object.assign(this.damage, x.damage ?? {});
      this.dropsBefore = x.kernelDrops ?? 0;
      // (spools saved before `unrecovered` was kept: kernel drops less recoveries, a lower bound)
      this.unrecoveredBefore = x.unrecovered ?? Math.max(0, this.dropsBefore - x.counts.recovered);
      since = x.asOfSeq;
    }
    // Records spooled after the counters were saved (a crash in between) are counted from the spool itself.
    const c = this.spool.countSince(since);
    this.counts.live += c.pipe - c.pipeOnly;
    this.counts.pipeOnly += c.pipeOnly;
    this.counts.trail += c.trail;
    this.counts.recovered += c.recovered;
    this.unrecoveredBefore = Math.max(0, this.unrecoveredBefore - c.recovered);
  }

  private async begin(): Promise<void> {
    const o = this.opts;
    if (o.mode !== 'trail') {
      this.pipeClosed = new Promise((r) => (this.pipeClosedResolve = r));
      this.drain = new PipeDrain({ device: o.device!, qlimit: o.qlimit, priority: o.drainPriority, maxOutstandingBytes: DRAIN_OUTSTANDING_BYTES, onMessage: (m) => this.onDrain(m) });
      const open = await this.drain.opened;
      this.kernel = { pipe: open.name, qlimit: open.qlimit, drops: this.dropsBefore, haveCounters: open.haveCounters, drainPriority: open.priority };
      const p = open.priority;
      if (p.applied !== p.requested) this.log(`pipe drain thread: ${p.requested} priority refused (${p.detail}); it runs at normal priority and may be kept from the queue by busy threads`);
      if (o.mode === 'hybrid') {
        this.reconciler = new Reconciler(
          // what earlier runs let go from the pipe and did not recover: the trail records read again first are those
          { pipeSession: this.pipeSession, graceMs: o.graceMs, pipeOnlyAfterMs: o.pipeOnlyAfterMs, dropsKnown: open.haveCounters, carriedDrops: this.unrecoveredBefore },
          (r) => this.append(r),
        );
      }
    }
    if (o.mode !== 'pipe') {
      const pos = this.spool.lastPosition((n) => parseTrailName(n) !== undefined);
      const from: TrailCursor | 'start' | 'end' = pos ? { source: 'trail', file: pos.sourceFile, offset: pos.end } : o.from ?? 'start';
      this.follower = followTrail({ dirs: o.trailDirs!, from, pollIntervalMs: o.trailPollMs ?? 200 });
      if (from === 'end' && this.reconciler) {
        // The pipe was opened first (§19): what it received until the trail's end is fixed has its copy before it.
        await this.follower.start().catch(() => undefined); // a failure comes again from the reading loop
        this.reconciler.trailStartsAfterPipe();
      }
      this.trailLoop = this.followTrailAgain(from);
    }
    for (const sink of o.sinks) {
      const st: SinkState = { sink, name: sink.name, checkpoint: 0, lag: 0, delivered: 0, failures: 0, state: 'starting', done: Promise.resolve() };
      st.done = this.runSink(st);
      this.sinks.push(st);
    }
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(o.checkpointIntervalMs ?? 500, () => this.checkpoint());
    if (this.reconciler) every(50, () => this.pumpReconciler());
    if ((o.statsIntervalMs ?? 0) > 0) every(o.statsIntervalMs!, () => {
      const s = this.stats();
      o.onStats ? o.onStats(statsLine(s), s) : this.log(statsLine(s));
    });
    every(1000, () => this.retryPaused());
    if (o.prometheusPort) await this.serveMetrics(o.prometheusPort);
    this.checkpoint();
  }

  private serveMetrics(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics' && req.url !== '/') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheusText(this.stats()));
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', (e) => reject(new BsmkitError('BSMKIT_E_METRICS', `metrics on 127.0.0.1:${port}: ${e.message}`)));
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
  }

  get metricsPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  private error(msg: string): void {
    this.errors.push(`${new Date().toISOString()} ${msg}`);
    if (this.errors.length > 50) this.errors.shift();
    this.log(`bsmkit collect: ${msg}`);
  }

  private loss(e: Omit<LossEntry, 'at'>, count = true): void {
    if (count) {
      if (e.records !== undefined) this.lost[e.reason] = (this.lost[e.reason] ?? 0) + e.records;
      else this.lossEvents[e.reason] = (this.lossEvents[e.reason] ?? 0) + 1;
    }
    this.losses.push({ ...e, at: new Date().toISOString() });
    if (this.losses.length > MAX_LOSSES) this.losses.shift();
  }

  // ---- intake ---------------------------------------------------------------------------------------------------

  /** True while intake must not add to the spool. */
  private get intakePaused(): boolean {
    const full = this.spool.full;
    const reason = this.spool.pausedBy ? this.spool.pausedBy.message : full ? `spool at its size cap (${this.spool.maxBytes} bytes)` : undefined;
    if (reason && !this.pauseStart) {
      this.pauseStart = Date.now();
      this.pauses++;
      this.pauseReason = reason;
      this.error(`intake paused: ${reason}`);
    } else if (!reason && this.pauseStart) {
      this.pausedMs += Date.now() - this.pauseStart;
      this.pauseStart = 0;
      this.log(`bsmkit collect: intake resumed after ${((this.pausedMs) / 1000).toFixed(1)}s paused in total`);
      this.pauseReason = undefined;
    }
    return reason !== undefined;
  }

  private append(r: SpoolAppend): void {
    this.spool.append(r);
    if (r.origin === 'trail' && !this.reconciler) this.counts.trail++;
    this.queueFlush();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flushNow();
    });
  }

  private flushNow(): void {
    try {
      this.spool.flush();
    } catch (err) {
      if (!(err instanceof SpoolFullError)) this.error((err as Error).message);
      void this.intakePaused;
    }
  }

  private retryPaused(): void {
    if (this.spool.pausedBy) this.flushNow();
    void this.intakePaused;
  }

  private onDrain(m: DrainMessage): void {
    switch (m.t) {
      case 'batch': {
        this.kernel.drops = this.dropsBefore + m.drops;
        const now = Date.now();
        const data = Buffer.from(m.data);
        for (const d of m.diags) {
          this.damage.pipe++;
          this.loss({ reason: 'pipe-damage', message: `${this.pipeSession} offset ${d.offset}: ${d.message}`, from: d.offset }, false);
        }
        if (this.opts.mode === 'pipe') {
          for (const g of m.gaps ?? (m.gap ? [m.gap] : [])) this.dropGap(g);
          if (this.intakePaused) {
            const n = m.ends.length;
            if (n) this.loss({ reason: 'spool-full', message: `${n} pipe records not kept (spool paused: ${this.pauseReason}) at ${this.pipeSession} offsets ${m.offs[0]}..${m.offs[n - 1]}`, records: n, from: m.offs[0], to: m.offs[n - 1] });
          } else {
            this.spool.appendBatch(data, m.ends, m.offs, 'pipe', this.pipeSession);
            this.counts.live += m.ends.length;
          }
          this.queueFlush();
        } else if (this.reconciler) {
          this.reconciler.setKernelDrops(m.drops);
          if (this.intakePaused || this.reconciler.pipeBacklog > (this.opts.maxBacklogRecords ?? DEFAULT_BACKLOG_RECORDS)) {
            // The trail has these records: they come back as recovered once intake resumes.
            this.reconciler.discardedPipe(m.ends.length);
          } else {
            let start = 0;
            for (let i = 0; i < m.ends.length; i++) {
              const end = m.ends[i]!;
              this.reconciler.pushPipe(data.subarray(start, end), m.offs[i]!, now);
              start = end;
            }
          }
          this.pumpReconciler();
        }
        this.drain!.processed(m.kb);
        return;
      }
      case 'mark':
        this.kernel.drops = this.dropsBefore + m.drops;
        if (this.opts.mode === 'pipe' && m.gap) this.dropGap(m.gap);
        if (this.reconciler) {
          this.reconciler.setKernelDrops(m.drops);
          this.reconciler.drained(m.epoch, m.at);
          this.pumpReconciler();
        }
        return;
      case 'error':
        this.error(m.message);
        return;
      case 'closed': {
        this.kernel.drops = this.dropsBefore + m.drops;
        // drops counted only at the close (after the last read) are recoverable like any other
        this.reconciler?.setKernelDrops(m.drops);
        const n = m.discardedAtClose;
        if (n) {
          // Closing a pipe discards what is still queued in it (kernel-audit-pipe.md §3), counted by no kernel counter.
          const what = `${n} record(s) still queued in ${this.pipeSession} after byte offset ${m.bytes} were discarded when the pipe was closed`;
          if (this.opts.mode === 'pipe') this.loss({ reason: 'pipe-close', message: what, records: n, from: m.bytes });
          else {
            // the trail has them: the next run reads them from it as recovered (carried with the unrecovered drops)
            this.reconciler?.discardedPipe(n);
            this.log(`bsmkit collect: ${what}; the trail has them (read at the next start)`);
          }
        } else if (n === null && this.opts.mode === 'pipe') this.log(`bsmkit collect: could not ask the pipe how many records its close discarded`);
        this.pipeClosedResolve?.();
        return;
      }
      case 'open':
        return;
    }
  }

  private dropGap(g: DropGap): void {
    this.loss({ reason: 'pipe-drops', message: `the kernel dropped ${g.records} record(s) from ${this.pipeSession} between byte offsets ${g.from} and ${g.to}`, records: g.records, from: g.from, to: g.to });
  }

  private pumpReconciler(): void {
    if (!this.reconciler) return;
    if (this.reconciler.pump(Date.now()) > 0) this.queueFlush();
    this.wakeTrail();
  }

  private trailWaiters: Array<() => void> = [];
  private wakeTrail(): void {
    for (const w of this.trailWaiters.splice(0)) w();
  }

  /**
   * Runs the trail reader, and when it fails (a trail file or directory it may not read, an I/O error) reports that
   * and reads on from where it stopped after a pause (1 s, doubling to 30 s): the trail keeps what is not read yet,
   * so nothing is lost meanwhile, and a fixed cause (permissions) needs no restart.
   */
  private async followTrailAgain(from: TrailCursor | 'start' | 'end'): Promise<void> {
    let backoff = TRAIL_RETRY_MS;
    for (;;) {
      try {
        await this.runTrail();
        return;
      } catch (err) {
        if (this.stopping) return;
        const f = this.follower!;
        from = f.cursor ?? from;
        const at = typeof from === 'string' ? `the ${from} of the trail` : `${from.file} offset ${from.offset}`;
        this.error(`trail: ${(err as Error).message}; reading on from ${at} in ${backoff / 1000} s`);
        await f.close().catch(() => undefined);
        await new Promise<void>((r) => {
          const t = setTimeout(r, backoff);
          this.trailRetryWake = () => {
            clearTimeout(t);
            r();
          };
        });
        backoff = Math.min(backoff * 2, TRAIL_RETRY_MAX_MS);
        if (this.stopping) return;
        this.follower = followTrail({ dirs: this.opts.trailDirs!, from, pollIntervalMs: this.opts.trailPollMs ?? 200 });
      }
    }
  }

  private async runTrail(): Promise<void> {
    const f = this.follower!;
    const cap = this.opts.maxBacklogRecords ?? DEFAULT_BACKLOG_RECORDS;
    for await (const item of f as AsyncIterable<TrailItem>) {
      if (this.stopping) break;
      this.trailItem(item);
      // Backpressure: the trail keeps everything, so waiting here loses nothing.
      while (!this.stopping && (this.intakePaused || (this.reconciler && this.reconciler.trailBacklog > cap))) {
        this.reconciler?.trailHeld(Date.now());
        await new Promise<void>((r) => {
          this.trailWaiters.push(r);
          setTimeout(r, 200);
        });
      }
    }
  }

  private lastEpochAt = 0;
  private epoch = 0;

  private trailItem(item: TrailItem): void {
    switch (item.type) {
      case 'record': {
        if (item.kind !== 'record') return;
        const file = item.meta.file;
        if (this.reconciler) {
          // One epoch per turn of the event loop is enough: marks compare epochs and times.
          const now = Date.now();
          if (now !== this.lastEpochAt) {
            this.epoch = this.drain!.nextEpoch();
            this.lastEpochAt = now;
          }
          // no copy: the follower's record bytes are never written again (new read buffers, a framer that never reuses)
          this.reconciler.pushTrail(item.bytes, file, item.offset, this.epoch, now);
          if (this.reconciler.trailBacklog % 256 === 0) this.pumpReconciler();
          else this.queuePump();
        } else {
          this.append({ bytes: item.bytes, origin: 'trail', sourceFile: file, sourceOffset: item.offset });
        }
        return;
      }
      case 'diagnostic':
        this.damage.trail++;
        this.loss({ reason: 'trail-damage', message: `${item.meta.path} offset ${item.diagnostic.offset}: ${item.diagnostic.message}`, file: item.meta.file, from: item.diagnostic.offset }, false);
        return;
      case 'loss': {
        const l = item.loss;
        this.loss({ reason: l.reason === 'trail-gap' && !l.certain ? 'trail-gap' : l.reason, message: l.message, records: l.records, file: l.file, from: l.fromOffset });
        return;
      }
      default:
        return;
    }
  }

  private pumpQueued = false;
  private queuePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pumpReconciler();
    });
  }

  // ---- sinks ----------------------------------------------------------------------------------------------------

  private async runSink(st: SinkState): Promise<void> {
    const batchMax = this.opts.sinkBatch ?? 4096;
    let backoff = 250;
    for (;;) {
      try {
        await st.sink.open();
        break;
      } catch (err) {
        st.failures++;
        st.lastError = `open: ${(err as Error).message}`;
        st.state = 'retrying';
        this.error(`sink ${st.name}: ${st.lastError}`);
        if (this.stopping) return;
        await this.sleepOrStop(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    let cp = this.spool.checkpoint(st.name);
    try {
      const own = await st.sink.lastSeq?.();
      if (own !== undefined && own > cp) cp = own;
    } catch (err) {
      this.error(`sink ${st.name}: lastSeq: ${(err as Error).message}`);
    }
    cp = Math.max(cp, this.spool.firstSeq - 1);
    st.checkpoint = cp;
    this.spool.setCheckpoint(st.name, cp);
    st.state = 'running';
    backoff = 250;
    // Writes handed over and not yet resolved, oldest first (at most the sink's maxInFlight). `next` is the first
    // seq not handed over yet.
    const depth = Math.max(1, Math.floor(st.sink.maxInFlight ?? 1));
    const inFlight: { done: Promise<void>; last: number; count: number }[] = [];
    let next = cp + 1;
    for (;;) {
      try {
        while (inFlight.length < depth && next <= this.spool.lastSeq) {
          const w = this.handOver(st, next, batchMax);
          // settled here too, so a write that fails while an earlier one is awaited is not an unhandled rejection
          w.done.catch(() => undefined);
          inFlight.push(w);
          next = w.last + 1;
        }
        const head = inFlight[0];
        if (!head) {
          if (this.stopping) break;
          await Promise.race([this.spool.waitForAppend(), this.sleepOrStop(1000)]);
          continue;
        }
        if (inFlight.length < depth && !this.stopping) {
          // room for another write: records appended meanwhile are handed over without waiting for this one
          if (!(await Promise.race([head.done.then(() => true), this.spool.waitForAppend().then(() => false)]))) continue;
        } else await head.done;
        inFlight.shift();
        cp = head.last;
        st.checkpoint = cp;
        st.delivered += head.count;
        this.spool.setCheckpoint(st.name, cp);
        st.state = 'running';
        backoff = 250;
      } catch (err) {
        // The writes handed over after the failed one fail too (Sink.maxInFlight): all are retried from cp + 1.
        await Promise.allSettled(inFlight.map((w) => w.done));
        inFlight.length = 0;
        next = cp + 1;
        st.failures++;
        st.lastError = (err as Error).message;
        st.state = 'retrying';
        this.error(`sink ${st.name}: write failed (will retry from seq ${cp + 1}): ${st.lastError}`);
        if (this.stopping && st.failures > 3) break;
        await this.sleepOrStop(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    st.state = 'stopped';
  }

  /**
   * Reads the spool from `from` and hands the records to the sink: `batchMax` of them, or its catchUpBatch while it
   * is behind by at least that many (read across segment ends: a read stops at one).
   */
  private handOver(st: SinkState, from: number, batchMax: number): { done: Promise<void>; last: number; count: number } {
    const lag = this.spool.lastSeq - from + 1;
    const catchUp = st.sink.catchUpBatch ?? 0;
    const want = catchUp > batchMax && lag >= catchUp ? catchUp : batchMax;
    const maxBytes = want > batchMax ? CATCH_UP_BYTES : undefined;
    let raw = this.spool.readRaw(from, want, maxBytes);
    while (want > batchMax && raw.count < want) {
      const more = this.spool.readRaw(from + raw.count, want - raw.count, maxBytes);
      if (more.count === 0) break;
      raw = concatRaw(raw, more);
    }
    if (raw.count === 0) throw new Error(`spool read at seq ${from} returned nothing (spool ends at ${this.spool.lastSeq})`);
    const last = raw.firstSeq + raw.count - 1;
    if (st.sink.writeRaw && !this.opts.select) return { done: st.sink.writeRaw(raw), last, count: raw.count };
    const batch = materialize(raw);
    const out = this.opts.select ? batch.filter((r) => this.opts.select!(r.bytes)) : batch;
    return { done: out.length ? st.sink.write(out) : Promise.resolve(), last, count: out.length };
  }

  private sleepOrStop(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.stopWake.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }

  // ---- state ----------------------------------------------------------------------------------------------------

  private checkpoint(): void {
    try {
      this.flushNow();
      const s = this.stats();
      // Counters are saved only with nothing pending, so that `asOfSeq` splits counted from uncounted exactly.
      const extra = this.spool.pendingRecords > 0 ? undefined : {
        nextSeq: this.spool.nextSeq,
        asOfSeq: this.spool.lastSeq,
        counts: { live: s.records.live, recovered: s.records.recovered, trail: s.records.trail, pipeOnly: s.records.pipeOnly },
        lost: this.lost,
        lossEvents: this.lossEvents,
        damage: this.damage,
        kernelDrops: this.kernel.drops,
        unrecovered: this.reconciler?.unrecovered ?? this.unrecoveredBefore,
      };
      // Segments every sink has stored go first: on a full disk that is what frees space. (After a crash before the
      // checkpoint write, a sink resumes at the spool's first seq, which it had stored.)
      this.spool.removeConsumed(this.sinks.map((k) => k.name));
      this.spool.saveCheckpoints(extra);
      writeFileAtomic(join(this.opts.spoolDir, 'state.json'), JSON.stringify(s, null, 1) + '\n');
    } catch (err) {
      // A full disk also stops checkpoints: the spool itself is consistent, and the pause is already reported.
      if (!(err as NodeJS.ErrnoException).code?.match(/ENOSPC|EDQUOT|EFBIG/)) this.error(`checkpoint: ${(err as Error).message}`);
    }
  }

  stats(): CollectorStats {
    void this.intakePaused;
    const lastSeq = this.spool.lastSeq;
    const c = this.counts;
    const rc = this.reconciler?.counts;
    const records = rc
      ? { live: c.live + rc.live, recovered: c.recovered + rc.recovered, trail: c.trail + rc.trail, pipeOnly: c.pipeOnly + rc.pipeOnly }
      : { ...c };
    return {
      pid: process.pid,
      status: this.stopped ? 'stopped' : 'running',
      mode: this.opts.mode,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      records: { ...records, total: records.live + records.recovered + records.trail + records.pipeOnly },
      lost: { ...this.lost },
      lossEvents: { ...this.lossEvents },
      damage: { ...this.damage },
      kernel: { ...this.kernel },
      spool: {
        dir: this.opts.spoolDir,
        bytes: this.spool.bytes,
        maxBytes: this.spool.maxBytes,
        segments: this.spool.segmentCount,
        firstSeq: this.spool.firstSeq,
        lastSeq,
        paused: this.pauseStart > 0,
        pauseReason: this.pauseReason,
        pausedMs: this.pausedMs + (this.pauseStart ? Date.now() - this.pauseStart : 0),
        pauses: this.pauses,
        tornBytes: this.spool.recovery.tornBytes,
      },
      backlog: { pipeRecords: this.reconciler?.pipeBacklog ?? 0, trailRecords: this.reconciler?.trailBacklog ?? 0, bytes: this.reconciler?.backlogBytes ?? 0 },
      sinks: this.sinks.map((s) => ({ name: s.name, checkpoint: s.checkpoint, lag: Math.max(0, lastSeq - s.checkpoint), delivered: s.delivered, failures: s.failures, lastError: s.lastError, state: s.state })),
      losses: [...this.losses],
      errors: [...this.errors],
    };
  }

  /** Resolves once every source is drained as far as it can be and every sink has caught up (for tests, demos). */
  async settle(opts: { timeoutMs?: number; quietMs?: number; waitForSinks?: boolean } = {}): Promise<CollectorStats> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    const quiet = opts.quietMs ?? 600;
    let lastSeq = -1;
    let since = Date.now();
    for (;;) {
      const s = this.stats();
      const busy = s.backlog.pipeRecords + s.backlog.trailRecords > 0 || (opts.waitForSinks !== false && s.sinks.some((k) => k.lag > 0)) || this.spool.pendingRecords > 0;
      if (s.spool.lastSeq !== lastSeq || busy) {
        lastSeq = s.spool.lastSeq;
        since = Date.now();
      } else if (Date.now() - since >= quiet) return s;
      if (Date.now() > deadline) return s;
      await sleep(50);
    }
  }

  /**
   * Shutdown, after the drain stopped: pipe records still waiting for their trail copies wait until the trail reader
   * has caught up (quiet for a poll interval), then those without one are kept as pipe-only. Otherwise a record the
   * trail failed to write, still waiting for its pipe-only decision, would be lost (the next run reads the trail,
   * not this pipe). Bounded: with the trail reader held back or intake paused it gives up and says so.
   */
  private async settlePipeBacklog(): Promise<void> {
    const r = this.reconciler;
    if (!r) return;
    const quietMs = Math.max(STOP_TRAIL_QUIET_MS, (this.opts.trailPollMs ?? 200) + 100);
    const deadline = Date.now() + STOP_TRAIL_WAIT_MS;
    for (;;) {
      this.pumpReconciler();
      if (r.pipeBacklog === 0) return;
      const now = Date.now();
      if (!this.intakePaused && now - r.lastTrailRecordAt >= quietMs) {
        if (r.flushPipe(now) > 0) this.queueFlush();
        return;
      }
      if (now >= deadline) {
        this.log(`bsmkit collect: ${r.pipeBacklog} pipe record(s) still unreconciled at shutdown: those the trail has are read from it at the next start; any it lacks (trail write failure) are not kept`);
        return;
      }
      await sleep(50);
    }
  }

  /** Clean shutdown: read the pipe to empty, reconcile what can be, deliver to the sinks, checkpoint, report. */
  async stop(): Promise<CollectorStats> {
    if (this.stopped) return this.stats();
    if (this.drain) {
      await this.drain.stop();
      await atMost(this.pipeClosed!, 2000);
    }
    await this.settlePipeBacklog();
    this.stopping = true;
    this.wakeTrail();
    this.trailRetryWake?.();
    await this.follower?.close().catch(() => undefined);
    await this.trailLoop;
    this.pumpReconciler();
    this.flushNow();
    this.spool.wakeAll();
    await atMost(Promise.all(this.sinks.map((s) => s.done)), 10_000);
    for (const w of this.stopWake.splice(0)) w();
    // A sink whose close never ends (a stdout reader that stopped reading) must not hold the shutdown: what it has
    // not stored is after its checkpoint, so it is delivered again at the next start.
    const closeMs = this.opts.sinkCloseMs ?? SINK_CLOSE_MS;
    for (const s of this.sinks) {
      let closed = false;
      await atMost(
        s.sink.close().then(
          () => (closed = true),
          (err) => ((closed = true), this.error(`sink ${s.name}: close: ${(err as Error).message}`)),
        ),
        closeMs,
      );
      if (!closed) this.error(`sink ${s.name}: close did not finish within ${closeMs / 1000} s; left behind (its records after checkpoint ${s.checkpoint} are delivered again at the next start)`);
    }
    for (const t of this.timers) clearInterval(t);
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.stopped = true;
    this.checkpoint();
    this.spool.close();
    this.releaseLock();
    return this.stats();
  }

  private releaseLock(): void {
    process.off('exit', this.unlock);
    this.unlock();
  }
}

export { formatReport, statsLine, prometheusText };
