/**
 * The embedded store: every collected record as one row of a DuckDB table (schema: store-schema.ts,
 * docs/store.md). The default sink of `bsmkit collect` and the database `bsmkit query` reads.
 *
 * Exactly-once: each batch is appended in one transaction, and the highest stored `seq` (read back from the table
 * on open) is the sink's own checkpoint, so a batch replayed after a crash between commit and the collector's
 * checkpoint is skipped. As a second line of defence, a record that comes back under a new seq is dropped by its id
 * when it matches one of the last RECENT_IDS stored (a window kept in memory and reloaded on open). The table has
 * no primary key: DuckDB's index on `id` cost about a fifth of the sink's CPU per record (bench sink-duckdb), and
 * the collector never re-sends a record under a new seq by design (docs/collector.md), so a bounded window covers
 * what an index would catch in practice.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { hostOrBuiltinEventTable } from '../catalog/event-table.js';
import { BsmkitError } from '../errors.js';
import type { EventDescriber } from '../render/json/index.js';
import { ensurePrivateDir, makePrivate, withPrivateUmask } from './private-files.js';
import { claimTarget, releaseTarget } from './held-files.js';
import { defaultStorePath } from './store-path.js';
import { RecordRowWriter, type PreparedRows } from './record-row.js';
import { CREATE_META_SQL, createRecordsTableSql, META_TABLE, RECORD_COLUMNS, STORE_ROW_GROUP, RECORDS_TABLE, STORE_SCHEMA_VERSION } from './store-schema.js';
import type { CollectedRecord, Sink } from './sink.js';
import { materialize, NO_SOURCE, type RawBatch } from '../spool/raw-batch.js';
import { idText, recordIdLanes } from '../spool/record-id.js';
import { RecentIds } from './recent-ids.js';
import { PipelinedWrites } from './pipelined-writes.js';

export { DEFAULT_STORE_PATH, defaultStorePath } from './store-path.js';

export interface DuckDbSinkOptions {
  /** Database file (default: defaultStorePath()). Its directory is created 0700 when missing. */
  path?: string;
  /** Sink name for checkpoints and reports (default "duckdb"). */
  name?: string;
  /** Event names for the `event_name` column and the tokens JSON (default: hostOrBuiltinEventTable()). */
  events?: EventDescriber;
  /** DuckDB configuration options for the database instance, over DEFAULT_DUCKDB_CONFIG (e.g. `{ memory_limit: '256MB', threads: '2' }`). */
  config?: Record<string, string>;
  /** How many of the most recently stored ids a new record is checked against (default RECENT_IDS). */
  recentIds?: number;
}

/** What one write() did, for the collector's accounting and for tests. */
export interface DuckDbWriteStats {
  /** Rows inserted. */
  inserted: number;
  /** Records skipped because their seq was at or below the stored lastSeq (a replay). */
  skippedBySeq: number;
  /** Records skipped because a row with the same id was already stored. */
  skippedById: number;
}

/**
 * DuckDB settings unless the caller gives others. DuckDB's default memory limit is 80% of RAM: a collector is a
 * long-running daemon beside other work, and bulk appends do not need more than this (row groups are written out).
 */
export const DEFAULT_DUCKDB_CONFIG: Readonly<Record<string, string>> = { memory_limit: '128MB' };

/** Rows of a write rendered ahead, while the write before it commits (one row group: bounded memory). */
const PREFILL_ROWS = STORE_ROW_GROUP;

/** A write whose ids are checked and whose rows are (partly) rendered, waiting for its transaction. */
interface PreparedWrite {
  stats: DuckDbWriteStats;
  max: number;
  count: number;
  records: () => CollectedRecord[];
  rows: PreparedRows;
}

/** The store's name inside the sink's DuckDB instance. */
const STORE_CATALOG = 'store';

/** A SQL string literal. */
const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** How many of the most recently stored ids are checked against (memory: 20 bytes each). */
export const RECENT_IDS = 1 << 17;

/** Stores created before the table lost its primary key still have it: a duplicate there fails the insert. */
const DUPLICATE_KEY = /duplicate key|violates primary key|constraint/i;

