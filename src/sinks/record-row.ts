/**
 * CollectedRecord → one row of the store's records table (column order: store-schema.ts RECORD_COLUMNS).
 *
 * Header, first subject token and first return token become typed columns, and the NDJSON renderer supplies the
 * `tokens` and `diagnostics` JSON (docs/json-format.md), so the store and `bsmkit print --json` always agree on how a
 * token looks. Clean records (most of them) are rendered from their bytes and their columns read from the bytes too,
 * with no token objects; the rest are decoded (decodeRecord) and rendered from the decoded record. The renderer's
 * bytes go into the chunk as they are (no JS string per record), and every column is filled through
 * store-columns.ts's buffers.
 */
import { DuckDBDataChunk, type DuckDBAppender, type DuckDBType } from '@duckdb/node-api';
import { decodeRecord } from '../format/decode-record.js';
import type { BsmRecord, Bytes, Return32Token, Return64Token, SubjectToken } from '../format/types.js';
import { addrText } from '../render/json/addr-text.js';
import { createJsonByteRenderer, type EventDescriber, type JsonByteRenderer } from '../render/json/index.js';
import { tokenEnd } from '../format/token-index.js';
import { bsmErrno } from '../render/errno.js';
import type { CollectedRecord, RecordOrigin } from './sink.js';
import { NO_SOURCE, ORIGINS, type RawBatch } from '../spool/raw-batch.js';
import { RECORD_COLUMNS } from './store-schema.js';
import { CHUNK_ROWS, chunkVector, columnFor, setChunkSize, type AnyColumn, Int64Column, SmallIntColumn, StringColumn } from './store-columns.js';

/** Chunks between appender flushes. */
const FLUSH_CHUNKS = 8;

const newColumns = (): AnyColumn[] => RECORD_COLUMNS.map(([, type]) => columnFor(type));

/** Column positions by name (store-schema.ts order). */
const C = Object.fromEntries(RECORD_COLUMNS.map(([name], i) => [name, i])) as Record<string, number>;

/** JS Date's range (the NDJSON renderer's `time: null` rule): beyond it the TIMESTAMP column is NULL. */
const MAX_MS = 8_640_000_000_000_000n;

const TOKENS_KEY_BYTES = Buffer.from(',"tokens":[');
const DIAGS_KEY_BYTES = Buffer.from('],"diagnostics":');

const ERRNO_NAMES: (string | null)[] = Array.from({ length: 256 }, (_, n) => bsmErrno(n).name ?? null);

/** Address text by the 4-byte address (subjects repeat a handful of terminal addresses endlessly). */
const ipv4Text = new Map<number, string>();
function addrString(a: Bytes): string {
  return a.length === 4 ? addrAt(a, 0, 4) : addrText(a);
}
/** Text of the `len`-byte address at b[p]. */
function addrAt(b: Buffer, p: number, len: number): string {
  if (len !== 4) return addrText(b.subarray(p, p + len));
  const k = b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  let s = ipv4Text.get(k);
  if (s === undefined) {
    if (ipv4Text.size > 4096) ipv4Text.clear();
    ipv4Text.set(k, (s = addrText(b.subarray(p, p + 4))));
  }
  return s;
}

// Big-endian reads from the record's bytes (plain byte arithmetic: cheaper here than DataView calls).
const u16 = (b: Buffer, p: number): number => (b[p] << 8) | b[p + 1];
const u32 = (b: Buffer, p: number): number => b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);

/** Header token ids and their type names. */
const HEADER_TYPES: Record<number, string> = { 0x14: 'header32', 0x15: 'header32_ex', 0x74: 'header64', 0x79: 'header64_ex' };
const TRAILER_LEN = 7;

type FillRow = (row: number, index: number) => void;

/**
 * A batch's rows on their way into the table: the first chunks already rendered into column buffers (prepare*()'s
 * `prefill`), the rest filled by append(). Rendering is most of the JS work per row, and it needs no database: the
 * DuckDB sink does it for the next batch while the previous one commits.
 */
