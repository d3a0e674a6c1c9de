/**
 * CollectedRecord → one row of the store's records table (column order: store-schema.ts RECORD_COLUMNS).
 *
 * The record is decoded once; header, first subject token and first return token become typed columns, and the
 * NDJSON renderer supplies the `tokens` and `diagnostics` JSON (docs/json-format.md), so the store and
 * `bsmkit print --json` always agree on how a token looks.
 */
import { DuckDBBlobValue, DuckDBDataChunk, DuckDBTimestampValue, type DuckDBAppender, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { decodeRecord } from '../format/decode-record.js';
import type { BsmRecord, Return32Token, Return64Token, SubjectToken } from '../format/types.js';
import { addrText } from '../render/json/addr-text.js';
import { createJsonRenderer, type EventDescriber, type JsonRenderer } from '../render/json/index.js';
import { bsmErrno } from '../render/errno.js';
import type { CollectedRecord } from './sink.js';
import { RECORD_COLUMNS } from './store-schema.js';

/** DuckDB's vector size: the most rows a DataChunk holds. */
const VECTOR_SIZE = 2048;
/** Chunks between appender flushes. */
const FLUSH_CHUNKS = 8;

/** A column vector as this writer uses it: each column gets values of its own type (checked by the vector). */
interface Vec {
  setItem(row: number, value: DuckDBValue | null): void;
  flush(): void;
}

/** Column positions by name (store-schema.ts order). */
const C = Object.fromEntries(RECORD_COLUMNS.map(([name], i) => [name, i])) as Record<string, number>;

/** JS Date's range (the NDJSON renderer's `time: null` rule): beyond it the TIMESTAMP column is NULL. */
const MAX_MS = 8_640_000_000_000_000n;

const TOKENS_KEY = ',"tokens":[';
const DIAGS_KEY = '],"diagnostics":';

const ERRNO_NAMES: (string | null)[] = Array.from({ length: 256 }, (_, n) => bsmErrno(n).name ?? null);

/** Appends one row per record; keeps one NDJSON renderer so its XNU auto-detection spans records. */
export class RecordRowWriter {
  private readonly json: JsonRenderer;
  private readonly events: EventDescriber;
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

  /**
   * Appends the records as DataChunks of up to VECTOR_SIZE rows. Column vectors are filled in JS and handed over
   * whole: fixed-width columns cost one copy per chunk instead of one native call per value (bench: sink-duckdb).
   */
  appendBatch(a: DuckDBAppender, batch: readonly CollectedRecord[]): void {
    const types = (this.types ??= Array.from({ length: a.columnCount }, (_, i) => a.columnType(i)));
    for (let start = 0; start < batch.length; start += VECTOR_SIZE) {
      const n = Math.min(VECTOR_SIZE, batch.length - start);
      // One chunk, reused: a chunk holds native memory (string data) that V8 does not see, so chunks left to the
      // garbage collector pile up far beyond the heap's own size.
      const chunk = (this.chunk ??= DuckDBDataChunk.create(types));
      chunk.reset();
      chunk.rowCount = n;
      const v: Vec[] = types.map((_, i) => chunk.getColumnVector(i) as Vec);
      for (let row = 0; row < n; row++) this.fill(v, row, batch[start + row]);
      for (const vec of v) vec.flush();
      a.appendDataChunk(chunk);
      // Hand the rows to the transaction every few chunks: the appender's own buffer stays small, and DuckDB
      // writes full row groups of a large transaction to disk before commit (bounded memory whatever the batch).
      if ((start / VECTOR_SIZE) % FLUSH_CHUNKS === FLUSH_CHUNKS - 1) a.flushSync();
    }
  }

  private fill(v: Vec[], row: number, r: CollectedRecord): void {
    const rec = decodeRecord(r.bytes, r.sourceOffset);
    v[C.id].setItem(row, r.id);
    v[C.seq].setItem(row, BigInt(r.seq));
    v[C.origin].setItem(row, r.origin);
    v[C.recovered].setItem(row, r.origin === 'recovered');
    v[C.source_file].setItem(row, r.sourceFile ?? null);
    v[C.source_offset].setItem(row, BigInt(r.sourceOffset));
    v[C.kind].setItem(row, rec.kind);
    v[C.intact].setItem(row, rec.intact);

    const h = rec.header;
    if (h === undefined) {
      for (let i = C.header_type; i <= C.host_addr; i++) v[i].setItem(row, null);
    } else {
      v[C.header_type].setItem(row, h.type);
      v[C.header_version].setItem(row, h.version);
      v[C.header_size].setItem(row, h.size);
      v[C.event].setItem(row, h.event);
      v[C.event_name].setItem(row, this.events.describe(h.event)?.name ?? null);
      v[C.modifier].setItem(row, h.modifier);
      let ms: bigint;
      if (typeof h.sec === 'number') {
        ms = BigInt(h.sec * 1000 + (h.msec as number));
        v[C.time_sec].setItem(row, BigInt(h.sec));
        v[C.time_msec].setItem(row, BigInt(h.msec));
      } else {
        ms = (h.sec as bigint) * 1000n + (h.msec as bigint);
        v[C.time_sec].setItem(row, h.sec);
        v[C.time_msec].setItem(row, h.msec);
      }
      v[C.time].setItem(row, ms > MAX_MS ? null : new DuckDBTimestampValue(ms * 1000n));
      v[C.host_addr].setItem(row, h.type === 'header32_ex' || h.type === 'header64_ex' ? addrText(h.addr) : null);
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
      for (let i = C.auid; i <= C.terminal_addr; i++) v[i].setItem(row, null);
    } else {
      v[C.auid].setItem(row, subj.auid);
      v[C.euid].setItem(row, subj.euid);
      v[C.egid].setItem(row, subj.egid);
      v[C.ruid].setItem(row, subj.ruid);
      v[C.rgid].setItem(row, subj.rgid);
      v[C.pid].setItem(row, subj.pid);
      v[C.sid].setItem(row, subj.sid);
      v[C.terminal_port].setItem(row, typeof subj.port === 'bigint' ? subj.port : BigInt(subj.port));
      v[C.terminal_addr].setItem(row, addrText(subj.addr));
    }
    if (ret === undefined) {
      for (let i = C.ret_status; i <= C.ret_value; i++) v[i].setItem(row, null);
    } else {
      v[C.ret_status].setItem(row, ret.status);
      v[C.ret_errno].setItem(row, ERRNO_NAMES[ret.status]);
      v[C.ret_value].setItem(row, typeof ret.value === 'bigint' ? ret.value : BigInt(ret.value));
    }
    const j = this.jsonParts(rec);
    v[C.tokens].setItem(row, j.tokens);
    v[C.diagnostics].setItem(row, j.diagnostics);
    v[C.raw].setItem(row, new DuckDBBlobValue(r.bytes));
  }
}
