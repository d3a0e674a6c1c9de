/**
 * The source interface shared by the trail follower, the audit pipe and anything else that produces BSM records.
 *
 * A source is a pull-based async iterable of items. Records, damage (Diagnostics) and loss reports travel in the
 * same stream, in the order they were found, so a consumer that commits what it has processed can account for every
 * record: delivered, damaged (with offsets) or lost (with a reason). Every item carries the cursor to resume from
 * once everything up to and including that item has been committed downstream.
 *
 * Backpressure: a source reads only when the consumer asks for the next item and holds at most one read's worth of
 * items. Shutdown: `close()` (or the AbortSignal option) ends the iteration and resolves once files, watchers and
 * timers are released.
 */
import type { Diagnostic } from '../format/types.js';

/**
 * Where to resume. Each source defines its own shape, tagged by `source`; cursors are plain JSON values so they
 * can be persisted with `formatCursor()` and read back with the source's parser.
 */
export interface SourceCursor {
  source: string;
}

/** A framed record, byte-exact. Decode it with `decodeRecord(item.bytes, item.offset)` (format/decode-record.ts). */
export interface SourceRecord<C extends SourceCursor = SourceCursor, M = unknown> {
  type: 'record';
  /** 'record' for header…trailer; 'file-token' for a standalone file token between records. */
  kind: 'record' | 'file-token';
  /** The bytes exactly as read (a view: copy to keep it without its read buffer). */
  bytes: Buffer;
  /** Byte offset of the record in its source unit (a trail file; for a pipe, the byte count since open). */
  offset: number;
  /** Resume point after this record. */
  cursor: C;
  /** Source-specific facts about where the record came from (shared between records while unchanged). */
  meta: M;
}

/** Damage found while framing: junk skipped, an impossible size, a truncated final record. */
export interface SourceDiagnostic<C extends SourceCursor = SourceCursor, M = unknown> {
  type: 'diagnostic';
  diagnostic: Diagnostic;
  cursor: C;
  meta: M;
}

export type LossReason =
  /** A trail file (or its unread rest) was removed (auditd expire-after) before it was read. */
  | 'expired'
  /** A hole in the sequence of trail names: auditd was stopped, or files expired before they were ever seen. */
  | 'trail-gap'
  /** A file could not be opened or read (permissions, I/O error). */
  | 'unreadable'
  /** The kernel dropped records on an audit pipe (GET_DROPS delta). */
  | 'pipe-drops';

/** Records that will never be delivered, and what is known about them. */
export interface LossReport {
  reason: LossReason;
  /** One line for people: what was lost and why. */
  message: string;
  /** False when the loss is inferred and may not be one (e.g. a trail gap left by stopping auditd). */
  certain: boolean;
  /** The file concerned (trail sources). */
  file?: string;
  dir?: string;
  /** Byte offset from which the file was lost (0: all of it). */
  fromOffset?: number;
  /** Time range of the lost records, from file names (UTC). */
  start?: Date;
  end?: Date;
  /** Number of records lost, when known (pipe drops). */
  records?: number;
}

export interface SourceLoss<C extends SourceCursor = SourceCursor> {
  type: 'loss';
  loss: LossReport;
  cursor: C;
}

/** The items every source produces; `E` adds source-specific items (e.g. trail file boundaries). */
export type SourceItem<C extends SourceCursor = SourceCursor, M = unknown, E = never> =
  | SourceRecord<C, M>
  | SourceDiagnostic<C, M>
  | SourceLoss<C>
  | E;

export interface RecordSource<I extends { cursor: SourceCursor }> extends AsyncIterable<I> {
  /** Iterate once: a source is a single stream, not a collection. */
  [Symbol.asyncIterator](): AsyncIterator<I>;
  /** The cursor of the last item handed out (undefined before the first). */
  readonly cursor: I['cursor'] | undefined;
  /** Ends the iteration (a pending `next()` resolves done) and resolves once every resource is released. */
  close(): Promise<void>;
}

export interface SourceOptions {
  /** Aborting ends the iteration cleanly, like `close()`. */
  signal?: AbortSignal;
}

/** A cursor as one line of JSON (what `--cursor-file` stores). */
export function formatCursor(c: SourceCursor): string {
  return JSON.stringify(c);
}