export class PreparedRows {
  /** @internal */
  constructor(
    readonly chunks: { cols: AnyColumn[]; n: number }[],
    /** Rows in `chunks`. */
    readonly filled: number,
    readonly total: number,
    readonly fillRow: FillRow,
  ) {}
}

/** Appends one row per record; keeps one NDJSON renderer so its XNU auto-detection spans records. */
export class RecordRowWriter {
  private readonly json: JsonByteRenderer;
  private readonly events: EventDescriber;
  private readonly eventNames = new Map<number, string | null>();
  /** The column buffers being filled (one set per chunk in flight; spare sets are reused). */
  private cols: AnyColumn[] = newColumns();
  private readonly spare: AnyColumn[][] = [this.cols];
  private readonly jsonStart = new Int32Array(CHUNK_ROWS);
  private readonly jsonEnd = new Int32Array(CHUNK_ROWS);
  private types: DuckDBType[] | undefined;
  private chunk: DuckDBDataChunk | undefined;

  constructor(events: EventDescriber) {
    this.events = events;
    this.json = createJsonByteRenderer({ events });
  }

  /** Appends the records as DataChunks of up to CHUNK_ROWS rows. */
  appendBatch(a: DuckDBAppender, batch: readonly CollectedRecord[]): void {
    this.append(a, this.prepareBatch(batch, 0));
  }

  /** The records' rows, the first `prefill` (rounded up to whole chunks) rendered now, the rest by append(). */
  prepareBatch(batch: readonly CollectedRecord[], prefill: number): PreparedRows {
    return this.prepare(batch.length, prefill, (row, i) => {
      const r = batch[i];
      this.fill(row, r.bytes, r.seq, r.id, r.origin, r.sourceFile, r.sourceOffset);
    });
  }

  /**
   * The rows of the records `pick` of a spool batch with their `ids`, straight from its arrays (no record objects:
   * the collector's catch-up batches are a row group large); the first `prefill` rendered now.
   */
  prepareRaw(raw: RawBatch, pick: Int32Array, ids: readonly string[], prefill: number): PreparedRows {
    const data = Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
    const starts = new Float64Array(raw.count);
    for (let i = 1; i < raw.count; i++) starts[i] = starts[i - 1] + raw.lens[i - 1];
    return this.prepare(pick.length, prefill, (row, k) => {
      const i = pick[k], f = raw.files[i], start = starts[i];
      this.fill(row, data.subarray(start, start + raw.lens[i]), raw.firstSeq + i, ids[k], ORIGINS[raw.origins[i]] ?? 'trail', f === NO_SOURCE ? undefined : raw.sourceNames[f], raw.srcOffs[i]);
    });
  }

