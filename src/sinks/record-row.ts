/**
 * CollectedRecord → one row of the store's records table (column order: store-schema.ts RECORD_COLUMNS).
 *
 * The record is decoded once; header, first subject token and first return token become typed columns, and the
 * NDJSON renderer supplies the `tokens` and `diagnostics` JSON (docs/json-format.md), so the store and
 * `bsmkit print --json` always agree on how a token looks. The renderer's bytes go into the chunk as they are
 * (no JS string per record), and every column is filled through store-columns.ts's buffers.
 */
import { DuckDBDataChunk, type DuckDBAppender, type DuckDBType } from '@duckdb/node-api';
import { decodeRecord } from '../format/decode-record.js';
import type { BsmRecord, Bytes, Return32Token, Return64Token, SubjectToken } from '../format/types.js';
import { addrText } from '../render/json/addr-text.js';
import { createJsonRenderer, type EventDescriber, type JsonRenderer } from '../render/json/index.js';
import { bsmErrno } from '../render/errno.js';
import type { CollectedRecord } from './sink.js';
import { RECORD_COLUMNS } from './store-schema.js';
import { CHUNK_ROWS, chunkVector, columnFor, setChunkSize, type AnyColumn, Int64Column, SmallIntColumn, StringColumn } from './store-columns.js';

/** Chunks between appender flushes. */
const FLUSH_CHUNKS = 8;

/** Column positions by name (store-schema.ts order). */
const C = Object.fromEntries(RECORD_COLUMNS.map(([name], i) => [name, i])) as Record<string, number>;

/** JS Date's range (the NDJSON renderer's `time: null` rule): beyond it the TIMESTAMP column is NULL. */
const MAX_MS = 8_640_000_000_000_000n;

const TOKENS_KEY = ',"tokens":[';
const DIAGS_KEY = '],"diagnostics":';
const TOKENS_KEY_BYTES = Buffer.from(TOKENS_KEY);
const DIAGS_KEY_BYTES = Buffer.from(DIAGS_KEY);

const ERRNO_NAMES: (string | null)[] = Array.from({ length: 256 }, (_, n) => bsmErrno(n).name ?? null);

/** Address text by the 4-byte address (subjects repeat a handful of terminal addresses endlessly). */
const ipv4Text = new Map<number, string>();
function addrString(a: Bytes): string {
  if (a.length !== 4) return addrText(a);
  const k = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
  let s = ipv4Text.get(k);
  if (s === undefined) {
    if (ipv4Text.size > 4096) ipv4Text.clear();
    ipv4Text.set(k, (s = addrText(a)));
  }
  return s;
}

/** Appends one row per record; keeps one NDJSON renderer so its XNU auto-detection spans records. */
export class RecordRowWriter {
  private readonly json: JsonRenderer;
  private readonly events: EventDescriber;
  private readonly eventNames = new Map<number, string | null>();
  private readonly cols: AnyColumn[] = RECORD_COLUMNS.map(([, type]) => columnFor(type));
  private readonly jsonStart = new Int32Array(CHUNK_ROWS);
  private readonly jsonEnd = new Int32Array(CHUNK_ROWS);
  private types: DuckDBType[] | undefined;
  private chunk: DuckDBDataChunk | undefined;

  constructor(events: EventDescriber) {
    this.events = events;
    this.json = createJsonRenderer({ events });
  }

  /** The `tokens` and `diagnostics` JSON texts of a decoded record. */
  jsonParts(rec: BsmRecord): { tokens: string; diagnostics: string } {
    const line = this.json.record(rec);
    // Keys cannot occur unescaped inside JSON string values, so the first `,"tokens":[` is the record's own key and
    // the last `],"diagnostics":` is the one closing its token list (diagnostics is the last field).
    const t = line.indexOf(TOKENS_KEY);
    const d = line.lastIndexOf(DIAGS_KEY);
    // The line ends with `}\n`.
    return { tokens: line.slice(t + TOKENS_KEY.length - 1, d + 1), diagnostics: line.slice(d + DIAGS_KEY.length, line.length - 2) };
  }

