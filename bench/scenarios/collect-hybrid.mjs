// bsmkit collect --source hybrid end to end: the kernel model at full speed with a sleep/wake burst (pipe drops
// recovered from the trail), reconciliation, the spool, and the DuckDB sink on its worker thread (as `bsmkit collect`
// runs it: WorkerSink, default DuckDB settings). Target: >= 250k records/s sustained, RSS <= 200 MB. Reported: records
// stored in DuckDB, recovered, intakeRecordsPerSec (spooled / time until the spool held every record),
// timedRecordsPerSec (stored / time from the start of the workload until the store held every record).
// BSMKIT_BENCH_HYBRID_SINK=ndjson (NDJSON files on their worker thread) or none (intake only) measure the same
// workload without DuckDB, for the memory breakdown in docs/collector.md. BSMKIT_BENCH_DUCKDB_CONFIG (JSON) gives DuckDB
// options over the sink's defaults, e.g. '{"memory_limit":"64MB"}'. BSMKIT_BENCH_DRAIN_PRIORITY=normal runs the pipe
// drain thread at normal priority instead of real-time.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from '../dist-path.mjs';

export const description = 'hybrid collector (pipe + trail reconciliation) → spool → DuckDB, 1M records incl. a wake-up burst';

export default async function collectHybrid() {
  const { startKernelModel } = await import(dist('testing/kernel-model/index.js'));
  const { Collector } = await import(dist('collector/collector.js'));
  const { WorkerSink } = await import(dist('sinks/worker-sink.js'));
  const base = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bsmkit-bench-hybrid-'));
  const model = await startKernelModel({ endpoint: join(base, 'model'), trailDirs: [join(base, 'trail')], seed: 42 });
  const kind = process.env.BSMKIT_BENCH_HYBRID_SINK ?? 'duckdb';
  const duckdbConfig = JSON.parse(process.env.BSMKIT_BENCH_DUCKDB_CONFIG ?? '{}');
  const sinks = kind === 'none' ? [] : [kind === 'ndjson' ? new WorkerSink({ kind: 'ndjson', options: { dir: join(base, 'ndjson') } }) : new WorkerSink({ kind: 'duckdb', options: { path: join(base, 'store.duckdb'), config: duckdbConfig } })];
  const c = await Collector.start({ mode: 'hybrid', spoolDir: join(base, 'spool'), trailDirs: model.info.trailDirs, device: { kind: 'simulated', endpoint: model.info.endpoint }, qlimit: 1024, drainPriority: process.env.BSMKIT_BENCH_DRAIN_PRIORITY ?? 'high', sinks, sinkBatch: 8192, trailPollMs: 20, log: () => undefined });
  try {
    const t0 = performance.now();
    const r = await model.run([{ type: 'steady', rate: 400_000, seconds: 1 }, { type: 'sleep-wake', count: 200_000 }, { type: 'steady', rate: 400_000, seconds: 1 }]);
    await model.sync();
    // Intake (trail and pipe reconciled into the spool) is done once every generated record is spooled.
    const generated = r.last - r.first + 1;
    const deadline = Date.now() + 120_000;
    while (c.stats().records.total < generated && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    const intakeSecs = (performance.now() - t0) / 1000;
    const spooled = c.stats().records.total;
    const s = await c.settle({ quietMs: 300, timeoutMs: 120_000 });
    const secs = (performance.now() - t0 - 300) / 1000;
    const stored = s.sinks[0]?.delivered ?? spooled;
    await c.stop();
    return { bytes: s.spool.bytes, records: stored, recovered: s.records.recovered, live: s.records.live, intakeRecordsPerSec: Math.round(spooled / intakeSecs), timedRecordsPerSec: Math.round(stored / secs) };
  } finally {
    await model.stop();
    rmSync(base, { recursive: true, force: true });
  }
}
