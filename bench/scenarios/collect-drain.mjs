// bsmkit collect --source pipe draining the kernel model into the spool: a steady 1.2M records/s workload for 3 s
// into a pipe at qlimit 1024, read on the collector's drain thread, framed, appended to the durable spool (no sink).
// Target: >= 1M records/s spooled with 0 drops. Reported: records spooled, drops (kernel counter), timedRecordsPerSec
// (spooled / time from the start of the workload until the spool held the last record). BSMKIT_BENCH_DRAIN_RATE sets
// the offered rate (records/s) instead of 1.2M; BSMKIT_BENCH_DRAIN_PRIORITY=normal runs the drain thread at normal
// priority instead of real-time (priority: what it got).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from '../dist-path.mjs';

export const description = 'collector drain thread → durable spool from the kernel model at 1.2M records/s, qlimit 1024';

export default async function collectDrain() {
  const { startKernelModel } = await import(dist('testing/kernel-model/index.js'));
  const { Collector } = await import(dist('collector/collector.js'));
  const base = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bsmkit-bench-collect-'));
  const model = await startKernelModel({ endpoint: join(base, 'model'), seed: 42 });
  const c = await Collector.start({ mode: 'pipe', spoolDir: join(base, 'spool'), device: { kind: 'simulated', endpoint: model.info.endpoint }, qlimit: 1024, drainPriority: process.env.BSMKIT_BENCH_DRAIN_PRIORITY ?? 'high', sinks: [], log: () => undefined });
  try {
    await model.run([{ type: 'steady', rate: 200_000, seconds: 1 }]);
    const warm = c.stats();
    const t0 = performance.now();
    const r = await model.run([{ type: 'steady', rate: Number(process.env.BSMKIT_BENCH_DRAIN_RATE ?? 1_200_000), seconds: 3 }]);
    const generated = r.last - r.first + 1;
    let s = c.stats();
    const deadline = Date.now() + 20_000;
    while (s.records.live + s.kernel.drops - warm.records.live - warm.kernel.drops < generated && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 2));
      s = c.stats();
    }
    const secs = (performance.now() - t0) / 1000;
    const records = s.records.live - warm.records.live;
    const bytes = s.spool.bytes - warm.spool.bytes;
    await c.stop();
    const p = s.kernel.drainPriority;
    return { bytes, records, drops: s.kernel.drops - warm.kernel.drops, generated, priority: `${p.applied} (${p.detail})`, timedRecordsPerSec: Math.round(records / secs) };
  } finally {
    await model.stop();
    rmSync(base, { recursive: true, force: true });
  }
}
