// bsmkit collect --source hybrid end to end: the kernel model at full speed with a sleep/wake burst (pipe drops
// recovered from the trail), reconciliation, the spool, and the DuckDB sink. Target: >= 250k records/s sustained,
// RSS <= 200 MB. Reported: records stored in DuckDB, recovered, timedRecordsPerSec (stored / time from the start of
// the workload until the store held every record).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from '../dist-path.mjs';

export const description = 'hybrid collector (pipe + trail reconciliation) → spool → DuckDB, 1M records incl. a wake-up burst';

export default async function collectHybrid() {
  const { startKernelModel } = await import(dist('testing/kernel-model/index.js'));
  const { Collector } = await import(dist('collector/collector.js'));
  const { DuckDbSink } = await import(dist('sinks/duckdb-sink.js'));
  const base = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bsmkit-bench-hybrid-'));
  const model = await startKernelModel({ endpoint: join(base, 'model'), trailDirs: [join(base, 'trail')], seed: 42 });
  const sink = new DuckDbSink({ path: join(base, 'store.duckdb') });
  const c = await Collector.start({ mode: 'hybrid', spoolDir: join(base, 'spool'), trailDirs: model.info.trailDirs, device: { kind: 'simulated', endpoint: model.info.endpoint }, qlimit: 1024, sinks: [sink], sinkBatch: 8192, trailPollMs: 20, log: () => undefined });
  try {
    const t0 = performance.now();
    await model.run([{ type: 'steady', rate: 400_000, seconds: 1 }, { type: 'sleep-wake', count: 200_000 }, { type: 'steady', rate: 400_000, seconds: 1 }]);
    await model.sync();
    const s = await c.settle({ quietMs: 300, timeoutMs: 120_000 });
    const secs = (performance.now() - t0 - 300) / 1000;
    const stored = s.sinks[0].delivered;
    await c.stop();
    return { bytes: s.spool.bytes, records: stored, recovered: s.records.recovered, live: s.records.live, timedRecordsPerSec: Math.round(stored / secs) };
  } finally {
    await model.stop();
    rmSync(base, { recursive: true, force: true });
  }
}