  /** Appends the records as DataChunks of up to CHUNK_ROWS rows. */
  appendBatch(a: DuckDBAppender, batch: readonly CollectedRecord[]): void {
    const types = (this.types ??= Array.from({ length: a.columnCount }, (_, i) => a.columnType(i)));
    if (types.length !== this.cols.length) throw new Error(`records table has ${types.length} columns, this bsmkit writes ${this.cols.length}`);
    for (let start = 0; start < batch.length; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, batch.length - start);
      // One chunk, reused: a chunk holds native memory (string data) that V8 does not see, so chunks left to the
      // garbage collector pile up far beyond the heap's own size.
      const chunk = (this.chunk ??= DuckDBDataChunk.create(types));
      chunk.reset();
      for (const c of this.cols) c.start();
      for (let row = 0; row < n; row++) this.fill(row, batch[start + row]);
      this.fillJson(n);
      setChunkSize(chunk.chunk, n);
      for (let i = 0; i < this.cols.length; i++) this.cols[i].finish(chunkVector(chunk.chunk, i), n);
      a.appendDataChunk(chunk);
      // Hand the rows to the transaction every few chunks: the appender's own buffer stays small, and DuckDB
      // writes full row groups of a large transaction to disk before commit (bounded memory whatever the batch).
      if ((start / CHUNK_ROWS) % FLUSH_CHUNKS === FLUSH_CHUNKS - 1) a.flushSync();
    }
  }

  private eventName(event: number): string | null {
    let name = this.eventNames.get(event);
    if (name === undefined) this.eventNames.set(event, (name = this.events.describe(event)?.name ?? null));
    return name;
  }

  private fill(row: number, r: CollectedRecord): void {
    const cols = this.cols;
    const rec = decodeRecord(r.bytes, r.sourceOffset);
    (cols[C.id] as StringColumn).setText(row, r.id);
    (cols[C.seq] as Int64Column).set(row, r.seq);
    (cols[C.origin] as StringColumn).setText(row, r.origin);
    (cols[C.recovered] as SmallIntColumn).set(row, r.origin === 'recovered' ? 1 : 0);
    if (r.sourceFile === undefined) (cols[C.source_file] as StringColumn).setNull(row);
    else (cols[C.source_file] as StringColumn).setText(row, r.sourceFile);
    (cols[C.source_offset] as Int64Column).set(row, r.sourceOffset);
    (cols[C.kind] as StringColumn).setText(row, rec.kind);
    (cols[C.intact] as SmallIntColumn).set(row, rec.intact ? 1 : 0);

    const h = rec.header;
    if (h === undefined) {
      for (let i = C.header_type; i <= C.host_addr; i++) cols[i].setNull(row);
    } else {
      (cols[C.header_type] as StringColumn).setText(row, h.type);
      (cols[C.header_version] as SmallIntColumn).set(row, h.version);
      (cols[C.header_size] as SmallIntColumn).set(row, h.size);
      (cols[C.event] as SmallIntColumn).set(row, h.event);
      const name = this.eventName(h.event);
      if (name === null) cols[C.event_name].setNull(row);
      else (cols[C.event_name] as StringColumn).setText(row, name);
      (cols[C.modifier] as SmallIntColumn).set(row, h.modifier);
      const time = cols[C.time] as Int64Column, sec = cols[C.time_sec] as Int64Column, msec = cols[C.time_msec] as Int64Column;
      if (typeof h.sec === 'number') {
        // header32: at most 2^32 s, so the µs count stays a safe integer.
        time.set(row, (h.sec * 1000 + (h.msec as number)) * 1000);
        sec.set(row, h.sec);
        msec.set(row, h.msec as number);
      } else {
        const ms = (h.sec as bigint) * 1000n + (h.msec as bigint);
        if (ms > MAX_MS) time.setNull(row);
        else time.setBig(row, ms * 1000n);
        sec.setBig(row, h.sec as bigint);
        msec.setBig(row, h.msec as bigint);
      }
      if (h.type === 'header32_ex' || h.type === 'header64_ex') (cols[C.host_addr] as StringColumn).setText(row, addrString(h.addr));
      else cols[C.host_addr].setNull(row);
    }

    let subj: SubjectToken | undefined;
    let ret: Return32Token | Return64Token | undefined;
    const toks = rec.tokens;
    for (let i = 1; i < toks.length; i++) {
      const t = toks[i];
      if (subj === undefined && (t.type === 'subject32' || t.type === 'subject64' || t.type === 'subject32_ex' || t.type === 'subject64_ex')) subj = t;
      else if (ret === undefined && (t.type === 'return32' || t.type === 'return64')) ret = t;
    }
    if (subj === undefined) {
      for (let i = C.auid; i <= C.terminal_addr; i++) cols[i].setNull(row);
    } else {
      (cols[C.auid] as SmallIntColumn).set(row, subj.auid);
      (cols[C.euid] as SmallIntColumn).set(row, subj.euid);
      (cols[C.egid] as SmallIntColumn).set(row, subj.egid);
      (cols[C.ruid] as SmallIntColumn).set(row, subj.ruid);
      (cols[C.rgid] as SmallIntColumn).set(row, subj.rgid);
      (cols[C.pid] as SmallIntColumn).set(row, subj.pid);
      (cols[C.sid] as SmallIntColumn).set(row, subj.sid);
      if (typeof subj.port === 'bigint') (cols[C.terminal_port] as Int64Column).setBig(row, subj.port);
      else (cols[C.terminal_port] as Int64Column).set(row, subj.port);
      (cols[C.terminal_addr] as StringColumn).setText(row, addrString(subj.addr));
    }
    if (ret === undefined) {
      for (let i = C.ret_status; i <= C.ret_value; i++) cols[i].setNull(row);
    } else {
      (cols[C.ret_status] as SmallIntColumn).set(row, ret.status);
      const errno = ERRNO_NAMES[ret.status];
      if (errno === null) cols[C.ret_errno].setNull(row);
      else (cols[C.ret_errno] as StringColumn).setText(row, errno);
      if (typeof ret.value === 'bigint') (cols[C.ret_value] as Int64Column).setBig(row, ret.value);
      else (cols[C.ret_value] as Int64Column).set(row, ret.value);
    }
    (cols[C.raw] as StringColumn).setBytes(row, r.bytes);
    // The NDJSON line goes into the renderer's buffer; fillJson cuts tokens and diagnostics out of it.
    this.jsonStart[row] = this.json.pending;
    this.json.push(rec);
    this.jsonEnd[row] = this.json.pending;
  }

  /** The `tokens` and `diagnostics` columns of the chunk's rows, as byte ranges of the rendered lines. */
  private fillJson(n: number): void {
    const buf = this.json.take();
    const tokens = this.cols[C.tokens] as StringColumn, diags = this.cols[C.diagnostics] as StringColumn;
    for (let row = 0; row < n; row++) {
      const s = this.jsonStart[row], e = this.jsonEnd[row];
      // As in jsonParts: the first tokens key is the record's own, the last diagnostics key closes the token list;
      // the line ends with `}\n`.
      const t = buf.indexOf(TOKENS_KEY_BYTES, s);
      const d = buf.lastIndexOf(DIAGS_KEY_BYTES, e - DIAGS_KEY_BYTES.length);
      tokens.setBytes(row, buf, t + TOKENS_KEY_BYTES.length - 1, d + 1);
      diags.setBytes(row, buf, d + DIAGS_KEY_BYTES.length, e - 2);
    }
  }
}