export class DuckDbSink implements Sink {
  readonly name: string;
  readonly catchUpBatch = STORE_ROW_GROUP;
  readonly path: string;
  private readonly events: EventDescriber | undefined;
  private readonly config: Record<string, string>;
  private instance: DuckDBInstance | undefined;
  private conn: DuckDBConnection | undefined;
  private appender: DuckDBAppender | undefined;
  private rows: RecordRowWriter | undefined;
  /** Highest seq stored (-1: none). */
  private stored = -1;
  /** Highest seq of a prepared write (at least `stored`): a record at or below it is a replay. */
  private ahead = -1;
  private readonly recentSize: number;
  private recent: RecentIds;
  /**
   * Set when a write failed: the database is closed then and opened afresh before the next call. A failed
   * checkpoint invalidates a DuckDB database until it is attached again, and a reopen also resets the appender and
   * rereads the stored seq and the window of recent ids from what the table really holds.
   */
  private broken: string | undefined;
  /** Between a successful open() and close(): only then does a failed write make the next call reopen the store. */
  private opened = false;
  /** The store's claim in this process (held-files.ts), from open() to close(). */
  private claim: string | undefined;
  /** Writes in call order, two at a time (the transaction and the appender are per connection); see enqueue(). */
  private readonly writes: PipelinedWrites;
  /** Writes the collector may hand over before the previous one is stored (Sink.maxInFlight; see enqueue()). */
  readonly maxInFlight = 2;
  /** Totals since open(). */
  readonly totals: DuckDbWriteStats = { inserted: 0, skippedBySeq: 0, skippedById: 0 };

  constructor(opts: DuckDbSinkOptions = {}) {
    this.path = opts.path ?? defaultStorePath();
    this.name = opts.name ?? 'duckdb';
    this.events = opts.events;
    // An in-memory instance (see open()) would spill into `.tmp` in the working directory: keep it by the store.
    this.config = { ...DEFAULT_DUCKDB_CONFIG, temp_directory: this.path + '.tmp', ...opts.config };
    this.recentSize = Math.max(1, Math.floor(opts.recentIds ?? RECENT_IDS));
    this.recent = new RecentIds(this.recentSize);
    this.writes = new PipelinedWrites(`duckdb sink ${this.path}`);
  }

