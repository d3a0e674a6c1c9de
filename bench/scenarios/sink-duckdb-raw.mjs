// As sink-duckdb, on the path `bsmkit collect` uses while a store catches up: DuckDbSink.writeRaw() of spool RawBatches
// of one store row group (STORE_ROW_GROUP, 16384 records), with the record ids derived by the sink and no record objects.
import { dist } from '../dist-path.mjs';
import { storeRecords } from './sink-duckdb.mjs';

export const description = 'DuckDbSink.writeRaw() of the trail\'s records (first 300k), raw batches of one store row group (16384)';

export default async function sinkDuckdbRaw({ file }) {
  const { STORE_ROW_GROUP } = await import(dist('sinks/store-schema.js'));
  return storeRecords({ file, batchSize: STORE_ROW_GROUP, limit: Number(process.env.BSMKIT_BENCH_SINK_RECORDS ?? 300000), raw: true });
}
