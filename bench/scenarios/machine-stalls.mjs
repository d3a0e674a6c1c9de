// How long this machine leaves a runnable thread without a CPU, which bounds what any pipe reader can do: at 1.2M
// records/s the kernel queue of 1024 records lasts 0.85 ms, so a reader not run for longer drops records whatever
// its priority. One thread per CPU does nothing but read the clock for 3 s on an otherwise idle machine (run it
// alone); every jump between two readings is time the thread was not run (the hypervisor, interrupts, other
// tasks). Reported per thread and in all: jumps over 0.3 ms and over 0.85 ms per second, the time they add up to,
// and the longest. records = clock readings (not records), bytes = 0.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export const description = 'machine: time a spinning thread per CPU is not run (3 s, idle machine), vs the pipe queue (0.85 ms at 1.2M/s)';

const SECONDS = 3;
const QUEUE_MS = 1024 / 1_200_000 * 1000;

const SPIN = `
  const { parentPort, workerData } = require('node:worker_threads');
  const end = performance.now() + workerData.ms;
  let last = performance.now();
  let reads = 0, over03 = 0, overQ = 0, stalledMs = 0, max = 0;
  for (;;) {
    const t = performance.now();
    reads++;
    const d = t - last;
    last = t;
    if (d > 0.3) { over03++; stalledMs += d; if (d > workerData.queueMs) overQ++; if (d > max) max = d; }
    if (t >= end) break;
  }
  parentPort.postMessage({ reads, over03, overQ, stalledMs, max });
`;

export default async function machineStalls() {
  const n = availableParallelism();
  const results = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const w = new Worker(SPIN, { eval: true, workerData: { ms: SECONDS * 1000, queueMs: QUEUE_MS } });
      w.once('message', resolve);
      w.once('error', reject);
    })),
  );
  const sum = (k) => results.reduce((a, r) => a + r[k], 0);
  const round = (x) => Math.round(x * 100) / 100;
  return {
    bytes: 0,
    records: sum('reads'),
    threads: n,
    stallsOver03msPerSec: round(sum('over03') / SECONDS / n),
    stallsOverQueuePerSec: round(sum('overQ') / SECONDS / n),
    stalledMsPerSec: round(sum('stalledMs') / SECONDS / n),
    longestMs: round(Math.max(...results.map((r) => r.max))),
    perThread: results.map((r) => `${r.overQ} over ${round(QUEUE_MS)} ms, longest ${round(r.max)} ms`).join('; '),
  };
}
