/**
 * The embedded store: every collected record as one row of a DuckDB table (schema: store-schema.ts,
 * docs/store.md). The default sink of `bsmkit collect` and the database `bsmkit query` reads.
 *
 * Exactly-once: each batch is appended in one transaction, and the highest stored `seq` (read back from the table
 * on open) is the sink's own checkpoint, so a batch replayed after a crash between commit and the collector's
 * checkpoint is skipped. The record id is the primary key as a second line of defence: a record that comes back
 * under a new seq is dropped by id, never stored twice.
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { hostOrBuiltinEventTable } from '../catalog/event-table.js';
import { BsmkitError } from '../errors.js';
import type { EventDescriber } from '../render/json/index.js';
import { ensurePrivateDir, makePrivate, withPrivateUmask } from './private-files.js';
import { RecordRowWriter } from './record-row.js';
import { CREATE_META_SQL, createRecordsTableSql, RECORDS_TABLE, STORE_SCHEMA_VERSION } from './store-schema.js';
import type { CollectedRecord, Sink } from './sink.js';

/** Where a collector running as root keeps its store (the BSD/macOS convention for daemon state). */
export const DEFAULT_STORE_PATH = '/var/db/bsmkit/store.duckdb';

/**
 * The store path `bsmkit collect` and `bsmkit query` use when none is given: `$BSMKIT_STORE` when set, else
 * DEFAULT_STORE_PATH for root, else `$XDG_STATE_HOME/bsmkit/store.duckdb` (default `~/.local/state/…`).
 */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.BSMKIT_STORE) return env.BSMKIT_STORE;
  if (uid === 0) return DEFAULT_STORE_PATH;
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'bsmkit', 'store.duckdb');
}

export interface DuckDbSinkOptions {
  /** Database file (default: defaultStorePath()). Its directory is created 0700 when missing. */
  path?: string;
  /** Sink name for checkpoints and reports (default "duckdb"). */
  name?: string;
  /** Event names for the `event_name` column and the tokens JSON (default: hostOrBuiltinEventTable()). */
  events?: EventDescriber;
  /** DuckDB configuration options for the database instance (e.g. `{ memory_limit: '256MB', threads: '2' }`). */
  config?: Record<string, string>;
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

const DUPLICATE_KEY = /duplicate key|violates primary key|constraint/i;

export class DuckDbSink implements Sink {
  readonly name: string;
  readonly path: string;
  private readonly events: EventDescriber | undefined;
  private readonly config: Record<string, string>;
  private instance: DuckDBInstance | undefined;
  private conn: DuckDBConnection | undefined;
  private appender: DuckDBAppender | undefined;
  private rows: RecordRowWriter | undefined;
  /** Highest seq stored (-1: none). */
  private stored = -1;
  /** Serialises write() calls: the transaction and the appender are per connection. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Totals since open(). */
  readonly totals: DuckDbWriteStats = { inserted: 0, skippedBySeq: 0, skippedById: 0 };

  constructor(opts: DuckDbSinkOptions = {}) {
    this.path = opts.path ?? defaultStorePath();
    this.name = opts.name ?? 'duckdb';
    this.events = opts.events;
    this.config = opts.config ?? {};
  }

