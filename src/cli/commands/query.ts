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
  // DuckDB's answer to an empty statement is "Error in native callback": say what is wrong instead
  if (!/[^\s;]/.test(positionals[0])) throw new UsageError(`the SQL argument is empty\n${usage}`);
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
  const types = result.columnTypes();
  const fix = types.map(jsonFix);
  const table = format === 'table' ? new TableWriter(names, types.map((t) => NUMERIC.has(t.typeId))) : undefined;
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
        else out += table!.row(row.map((v) => text(v, 'NULL')));
      }
      if (out) await write(io.stdout, out);
    }
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_QUERY', `query failed: ${(err as Error).message}`, { cause: err });
  }
  if (table) await write(io.stdout, table.end());
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

const NUMERIC = new Set<number>([
  DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL,
]);

/** Rows whose widths set the table's columns; later rows are printed as they come (a longer value overflows). */
export const TABLE_WIDTH_ROWS = 1000;

/**
 * A value on one table line. Recorded strings are attacker-controlled (paths, arguments): control characters
 * (C0, DEL, C1) would move the cursor or restyle the terminal, so they are shown escaped (`\n`, `\t`, `\x1b`).
 */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'),
  );
}

/** Terminal columns of `s`: East Asian wide and fullwidth characters take two, combining marks none. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) || c === 0xfe0f) continue;
    const wide =
      (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf && c !== 0x303f) || (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1f64f) || (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

const pad = (s: string, width: number, right: boolean): string => {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
};

/**
 * Aligned columns (numeric columns right-aligned), a rule under the header, and the row count. The first
 * TABLE_WIDTH_ROWS rows are held to size the columns; after that rows are written as they arrive, so a result of any
 * size prints in bounded memory.
 */
class TableWriter {
  private readonly held: string[][] = [];
  private widths?: number[];
  private count = 0;
  constructor(
    private readonly names: string[],
    private readonly numeric: boolean[],
  ) {}

  /** Takes a row of cell texts; returns what can be printed now. */
  row(cells: string[]): string {
    this.count++;
    const r = cells.map(oneLine);
    if (!this.widths) {
      this.held.push(r);
      return this.held.length >= TABLE_WIDTH_ROWS ? this.flushHeld() : '';
    }
    return this.line(r);
  }

  /** The rest of the table: held rows (for a short result) and the row count. */
  end(): string {
    const out = this.widths ? '' : this.flushHeld();
    return out + `(${this.count} row${this.count === 1 ? '' : 's'})\n`;
  }

  private flushHeld(): string {
    const widths = this.names.map((n) => displayWidth(oneLine(n)));
    for (const r of this.held) for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i]!, displayWidth(r[i]!));
    this.widths = widths;
    let out = this.line(this.names.map(oneLine));
    out += widths.map((w) => '-'.repeat(w)).join('-+-') + '\n';
    for (const r of this.held) out += this.line(r);
    this.held.length = 0;
    return out;
  }

  private line(r: string[]): string {
    return r.map((c, i) => pad(c, this.widths![i]!, this.numeric[i]!)).join(' | ').trimEnd() + '\n';
  }
}

/** A whole table at once (numeric columns as given, else those whose every value looks like a number). */
export function formatTable(names: string[], rows: string[][], numeric?: boolean[]): string {
  const num = numeric ?? names.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === 'NULL' || /^-?\d+(\.\d+)?$/.test(r[i]!)));
  const t = new TableWriter(names, num);
  let out = '';
  for (const r of rows) out += t.row(r);
  return out + t.end();
}