  /** Appends prepared rows: the rendered chunks, then the rest chunk by chunk. Rows are appended once only. */
  append(a: DuckDBAppender, rows: PreparedRows): void {
    const types = (this.types ??= Array.from({ length: a.columnCount }, (_, i) => a.columnType(i)));
    if (types.length !== RECORD_COLUMNS.length) throw new Error(`records table has ${types.length} columns, this bsmkit writes ${RECORD_COLUMNS.length}`);
    // One chunk, reused: a chunk holds native memory (string data) that V8 does not see, so chunks left to the
    // garbage collector pile up far beyond the heap's own size.
    const chunk = (this.chunk ??= DuckDBDataChunk.create(types));
    let k = 0;
    const put = (cols: AnyColumn[], n: number): void => {
      chunk.reset();
      setChunkSize(chunk.chunk, n);
      for (let i = 0; i < cols.length; i++) cols[i].finish(chunkVector(chunk.chunk, i), n);
      this.spare.push(cols);
      a.appendDataChunk(chunk);
      // Hand the rows to the transaction every few chunks: the appender's own buffer stays small, and DuckDB
      // writes full row groups of a large transaction to disk before commit (bounded memory whatever the batch).
      if (++k % FLUSH_CHUNKS === 0) a.flushSync();
    };
    const ready = rows.chunks.splice(0);
    for (const c of ready) put(c.cols, c.n);
    for (let start = rows.filled; start < rows.total; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows.total - start);
      put(this.fillChunk(start, n, rows.fillRow), n);
    }
  }

  private prepare(total: number, prefill: number, fillRow: FillRow): PreparedRows {
    const chunks: { cols: AnyColumn[]; n: number }[] = [];
    let start = 0;
    for (; start < total && start < prefill; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, total - start);
      chunks.push({ cols: this.fillChunk(start, n, fillRow), n });
    }
    return new PreparedRows(chunks, Math.min(start, total), total, fillRow);
  }

  /** Renders rows [start, start + n) into a set of column buffers (taken from the spares). */
  private fillChunk(start: number, n: number, fillRow: FillRow): AnyColumn[] {
    const cols = (this.cols = this.spare.pop() ?? newColumns());
    for (const c of cols) c.start();
    for (let row = 0; row < n; row++) fillRow(row, start + row);
    this.fillJson(n);
    return cols;
  }

  private eventName(event: number): string | null {
    let name = this.eventNames.get(event);
    if (name === undefined) this.eventNames.set(event, (name = this.events.describe(event)?.name ?? null));
    return name;
  }

  private fill(row: number, b: Buffer, seq: number, id: string, origin: RecordOrigin, sourceFile: string | undefined, sourceOffset: number): void {
    const cols = this.cols;
    (cols[C.id] as StringColumn).setText(row, id);
    (cols[C.seq] as Int64Column).set(row, seq);
    (cols[C.origin] as StringColumn).setText(row, origin);
    (cols[C.recovered] as SmallIntColumn).set(row, origin === 'recovered' ? 1 : 0);
    if (sourceFile === undefined) (cols[C.source_file] as StringColumn).setNull(row);
    else (cols[C.source_file] as StringColumn).setText(row, sourceFile);
    (cols[C.source_offset] as Int64Column).set(row, sourceOffset);
    (cols[C.raw] as StringColumn).setBytes(row, b);
    // The NDJSON line goes into the renderer's buffer; fillJson cuts tokens and diagnostics out of it.
    this.jsonStart[row] = this.json.pending;
    if (this.json.record(b, 0, b.length, sourceOffset)) this.fillClean(row, b);
    else {
      const rec = decodeRecord(b, sourceOffset);
      this.fillDecoded(row, rec);
      this.json.push(rec);
    }
    this.jsonEnd[row] = this.json.pending;
  }

  /**
   * The columns of a clean record (the byte renderer took it: known tokens, exact length, valid trailer), read from
   * its bytes. Field positions as in decode-token.ts; values equal fillDecoded's (test: field by field).
   */
  private fillClean(row: number, b: Buffer): void {
    const cols = this.cols;
    (cols[C.kind] as StringColumn).setText(row, 'record');
    (cols[C.intact] as SmallIntColumn).set(row, 1);
    const id = b[0];
    (cols[C.header_type] as StringColumn).setText(row, HEADER_TYPES[id]);
    (cols[C.header_version] as SmallIntColumn).set(row, b[5]);
    (cols[C.header_size] as SmallIntColumn).set(row, u32(b, 1));
    const event = u16(b, 6);
    (cols[C.event] as SmallIntColumn).set(row, event);
    const name = this.eventName(event);
    if (name === null) cols[C.event_name].setNull(row);
    else (cols[C.event_name] as StringColumn).setText(row, name);
    (cols[C.modifier] as SmallIntColumn).set(row, u16(b, 8));
    let t = 10;
    const host = cols[C.host_addr] as StringColumn;
    if (id === 0x15 || id === 0x79) {
      const at = u32(b, 10);
      host.setText(row, addrAt(b, 14, at));
      t = 14 + at;
    } else host.setNull(row);
    const time = cols[C.time] as Int64Column, sec = cols[C.time_sec] as Int64Column, msec = cols[C.time_msec] as Int64Column;
    let hdrEnd: number;
    if (id === 0x14 || id === 0x15) {
      const s = u32(b, t), ms = u32(b, t + 4);
      time.set(row, (s * 1000 + ms) * 1000);
      sec.set(row, s);
      msec.set(row, ms);
      hdrEnd = t + 8;
    } else {
      const sHi = u32(b, t), sLo = u32(b, t + 4), mHi = u32(b, t + 8), mLo = u32(b, t + 12);
      sec.setHalves(row, sHi, sLo);
      msec.setHalves(row, mHi, mLo);
      if (sHi === 0 && mHi === 0) time.set(row, (sLo * 1000 + mLo) * 1000);
      else {
        const ms = (BigInt(sHi) * 4294967296n + BigInt(sLo)) * 1000n + BigInt(mHi) * 4294967296n + BigInt(mLo);
        if (ms > MAX_MS) time.setNull(row);
        else time.setBig(row, ms * 1000n);
      }
      hdrEnd = t + 16;
    }

    let subj = -1, ret = -1;
    const limit = b.length - TRAILER_LEN;
    for (let off = hdrEnd; off < limit && (subj < 0 || ret < 0); ) {
      const tid = b[off];
      if (subj < 0 && (tid === 0x24 || tid === 0x75 || tid === 0x7a || tid === 0x7c)) subj = off;
      else if (ret < 0 && (tid === 0x27 || tid === 0x72)) ret = off;
      const e = tokenEnd(b, off, limit);
      if (e <= off) break;
      off = e;
    }
    if (subj < 0) {
      for (let i = C.auid; i <= C.terminal_addr; i++) cols[i].setNull(row);
    } else {
      const p = subj + 1, sid = b[subj];
      (cols[C.auid] as SmallIntColumn).set(row, u32(b, p));
      (cols[C.euid] as SmallIntColumn).set(row, u32(b, p + 4));
      (cols[C.egid] as SmallIntColumn).set(row, u32(b, p + 8));
      (cols[C.ruid] as SmallIntColumn).set(row, u32(b, p + 12));
      (cols[C.rgid] as SmallIntColumn).set(row, u32(b, p + 16));
      (cols[C.pid] as SmallIntColumn).set(row, u32(b, p + 20));
      (cols[C.sid] as SmallIntColumn).set(row, u32(b, p + 24));
      const wide = sid === 0x75 || sid === 0x7c;
      const port = cols[C.terminal_port] as Int64Column;
      if (wide) port.setHalves(row, u32(b, p + 28), u32(b, p + 32));
      else port.set(row, u32(b, p + 28));
      let q = p + (wide ? 36 : 32);
      let at = 4;
      if (sid === 0x7a || sid === 0x7c) {
        at = u32(b, q);
        q += 4;
      }
      (cols[C.terminal_addr] as StringColumn).setText(row, addrAt(b, q, at));
    }
    if (ret < 0) {
      for (let i = C.ret_status; i <= C.ret_value; i++) cols[i].setNull(row);
    } else {
      const status = b[ret + 1];
      (cols[C.ret_status] as SmallIntColumn).set(row, status);
      const errno = ERRNO_NAMES[status];
      if (errno === null) cols[C.ret_errno].setNull(row);
      else (cols[C.ret_errno] as StringColumn).setText(row, errno);
      const value = cols[C.ret_value] as Int64Column;
      if (b[ret] === 0x72) value.setHalves(row, u32(b, ret + 2), u32(b, ret + 6));
      else value.set(row, u32(b, ret + 2));
    }
  }

  /** The columns of a record that needed the decoder (damaged, unusual tokens, standalone file token). */
  private fillDecoded(row: number, rec: BsmRecord): void {
    const cols = this.cols;
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
