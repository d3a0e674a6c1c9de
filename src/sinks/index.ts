/** Collector outputs: one Sink contract (sink.ts), the built-in sinks and the store's schema. */
export type { CollectedRecord, RecordOrigin, Sink } from './sink.js';
export { DuckDbSink, DEFAULT_STORE_PATH, DEFAULT_DUCKDB_CONFIG, defaultStorePath, openStoreReadOnly } from './duckdb-sink.js';
export type { DuckDbSinkOptions, DuckDbWriteStats } from './duckdb-sink.js';
export { NdjsonFileSink, ndjsonFileName, parseNdjsonFileName } from './ndjson-file-sink.js';
export type { NdjsonFileSinkOptions } from './ndjson-file-sink.js';
export { StdoutSink } from './stdout-sink.js';
export type { StdoutSinkOptions } from './stdout-sink.js';
export { RECORD_COLUMNS, RECORDS_TABLE, STORE_SCHEMA_VERSION } from './store-schema.js';
export { WorkerSink } from './worker-sink.js';
export type { WorkerSinkSpec } from './worker-sink.js';
