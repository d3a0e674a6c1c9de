/**
 * The contract between the collector and its outputs (stdout, NDJSON files, DuckDB, ...).
 *
 * The collector reads records from its durable spool and hands them to every sink in batches, in spool order. Each
 * sink has its own checkpoint (the spool sequence number of the last record it has made durable), so a slow or
 * failing sink never holds back the drain or the other sinks. Delivery is at-least-once: after a crash the collector
 * replays from the sink's checkpoint, and a sink that can (the built-in ones do) uses `CollectedRecord.id` or
 * `lastSeq()` to store each record exactly once.
 */

import type { RawBatch } from '../spool/raw-batch.js';

/** Where a record came from in a collector run. */
export type RecordOrigin =
  /** Read from the audit pipe as it happened. */
  | 'pipe'
  /** Read from the trail (trail-only mode, or hybrid mode before/after the pipe could supply it). */
  | 'trail'
  /** Hybrid mode: the pipe dropped it and it was taken from the trail. */
  | 'recovered';

/** One record as the collector delivers it: raw bytes plus the facts needed to account for it. */
export interface CollectedRecord {
  /** Spool sequence number: dense, increasing, the unit of every sink checkpoint. */
  seq: number;
  /** Stable id (hex) derived from the record bytes and its source position: the same record always gets the same id. */
  id: string;
  /** The exact BSM record (header ... trailer). A view: copy it to keep it beyond the call. */
  bytes: Buffer;
  origin: RecordOrigin;
  /** Where the record sits in its source: trail file name and byte offset, or the pipe's byte count since open. */
  sourceFile?: string;
  sourceOffset: number;
}

export interface Sink {
  /** Short unique name, used for its checkpoint and in reports (e.g. "duckdb", "ndjson", "stdout"). */
  readonly name: string;
  /**
   * The batch size the sink stores most cheaply when it is behind (e.g. DuckDB: one row group, written straight to
   * the database file instead of through the WAL). The collector uses it while the sink's lag is at least this
   * large, and its usual batch size otherwise (live, low latency).
   */
  readonly catchUpBatch?: number;
  /**
   * How many writes the collector may hand over before the first of them resolved (default 1). A sink that allows
   * more (DuckDB: 2, so it renders one batch while the previous one commits) stores them in call order, and when one
   * fails, every write handed over before that failure became known fails too, so nothing after a failed batch is
   * stored; the collector then retries from the failed batch.
   */
  readonly maxInFlight?: number;
  /** Prepares the sink (opens files, creates tables). */
  open(): Promise<void>;
  /**
   * Stores a batch. Resolves once the batch is durable in the sink (the collector then advances the sink's
   * checkpoint to the batch's last seq); rejects on failure (the collector retries later from the checkpoint).
   */
  write(batch: readonly CollectedRecord[]): Promise<void>;
  /**
   * Optional: write() of a spool RawBatch, without record objects made on the collector's thread (a sink that runs
   * on its own thread makes them there). Used when no selection filters the records; same contract as write().
   */
  writeRaw?(raw: RawBatch): Promise<void>;
  /**
   * The highest seq the sink itself knows it has stored, when it can tell (e.g. a table column). The collector
   * resumes from max(its checkpoint, lastSeq) so a crash between the sink's commit and the checkpoint write does
   * not duplicate.
   */
  lastSeq?(): Promise<number | undefined>;
  close(): Promise<void>;
}