  async open(): Promise<void> {
    if (this.conn) return;
    ensurePrivateDir(dirname(this.path), 'BSMKIT_E_STORE_OPEN');
    try {
      this.instance = await withPrivateUmask(() => DuckDBInstance.create(this.path, this.config));
      this.conn = await this.instance.connect();
      await this.conn.run(CREATE_META_SQL);
      const v = await this.conn.runAndReadAll(`SELECT value FROM bsmkit_store_meta WHERE key = 'schema_version'`);
      const rows = v.getRows();
      if (rows.length === 0) {
        await withPrivateUmask(async () => {
          await this.conn!.run('BEGIN');
          await this.conn!.run(createRecordsTableSql());
          await this.conn!.run(`INSERT INTO bsmkit_store_meta VALUES ('schema_version', '${STORE_SCHEMA_VERSION}')`);
          await this.conn!.run('COMMIT');
        });
      } else if (String(rows[0][0]) !== String(STORE_SCHEMA_VERSION)) {
        throw new Error(`store schema version ${String(rows[0][0])}, this bsmkit writes version ${STORE_SCHEMA_VERSION}`);
      }
      this.stored = await this.readLastSeq();
      this.appender = await this.conn.createAppender(RECORDS_TABLE);
      this.rows = new RecordRowWriter(this.events ?? hostOrBuiltinEventTable());
      this.protect();
    } catch (err) {
      this.closeHandles();
      if (err instanceof BsmkitError) throw err;
      throw new BsmkitError('BSMKIT_E_STORE_OPEN', `duckdb sink: cannot open store ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  write(batch: readonly CollectedRecord[]): Promise<void> {
    const p = this.chain.then(() => this.writeNow(batch));
    this.chain = p.catch(() => undefined);
    return p.then(() => undefined);
  }

  /** write() with what it did. */
  writeWithStats(batch: readonly CollectedRecord[]): Promise<DuckDbWriteStats> {
    const p = this.chain.then(() => this.writeNow(batch));
    this.chain = p.catch(() => undefined);
    return p;
  }

  async lastSeq(): Promise<number | undefined> {
    await this.chain;
    if (!this.conn) throw new BsmkitError('BSMKIT_E_SINK_CLOSED', `duckdb sink ${this.path} is not open`);
    // max(seq) as read on open and advanced by every commit since (no table scan per call).
    return this.stored < 0 ? undefined : this.stored;
  }

  async close(): Promise<void> {
    await this.chain;
    if (!this.conn) return;
    try {
      this.appender?.closeSync();
      this.appender = undefined;
      // Fold the WAL into the database file so the store is one file at rest.
      await withPrivateUmask(() => this.conn!.run('CHECKPOINT'));
    } finally {
      this.closeHandles();
      this.protect();
    }
  }

  private async writeNow(batch: readonly CollectedRecord[]): Promise<DuckDbWriteStats> {
    const conn = this.conn, a = this.appender, rows = this.rows;
    if (!conn || !a || !rows) throw new BsmkitError('BSMKIT_E_SINK_CLOSED', `duckdb sink ${this.path} is not open`);
    const stats: DuckDbWriteStats = { inserted: 0, skippedBySeq: 0, skippedById: 0 };
    let fresh: CollectedRecord[] = [];
    let max = this.stored;
    for (const r of batch) {
      if (r.seq <= this.stored) stats.skippedBySeq++;
      else {
        fresh.push(r);
        if (r.seq > max) max = r.seq;
      }
    }
    if (fresh.length === 0) return this.count(stats);
    try {
      await withPrivateUmask(() => this.appendInTransaction(conn, a, rows, fresh));
    } catch (err) {
      if (!DUPLICATE_KEY.test((err as Error).message)) throw this.writeError(fresh, err);
      // Rare path: some ids are already stored (or repeat within the batch). Append only the new ones.
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
        if (fresh.length > 0) await withPrivateUmask(() => this.appendInTransaction(conn, a, rows, fresh));
      } catch (err2) {
        throw this.writeError(fresh, err2);
      }
    }
    stats.inserted = fresh.length;
    this.stored = max;
    this.protect();
    return this.count(stats);
  }

  private async appendInTransaction(conn: DuckDBConnection, a: DuckDBAppender, rows: RecordRowWriter, batch: CollectedRecord[]): Promise<void> {
    await conn.run('BEGIN TRANSACTION');
    try {
      rows.appendBatch(a, batch);
      a.flushSync();
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
  const { existsSync } = await import('node:fs');
  if (!existsSync(path)) {
    throw new BsmkitError('BSMKIT_E_STORE_MISSING', `no store at ${path} (run \`bsmkit collect\` first, or give --db FILE)`);
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
