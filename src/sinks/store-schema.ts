/**
 * The embedded store's table schema (docs/store.md is the reference for users; keep both in step).
 *
 * One row per collected record. Column order here is the Appender's column order: record-row.ts appends values in
 * exactly this order, so adding a column means adding it in both places (and bumping STORE_SCHEMA_VERSION).
 */

/** Bumped on any incompatible change; stored in `bsmkit_store_meta` and checked on open. */
export const STORE_SCHEMA_VERSION = 1;

/**
 * Rows per row group of the records table (the store is attached with this ROW_GROUP_SIZE; DuckDB's default is
 * 122,880). A transaction of at least this many rows is written straight to the database file, and DuckDB holds a
 * row group uncompressed in native memory while it fills it: a sixteenth-sized group cut the sink's peak memory
 * by about 150 MiB at the same insert rate (bench sink-duckdb-raw). A multiple of DuckDB's vector size (2048).
 */
export const STORE_ROW_GROUP = 16_384;

/** The records table. */
export const RECORDS_TABLE = 'records';

/** [name, SQL type] in append order. */
export const RECORD_COLUMNS: readonly (readonly [string, string])[] = [
  ['id', 'VARCHAR NOT NULL'],
  ['seq', 'BIGINT NOT NULL'],
  ['origin', 'VARCHAR NOT NULL'],
  ['recovered', 'BOOLEAN NOT NULL'],
  ['source_file', 'VARCHAR'],
  ['source_offset', 'BIGINT NOT NULL'],
  ['kind', 'VARCHAR NOT NULL'],
  ['intact', 'BOOLEAN NOT NULL'],
  ['header_type', 'VARCHAR'],
  ['header_version', 'UTINYINT'],
  ['header_size', 'UINTEGER'],
  ['event', 'USMALLINT'],
  ['event_name', 'VARCHAR'],
  ['modifier', 'USMALLINT'],
  ['time', 'TIMESTAMP'],
  ['time_sec', 'UBIGINT'],
  ['time_msec', 'UBIGINT'],
  ['host_addr', 'VARCHAR'],
  ['auid', 'UINTEGER'],
  ['euid', 'UINTEGER'],
  ['egid', 'UINTEGER'],
  ['ruid', 'UINTEGER'],
  ['rgid', 'UINTEGER'],
  ['pid', 'UINTEGER'],
  ['sid', 'UINTEGER'],
  ['terminal_port', 'UBIGINT'],
  ['terminal_addr', 'VARCHAR'],
  ['ret_status', 'UTINYINT'],
  ['ret_errno', 'VARCHAR'],
  ['ret_value', 'UBIGINT'],
  ['tokens', 'JSON NOT NULL'],
  ['diagnostics', 'JSON NOT NULL'],
  ['raw', 'BLOB NOT NULL'],
];

export function createRecordsTableSql(table = RECORDS_TABLE): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (\n  ${RECORD_COLUMNS.map(([n, t]) => `${n} ${t}`).join(',\n  ')}\n)`;
}

/** The store's own facts (`schema_version`). */
export const META_TABLE = 'bsmkit_store_meta';

export const CREATE_META_SQL = `CREATE TABLE IF NOT EXISTS ${META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`;
