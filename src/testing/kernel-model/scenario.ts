/**
 * Workload phases, paced on the wall clock: steady rates, bursts, idle time, and the sleep/wake scenario in which
 * tens of thousands of records are committed while no reader can run (the model does not yield to its event loop,
 * so no pipe read is served until the whole wake-up burst is in the queues: they overflow whatever the reader does).
 */
import type { Kernel } from './kernel.js';

export type Phase =
  /** `rate` records/s ('max': as fast as possible) for `seconds`; readers are served between batches. */
  | { type: 'steady'; rate: number | 'max'; seconds: number }
  /** `count` records as fast as possible; readers are served between batches. */
  | { type: 'burst'; count: number }
  /** The machine sleeps `seconds` (the clock jumps), then `count` records are committed with no reader running. */
  | { type: 'sleep-wake'; count: number; seconds?: number }
  /** Nothing happens for `seconds`. */
  | { type: 'idle'; seconds: number };

const BATCH = 8192;

/**
 * Records per batch while readers may run: a quarter of the smallest open pipe's qlimit. A real kernel's reader
 * runs concurrently on another CPU; here it runs between batches, and a reader that keeps up needs one exchange
 * per read (SimulatedPipeDevice.readWithCountersSync: the read and its counters), answered between two batches.
 */
function batchSize(kernel: Kernel): number {
  let min = BATCH * 4;
  for (const p of kernel.pipes.values()) if (p.qlimit > 0 && p.qlimit < min) min = p.qlimit;
  return Math.max(32, Math.min(BATCH, Math.floor(min / 4)));
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Commits `count` random records timed from the kernel clock, `dtMs` apart; advances a manual clock past them. */
export function commitRandom(kernel: Kernel, count: number, dtMs: number): void {
  const t0 = kernel.now();
  const b = kernel.workload.generate(count, t0, dtMs);
  if (kernel.opts.clock === 'manual') kernel.advanceClock(count * dtMs);
  kernel.commit(b);
}

export class ScenarioRunner {
  private stopped = false;
  running = false;

  constructor(private readonly kernel: Kernel) {}

  stop(): void {
    this.stopped = true;
  }

  async run(phases: Phase[], loop = false): Promise<void> {
    this.running = true;
    this.stopped = false;
    try {
      do {
        for (const ph of phases) {
          if (this.stopped) return;
          await this.phase(ph);
        }
      } while (loop && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  private async phase(ph: Phase): Promise<void> {
    const k = this.kernel;
    switch (ph.type) {
      case 'idle': {
        const end = Date.now() + ph.seconds * 1000;
        while (!this.stopped && Date.now() < end) await sleep(Math.min(50, end - Date.now()));
        if (k.opts.clock === 'manual') k.advanceClock(ph.seconds * 1000);
        return;
      }
      case 'burst': {
        let left = ph.count;
        while (left > 0 && !this.stopped) {
          const n = Math.min(batchSize(k), left);
          commitRandom(k, n, 0.001);
          left -= n;
          await tick();
        }
        return;
      }
      case 'sleep-wake': {
        k.advanceClock((ph.seconds ?? 3600) * 1000);
        let left = ph.count;
        // no await in this loop: the event loop (and so every pipe reader) is stalled until the burst is done
        while (left > 0) {
          const n = Math.min(BATCH, left);
          commitRandom(k, n, 0.01);
          left -= n;
        }
        await tick();
        return;
      }
      case 'steady': {
        const start = Date.now();
        const endMs = ph.seconds > 0 ? ph.seconds * 1000 : Infinity;
        let done = 0;
        for (;;) {
          if (this.stopped) return;
          const elapsed = Date.now() - start;
          if (elapsed >= endMs) break;
          if (ph.rate === 'max') {
            const n = batchSize(k);
            commitRandom(k, n, 0.001);
            done += n;
            await tick();
            continue;
          }
          const due = Math.floor((elapsed / 1000) * ph.rate) - done;
          if (due <= 0) {
            await sleep(Math.max(1, Math.min(20, Math.ceil(((done + 1) / ph.rate) * 1000 - elapsed))));
            continue;
          }
          const n = Math.min(batchSize(k), due);
          commitRandom(k, n, 1000 / ph.rate);
          done += n;
          await tick();
        }
        if (k.opts.clock === 'manual') {
          // the schedule, not the work, decides how far a manual clock moves
          const consumed = (done / (ph.rate === 'max' ? 1e6 : ph.rate)) * 1000;
          if (ph.seconds * 1000 > consumed) k.advanceClock(ph.seconds * 1000 - consumed);
        }
        return;
      }
    }
  }
}

/** Parses a CLI phase: steady:RATE:SECONDS, burst:COUNT, sleep:COUNT[:SECONDS], idle:SECONDS. */
export function parsePhase(spec: string): Phase {
  const [kind, a, b] = spec.split(':');
  const num = (s: string | undefined, what: string): number => {
    const v = Number(s);
    if (s === undefined || s === '' || !Number.isFinite(v) || v < 0) throw new Error(`phase '${spec}': bad ${what}`);
    return v;
  };
  switch (kind) {
    case 'steady':
      return { type: 'steady', rate: a === 'max' ? 'max' : num(a, 'rate'), seconds: num(b, 'seconds') };
    case 'burst':
      return { type: 'burst', count: Math.floor(num(a, 'count')) };
    case 'sleep':
    case 'sleep-wake':
      return { type: 'sleep-wake', count: Math.floor(num(a, 'count')), seconds: b === undefined ? undefined : num(b, 'seconds') };
    case 'idle':
      return { type: 'idle', seconds: num(a, 'seconds') };
    default:
      throw new Error(`unknown phase '${spec}' (steady:RATE:SECONDS, burst:COUNT, sleep:COUNT[:SECONDS], idle:SECONDS)`);
  }
}