  async open(): Promise<void> {
    if (this.conn) return;
    ensurePrivateDir(dirname(this.path), 'BSMKIT_E_STORE_OPEN');
    this.claim = claimTarget(this.path, this, 'BSMKIT_E_STORE_OPEN', `duckdb sink: cannot open store ${this.path}`);
    try {
      // The store is attached rather than opened: only ATTACH takes a row group size (STORE_ROW_GROUP).
      this.instance = await withPrivateUmask(() => DuckDBInstance.create(':memory:', this.config));
      this.conn = await this.instance.connect();
      // TYPE duckdb: any other file is refused as such, instead of DuckDB guessing its type (a SQLite file would make
      // it install and load the sqlite extension, from the network).
      await withPrivateUmask(() => this.conn!.run(`ATTACH ${sqlText(this.path)} AS ${STORE_CATALOG} (TYPE duckdb, ROW_GROUP_SIZE ${STORE_ROW_GROUP})`));
      await this.conn.run(`USE ${STORE_CATALOG}`);
      await this.prepareSchema(this.conn);
      this.stored = await this.readLastSeq();
      this.ahead = this.stored;
      await this.loadRecentIds();
      this.appender = await this.conn.createAppender(RECORDS_TABLE, null, STORE_CATALOG);
      this.rows = new RecordRowWriter(this.events ?? hostOrBuiltinEventTable());
      this.protect();
      this.opened = true;
    } catch (err) {
      this.closeHandles();
      // a reopen after a failed write keeps the claim: the sink is still open and retries on the next call
      if (!this.opened) releaseTarget(this.claim, this);
      if (err instanceof BsmkitError) throw err;
      throw new BsmkitError('BSMKIT_E_STORE_OPEN', `duckdb sink: cannot open store ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  write(batch: readonly CollectedRecord[]): Promise<void> {
    return this.enqueue(() => this.prepareBatch(batch)).then(() => undefined);
  }

  /** write() with what it did. */
  writeWithStats(batch: readonly CollectedRecord[]): Promise<DuckDbWriteStats> {
    return this.enqueue(() => this.prepareBatch(batch));
  }

  async lastSeq(): Promise<number | undefined> {
    await this.writes.idle();
    await this.reopenIfBroken();
    if (!this.conn) throw new BsmkitError('BSMKIT_E_SINK_CLOSED', `duckdb sink ${this.path} is not open`);
    // max(seq) as read on open and advanced by every commit since (no table scan per call).
    return this.stored < 0 ? undefined : this.stored;
  }

  async close(): Promise<void> {
    await this.writes.idle();
    // after a failed write the handles are already closed: nothing more to fold in
    this.broken = undefined;
    this.opened = false;
    if (!this.conn) {
      releaseTarget(this.claim, this);
      return;
    }
    try {
      this.appender?.closeSync();
      this.appender = undefined;
      // Fold the WAL into the database file so the store is one file at rest.
      await withPrivateUmask(() => this.conn!.run(`CHECKPOINT ${STORE_CATALOG}`));
    } finally {
      this.closeHandles();
      this.protect();
      releaseTarget(this.claim, this);
    }
  }

  /** write() of a spool RawBatch (the collector's path): the same checks, rows filled from the batch's arrays. */
  writeRaw(raw: RawBatch): Promise<void> {
    return this.enqueue(() => this.prepareRaw(raw)).then(() => undefined);
  }

  /**
   * A write in two steps (pipelined-writes.ts): prepare (the seq and id checks and rendering the rows: JS work, no
   * database) while the write before commits, then store (append and commit) in call order.
   */
  private enqueue(prepare: () => PreparedWrite): Promise<DuckDbWriteStats> {
    return this.writes.run(
      async (storesBefore) => {
        if (!this.opened) throw this.closedError();
        try {
          if (this.broken !== undefined) {
            // after a failure: the stores handed over before end first (they fail), then the database is reopened
            await storesBefore;
            await this.reopenIfBroken();
          }
          return prepare();
        } catch (err) {
          this.broken ??= (err as Error).message;
          throw err;
        }
      },
      (w, appended) => this.store(w, appended),
    );
  }

  private prepareBatch(batch: readonly CollectedRecord[]): PreparedWrite {
    const rows = this.rows;
    if (!rows) throw this.closedError();
    const stats: DuckDbWriteStats = { inserted: 0, skippedBySeq: 0, skippedById: 0 };
    const fresh: CollectedRecord[] = [];
    const floor = this.ahead;
    let max = floor;
    for (const r of batch) {
      if (r.seq <= floor) {
        stats.skippedBySeq++;
        continue;
      }
      if (r.seq > max) max = r.seq;
      // Added now so a record repeated within the batch is caught too; a failed write reloads the window.
      if (this.recent.has(r.id)) stats.skippedById++;
      else {
        this.recent.add(r.id);
        fresh.push(r);
      }
    }
    this.ahead = max;
    return { stats, max, count: fresh.length, records: () => fresh, rows: rows.prepareBatch(fresh, PREFILL_ROWS) };
  }

  private prepareRaw(raw: RawBatch): PreparedWrite {
    const rows = this.rows;
    if (!rows) throw this.closedError();
    const stats: DuckDbWriteStats = { inserted: 0, skippedBySeq: 0, skippedById: 0 };
    const pick = new Int32Array(raw.count);
    const ids: string[] = [];
    const lanes = new Uint32Array(2);
    const floor = this.ahead;
    let max = floor;
    let at = 0;
    for (let i = 0; i < raw.count; i++) {
      const seq = raw.firstSeq + i;
      const len = raw.lens[i]!;
      const start = at;
      at += len;
      if (seq <= floor) {
        stats.skippedBySeq++;
        continue;
      }
      max = seq;
      const f = raw.files[i]!;
      recordIdLanes(raw.data.subarray(start, start + len), f === NO_SOURCE ? undefined : raw.sourceNames[f], raw.srcOffs[i]!, lanes);
      const hi = lanes[0]!, lo = lanes[1]!;
      if (this.recent.hasKey(hi, lo)) stats.skippedById++;
      else {
        this.recent.addKey(hi, lo);
        pick[ids.length] = i;
        ids.push(idText(hi, lo));
      }
    }
    const picked = pick.subarray(0, ids.length);
    const records = (): CollectedRecord[] => {
      const all = materialize(raw);
      return Array.from(picked, (i) => all[i]!);
    };
    this.ahead = max;
    return { stats, max, count: ids.length, records, rows: rows.prepareRaw(raw, picked, ids, PREFILL_ROWS) };
  }

  /**
   * Stores a prepared write's `count` fresh rows in one transaction and advances the stored seq to its `max`.
   * `records()` gives them as objects for the rare retry in stores created with a primary key.
   */
  private async store(w: PreparedWrite, appended: () => void): Promise<DuckDbWriteStats> {
    const { stats, max, count, records } = w;
    const conn = this.conn, a = this.appender, rows = this.rows;
    if (!conn || !a || !rows) throw this.closedError();
    if (count === 0) {
      // Nothing new (a replay, or only duplicates): nothing to commit, but the seqs are done. (Prepared while an
      // earlier batch was stored, `max` can be below what that batch stored.)
      this.stored = Math.max(this.stored, max);
      return this.count(stats);
    }
    try {
      await withPrivateUmask(() => this.appendInTransaction(conn, a, (ap) => rows.append(ap, w.rows), appended));
      stats.inserted = count;
    } catch (err) {
      let fresh = records();
      if (!DUPLICATE_KEY.test((err as Error).message)) {
        throw this.writeFailed(fresh, err);
      }
      // Rare path, only in stores created with a primary key on id (older bsmkit): an id stored before the window
      // of recent ids. Append only the new ones.
      const known = await this.storedIds(conn, fresh);
      const seen = new Set<string>();
      const keep: CollectedRecord[] = [];
      for (const r of fresh) {
        if (known.has(r.id) || seen.has(r.id)) stats.skippedById++;
        else {
          seen.add(r.id);
          keep.push(r);
        }
      }
      fresh = keep;
      try {
        if (fresh.length > 0) await withPrivateUmask(() => this.appendInTransaction(conn, a, (ap) => rows.appendBatch(ap, fresh)));
      } catch (err2) {
        throw this.writeFailed(fresh, err2);
      }
      stats.inserted = fresh.length;
    }
    this.stored = Math.max(this.stored, max);
    this.protect();
    return this.count(stats);
  }

  private closedError(): BsmkitError {
    return new BsmkitError('BSMKIT_E_SINK_CLOSED', `duckdb sink ${this.path} is not open`);
  }

  /** `appended` is called once the rows are in the transaction, as the commit starts. */
  private async appendInTransaction(conn: DuckDBConnection, a: DuckDBAppender, append: (a: DuckDBAppender) => void, appended?: () => void): Promise<void> {
    await conn.run('BEGIN TRANSACTION');
    try {
      append(a);
      a.flushSync();
      appended?.();
      await conn.run('COMMIT');
    } catch (err) {
      a.clear();
      await conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async storedIds(conn: DuckDBConnection, batch: CollectedRecord[]): Promise<Set<string>> {
    const list = batch.map((r) => `'${r.id.replaceAll("'", "''")}'`).join(',');
    const res = await conn.runAndReadAll(`SELECT id FROM ${RECORDS_TABLE} WHERE id IN (${list})`);
    return new Set(res.getRows().map((row) => String(row[0])));
  }

  private writeError(batch: CollectedRecord[], err: unknown): BsmkitError {
    const range = batch.length ? `seq ${batch[0].seq}..${batch[batch.length - 1].seq}` : 'empty batch';
    return new BsmkitError('BSMKIT_E_SINK_WRITE', `duckdb sink: cannot store ${range} in ${this.path}: ${(err as Error).message}`, { cause: err });
  }

  private count(s: DuckDbWriteStats): DuckDbWriteStats {
    this.totals.inserted += s.inserted;
    this.totals.skippedBySeq += s.skippedBySeq;
    this.totals.skippedById += s.skippedById;
    return s;
  }

  /**
   * A failed write: the error for the caller, and the database closed now (its memory freed) to be opened afresh
   * by the next call. The window of recent ids holds ids that were not stored; the reopen reads it back.
   */
  private writeFailed(batch: CollectedRecord[], err: unknown): BsmkitError {
    const e = this.writeError(batch, err);
    this.broken = e.message;
    this.closeHandles();
    return e;
  }

  private async reopenIfBroken(): Promise<void> {
    if (this.broken === undefined) return;
    this.closeHandles();
    await this.open();
    this.broken = undefined;
  }

  /** The ids of the last `recentIds` records (by seq): the window of the id check. */
  private async loadRecentIds(): Promise<void> {
    this.recent = new RecentIds(this.recentSize);
    if (this.stored < 0) return;
    const r = await this.conn!.runAndReadAll(`SELECT id FROM ${RECORDS_TABLE} WHERE seq > ${this.stored - this.recentSize} ORDER BY seq`);
    for (const row of r.getRows()) this.recent.add(String(row[0]));
  }

  /**
   * Creates the tables in a new store; in an existing one, checks that it is a store of this schema version with the
   * records table this sink appends to. Anything else is refused untouched: writing into it would fail batch after
   * batch, or stamp someone else's database as ours.
   */
  private async prepareSchema(conn: DuckDBConnection): Promise<void> {
    const names = async (sql: string): Promise<string[]> => (await conn.runAndReadAll(sql)).getRows().map((r) => String(r[0]));
    const tables = new Set(await names(`SELECT table_name FROM duckdb_tables() WHERE database_name = '${STORE_CATALOG}' AND schema_name = 'main'`));
    const version = tables.has(META_TABLE) ? (await names(`SELECT value FROM ${META_TABLE} WHERE key = 'schema_version'`))[0] : undefined;
    if (version === undefined) {
      if (tables.has(RECORDS_TABLE)) {
        throw new Error(`it has a ${RECORDS_TABLE} table but no schema version in ${META_TABLE}: not a bsmkit store, or one of an unknown version; move it aside or give another path`);
      }
      await withPrivateUmask(async () => {
        await conn.run('BEGIN');
        await conn.run(CREATE_META_SQL);
        await conn.run(createRecordsTableSql());
        await conn.run(`INSERT INTO ${META_TABLE} VALUES ('schema_version', '${STORE_SCHEMA_VERSION}')`);
        await conn.run('COMMIT');
      });
      return;
    }
    if (version !== String(STORE_SCHEMA_VERSION)) throw new Error(`store schema version ${version}, this bsmkit writes version ${STORE_SCHEMA_VERSION}`);
    const cols = (await conn.runAndReadAll(`SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = '${STORE_CATALOG}' AND schema_name = 'main' AND table_name = '${RECORDS_TABLE}' ORDER BY column_index`)).getRows();
    const got = cols.map(([n, t]) => `${String(n)} ${String(t)}`).join(', ');
    const want = RECORD_COLUMNS.map(([n, t]) => `${n} ${t.split(' ')[0]}`).join(', ');
    if (got !== want) throw new Error(`its ${RECORDS_TABLE} table does not have the columns of schema version ${STORE_SCHEMA_VERSION}: (${got || 'no such table'}), expected (${want})`);
  }

  private async readLastSeq(): Promise<number> {
    const r = await this.conn!.runAndReadAll(`SELECT max(seq) FROM ${RECORDS_TABLE}`);
    const v = r.getRows()[0][0];
    return v === null || v === undefined ? -1 : Number(v);
  }

  /** The database and its WAL stay 0600 even where the umask could not be set (worker threads). */
  private protect(): void {
    try {
      makePrivate(this.path);
      makePrivate(this.path + '.wal');
    } catch {
      // A file we cannot chmod is one we do not own; DuckDB would have failed on it first.
    }
  }

  private closeHandles(): void {
    try {
      this.appender?.closeSync();
    } catch {
      // Closing after a failed flush: nothing left to save.
    }
    this.conn?.closeSync();
    this.instance?.closeSync();
    this.appender = undefined;
    this.conn = undefined;
    this.instance = undefined;
  }
}

/** Opens the store read-only for queries; a clear error when it does not exist or is locked by a writer. */
export async function openStoreReadOnly(path: string): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
  if (!existsSync(path)) {
    throw new BsmkitError('BSMKIT_E_STORE_MISSING', `no store at ${path} (run \`bsmkit collect\` first, or give --db FILE)`);
  }
  // DuckDB guesses the type of a file it is given to open: a SQLite file would make it install and load the sqlite
  // extension (from the network) and show that database instead. A store is a DuckDB file: say so when it is not.
  if (!isDuckDbFile(path)) {
    throw new BsmkitError('BSMKIT_E_STORE_OPEN', `cannot open store ${path}: not a DuckDB database file`);
  }
  let instance: DuckDBInstance | undefined;
  try {
    instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    return { instance, conn: await instance.connect() };
  } catch (err) {
    instance?.closeSync();
    const msg = (err as Error).message;
    const hint = /lock/i.test(msg) ? ' (DuckDB allows one writing process: a running collector holds the store; stop it or query a copy)' : '';
    throw new BsmkitError('BSMKIT_E_STORE_OPEN', `cannot open store ${path}: ${msg}${hint}`, { cause: err });
  }
}

/** DuckDB's file magic: "DUCK" at byte 8 of the main header. A file too short to have one is left to DuckDB. */
function isDuckDbFile(path: string): boolean {
  const head = Buffer.alloc(12);
  let n = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return true; // unreadable here: DuckDB's own error names the cause
  }
  return n < head.length || head.toString('latin1', 8, 12) === 'DUCK';
}
