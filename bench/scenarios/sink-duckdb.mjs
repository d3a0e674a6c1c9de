// The DuckDB store sink (sinks/duckdb-sink.ts) on the benchmark trail's records: frame, then DuckDbSink.write() in
// batches of BSMKIT_BENCH_SINK_BATCH records (default 131072, eight of the store's 16384-row row groups, so batches are
// written straight into the database file, as the collector hands over a backlog), each batch one durable
// transaction, with up to the sink's maxInFlight (2) writes outstanding as the collector hands them over. Only the
// first BSMKIT_BENCH_SINK_RECORDS records (default 300000) are stored, to keep a sample short. records/s is the
// store's insert rate; extra.sinkMs is the time from the first write() to the end of close(), extra.sinkCpuUsPerRecord
// the process CPU time (all threads: DuckDB compresses and writes on its own) in that time per record.
// BSMKIT_BENCH_DUCKDB_CONFIG (JSON) gives DuckDB options over the sink's defaults, e.g. '{"force_compression":"uncompressed"}'.
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from '../dist-path.mjs';

export const description = 'DuckDbSink.write() of the trail\'s records (first 300k), 131072-record batches, one transaction each';

/** The first `limit` records of the trail as CollectedRecords, in batches of `batchSize`. */
export async function frameBatches({ file, batchSize, limit }) {
  const { Framer } = await import(dist('format/framer.js'));
  let batch = [];
  let seq = 0;
  let bytes = 0;
  const full = [];
  const framer = new Framer({
    record(b, offset) {
      if (seq >= limit) return;
      // The id the collector would give: unique per source position (its hash costs the collector, not the sink).
      batch.push({ seq, id: offset.toString(16).padStart(16, '0'), bytes: b, origin: 'trail', sourceFile: file, sourceOffset: offset });
      seq++;
      bytes += b.length;
      if (batch.length === batchSize) {
        full.push(batch);
        batch = [];
      }
    },
    diagnostic() {},
  });
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    framer.push(chunk);
    if (seq >= limit) break;
  }
  framer.end();
  if (batch.length) full.push(batch);
  return { batches: full, records: seq, bytes };
}

export async function storeRecords({ file, batchSize, limit, raw = false }) {
  const { DuckDbSink } = await import(dist('sinks/duckdb-sink.js'));
  const { builtinEventTable } = await import(dist('catalog/event-table.js'));
  const { packRecords } = await import(dist('spool/raw-batch.js'));
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-bench-sink-'));
  const sink = new DuckDbSink({ path: join(dir, 'store.duckdb'), events: builtinEventTable('macos'), config: JSON.parse(process.env.BSMKIT_BENCH_DUCKDB_CONFIG ?? '{}') });
  await sink.open();
  let sinkMs = 0;
  let sinkCpuUs = 0;
  const { batches: full, records: seq, bytes } = await frameBatches({ file, batchSize, limit });
  // raw: the collector's path (spool RawBatches; ids derived by the sink), packed before the clock starts
  const batches = raw ? full.map((b) => packRecords(b).raw) : full;
  // As the collector: up to the sink's maxInFlight writes outstanding (the next batch is rendered while one commits).
  const depth = sink.maxInFlight ?? 1;
  const t = performance.now();
  const c = process.cpuUsage();
  const inFlight = [];
  for (const b of batches) {
    inFlight.push(raw ? sink.writeRaw(b) : sink.write(b));
    if (inFlight.length >= depth) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await sink.close();
  const d = process.cpuUsage(c);
  sinkCpuUs += d.user + d.system;
  sinkMs += performance.now() - t;
  const storeBytes = statSync(join(dir, 'store.duckdb')).size;
  rmSync(dir, { recursive: true, force: true });
  return { bytes, records: seq, sinkMs, sinkRecordsPerSec: Math.round((seq / sinkMs) * 1000), sinkCpuUsPerRecord: Math.round((sinkCpuUs / seq) * 10) / 10, storeBytes };
}

export default function sinkDuckdb({ file }) {
  return storeRecords({
    file,
    batchSize: Number(process.env.BSMKIT_BENCH_SINK_BATCH ?? 131072),
    limit: Number(process.env.BSMKIT_BENCH_SINK_RECORDS ?? 300000),
  });
}
