// The NDJSON file sink (sinks/ndjson-file-sink.ts) on the benchmark trail's records: frame the first
// BSMKIT_BENCH_SINK_RECORDS records (default 300000), then NdjsonFileSink.write() in batches of BSMKIT_BENCH_SINK_BATCH
// (default 8192), up to the sink's maxInFlight (2) outstanding as the collector hands them over; each batch appended
// and fdatasync'ed. Files go to /dev/shm when it exists (the rendering is measured, not the disk). records/s is the
// whole sample; extra.sinkRecordsPerSec and sinkCpuUsPerRecord cover the first write() to the end of close().
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from '../dist-path.mjs';
import { frameBatches } from './sink-duckdb.mjs';

export const description = 'NdjsonFileSink.write() of the trail\'s records (first 300k), 8192-record batches, two in flight';

export default async function sinkNdjson({ file }) {
  const { NdjsonFileSink } = await import(dist('sinks/ndjson-file-sink.js'));
  const { builtinEventTable } = await import(dist('catalog/event-table.js'));
  const limit = Number(process.env.BSMKIT_BENCH_SINK_RECORDS ?? 300000);
  const batchSize = Number(process.env.BSMKIT_BENCH_SINK_BATCH ?? 8192);
  const { batches, records: seq, bytes } = await frameBatches({ file, batchSize, limit });
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bsmkit-bench-ndjson-'));
  try {
    const sink = new NdjsonFileSink({ dir, events: builtinEventTable('macos') });
    await sink.open();
    const depth = sink.maxInFlight ?? 1;
    const t = performance.now();
    const c = process.cpuUsage();
    const inFlight = [];
    for (const b of batches) {
      inFlight.push(sink.write(b));
      if (inFlight.length >= depth) await inFlight.shift();
    }
    await Promise.all(inFlight);
    await sink.close();
    const d = process.cpuUsage(c);
    const ms = performance.now() - t;
    return { bytes, records: seq, sinkMs: ms, sinkRecordsPerSec: Math.round((seq / ms) * 1000), sinkCpuUsPerRecord: Math.round(((d.user + d.system) / seq) * 10) / 10 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
