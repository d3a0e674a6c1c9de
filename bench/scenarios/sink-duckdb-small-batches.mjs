// As sink-duckdb, with the small batches of a collector that keeps up with a live trickle (4096 records per
// transaction): each batch goes through DuckDB's write-ahead log before a checkpoint folds it into the file.
import { storeRecords } from './sink-duckdb.mjs';

export const description = 'DuckDbSink.write() of the trail\'s records (first 300k), 4096-record batches';

export default function sinkDuckdbSmallBatches({ file }) {
  return storeRecords({ file, batchSize: 4096, limit: Number(process.env.BSMKIT_BENCH_SINK_RECORDS ?? 300000) });
}
