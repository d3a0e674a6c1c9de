// As sink-duckdb, on the path `bsmkit collect` uses while a store catches up: DuckDbSink.writeRaw() of spool RawBatches
// of one DuckDB row group (122880 records), with the record ids derived by the sink and no record objects.
import { storeRecords } from './sink-duckdb.mjs';

export const description = 'DuckDbSink.writeRaw() of the trail\'s records (first 300k), 122880-record raw batches';

export default function sinkDuckdbRaw({ file }) {
  return storeRecords({ file, batchSize: 122880, limit: Number(process.env.BSMKIT_BENCH_SINK_RECORDS ?? 300000), raw: true });
}
