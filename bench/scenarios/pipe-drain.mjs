// The audit pipe source draining the kernel model: a steady 1.2M records/s workload for 3 s into a pipe at
// qlimit 1024 (TRAIL mode, every record trail-selected), read by openPipeDrain's thread (read + GET_DROPS +
// GET_INSERTS per read) while this thread takes the raw batches. Target: >= 1M records/s with 0 drops.
// Reported: records received (records), drops (must be 0), timedRecordsPerSec (received / time from the start of
// the workload until the last record arrived). The model's files go to /dev/shm when it exists.
// BSMKIT_BENCH_DRAIN_RATE sets the offered rate (records/s) instead of 1.2M; BSMKIT_BENCH_DRAIN_PRIORITY=normal runs
// the drain thread at normal priority instead of real-time (priority: what it got). dropEvents: how many separate
// drops the counters showed (each a moment the reader was not there for a queue's worth of records), and the largest.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from '../dist-path.mjs';

export const description = 'pipe drain thread vs the kernel model at 1.2M records/s for 3 s, qlimit 1024, raw batches';

const RATE = Number(process.env.BSMKIT_BENCH_DRAIN_RATE ?? 1_200_000);
const PRIORITY = process.env.BSMKIT_BENCH_DRAIN_PRIORITY ?? 'high';
const SECONDS = 3;

export default async function pipeDrain() {
  const { startKernelModel } = await import(dist('testing/kernel-model/index.js'));
  const { openPipeDrain } = await import(dist('sources/pipe/index.js'));
  const endpoint = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bsmkit-bench-pipe-'));
  const model = await startKernelModel({ endpoint, seed: 42 });
  try {
    const drain = await openPipeDrain({ device: { endpoint: model.info.endpoint }, priority: PRIORITY });
    let bytes = 0;
    let records = 0;
    let drops = 0;
    let dropEvents = 0;
    let largestDrop = 0;
    let lastAt = 0;
    const consumer = (async () => {
      for await (const b of drain) {
        bytes += b.length;
        records = b.counters.recordsRead;
        for (const d of b.drops) {
          drops += d.records;
          dropEvents++;
          largestDrop = Math.max(largestDrop, d.records);
        }
        lastAt = performance.now();
      }
      for (const d of drain.trailingDrops) drops += d.records;
    })();
    // warm-up: the JIT of both sides
    await model.run([{ type: 'steady', rate: 200_000, seconds: 1 }]);
    const warm = records;
    const warmBytes = bytes;
    const t0 = performance.now();
    const r = await model.run([{ type: 'steady', rate: RATE, seconds: SECONDS }]);
    const expected = warm + (r.last - r.first + 1);
    const deadline = Date.now() + 10_000;
    while (records + drops < expected && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    const secs = (lastAt - t0) / 1000;
    await drain.close();
    await consumer;
    return {
      bytes: bytes - warmBytes,
      records: records - warm,
      drops,
      generated: r.last - r.first + 1,
      dropEvents,
      largestDrop,
      priority: `${drain.priority.applied} (${drain.priority.detail})`,
      timedRecordsPerSec: Math.round((records - warm) / secs),
    };
  } finally {
    await model.stop();
    rmSync(endpoint, { recursive: true, force: true });
  }
}
