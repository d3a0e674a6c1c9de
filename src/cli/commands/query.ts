import { resolve } from 'node:path';
import { DuckDBTypeId, type DuckDBConnection, type DuckDBInstance, type DuckDBType, type Json } from '@duckdb/node-api';
import { BsmkitError, UsageError } from '../../errors.js';
import { defaultStorePath, openStoreReadOnly } from '../../sinks/duckdb-sink.js';
import { parseCommandArgs } from '../args.js';
import { write, type CliIo } from '../io.js';

export const summary = 'run SQL against the collector store (DuckDB) and print the result';

const usage = `usage: bsmkit query [--db FILE] [--json | --csv] "SQL"

  --db FILE    the store (default: $BSMKIT_STORE, /var/db/bsmkit/store.duckdb for root,
               else $XDG_STATE_HOME/bsmkit/store.duckdb, i.e. ~/.local/state/bsmkit/store.duckdb)
  --json       one JSON object per row (NDJSON)
  --csv        CSV with a header line (RFC 4180)

The store is opened read-only. Table and columns: docs/store.md, e.g.
  bsmkit query "SELECT event_name, count(*) AS n FROM records GROUP BY ALL ORDER BY n DESC LIMIT 10"
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: { db: { type: 'string' }, json: { type: 'boolean' }, csv: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one SQL argument (got ${positionals.length})\n${usage}`);
  if (values.json && values.csv) throw new UsageError('--json and --csv exclude each other');
  const db = values.db !== undefined ? resolve(io.cwd, values.db) : defaultStorePath(io.env);
  const { instance, conn } = await openStoreReadOnly(db);
  try {
    const format = values.json ? 'json' : values.csv ? 'csv' : 'table';
    await runQuery(conn, positionals[0], format, io);
  } finally {
    conn.closeSync();
    (instance as DuckDBInstance).closeSync();
  }
  return 0;
}

async function runQuery(conn: DuckDBConnection, sql: string, format: 'table' | 'json' | 'csv', io: CliIo): Promise<void> {
  let result;
  try {
    result = await conn.stream(sql);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_QUERY', `query failed: ${(err as Error).message}`, { cause: err });
  }
  const names = result.columnNames();
  const fix = result.columnTypes().map(jsonFix);
  const table: string[][] = [];
  if (format === 'csv') await write(io.stdout, names.map(csvField).join(',') + '\r\n');
  try {
    for await (const rows of result.yieldRowsJson()) {
      let out = '';
      for (const row of rows) {
        for (let i = 0; i < row.length; i++) if (fix[i] && row[i] !== null) row[i] = fix[i]!(row[i]);
        if (format === 'json') {
          const o: Record<string, Json> = {};
          for (let i = 0; i < names.length; i++) o[names[i]] = row[i];
          out += JSON.stringify(o) + '\n';
        } else if (format === 'csv') out += row.map((v) => csvField(text(v, ''))).join(',') + '\r\n';
        else table.push(row.map((v) => text(v, 'NULL')));
      }
      if (out) await write(io.stdout, out);
    }
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_QUERY', `query failed: ${(err as Error).message}`, { cause: err });
  }
  if (format === 'table') await write(io.stdout, formatTable(names, table));
}

const WIDE_INTS = new Set<number>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);

/**
 * Per column, how DuckDB's JSON form of a value is improved: 64-bit integers (strings there) become numbers when
 * they are exact as numbers, and JSON columns (the store's tokens) are embedded as JSON rather than as text.
 */
function jsonFix(t: DuckDBType): ((v: Json) => Json) | undefined {
  if (WIDE_INTS.has(t.typeId)) return (v) => (typeof v === 'string' && Number.isSafeInteger(Number(v)) ? Number(v) : v);
  if (t.alias === 'JSON') {
    return (v) => {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as Json;
      } catch {
        return v;
      }
    };
  }
  return undefined;
}

/** A value as table/CSV text: strings as they are, everything else as its JSON. */
function text(v: Json, nullText: string): string {
  if (v === null) return nullText;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

/** Aligned columns (numbers right-aligned), a rule under the header, and the row count. */
export function formatTable(names: string[], rows: string[][]): string {
  const oneLine = (s: string): string => s.replace(/[\r\n\t]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
  const cells = rows.map((r) => r.map(oneLine));
  const widths = names.map((n, i) => Math.max(n.length, ...cells.map((r) => r[i].length)));
  const numeric = names.map((_, i) => cells.length > 0 && cells.every((r) => r[i] === 'NULL' || /^-?\d+(\.\d+)?$/.test(r[i])));
  const line = (r: string[]): string =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ').trimEnd() + '\n';
  let out = line(names.map((n, i) => (numeric[i] ? n.padStart(widths[i]) : n)));
  out += widths.map((w) => '-'.repeat(w)).join('-+-') + '\n';
  for (const r of cells) out += line(r);
  out += `(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
  return out;
}
