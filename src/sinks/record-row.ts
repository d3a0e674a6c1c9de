/**
 * CollectedRecord → one row of the store's records table (column order: store-schema.ts RECORD_COLUMNS).
 *
 * The record is decoded once; header, first subject token and first return token become typed columns, and the
 * NDJSON renderer supplies the `tokens` and `diagnostics` JSON (docs/json-format.md), so the store and
 * `bsmkit print --json` always agree on how a token looks.
 */
import { DuckDBTimestampValue, type DuckDBAppender } from '@duckdb/node-api';
import { decodeRecord } from '../format/decode-record.js';
import type { BsmRecord, Return32Token, Return64Token, SubjectToken } from '../format/types.js';
import { addrText } from '../render/json/addr-text.js';
import { createJsonRenderer, type EventDescriber, type JsonRenderer } from '../render/json/index.js';
import { bsmErrno } from '../render/errno.js';
import type { CollectedRecord } from './sink.js';

/** JS Date's range (the NDJSON renderer's `time: null` rule): beyond it the TIMESTAMP column is NULL. */
const MAX_MS = 8.64e15;

const TOKENS_KEY = ',"tokens":[';
const DIAGS_KEY = '],"diagnostics":';

const ERRNO_NAMES: (string | null)[] = Array.from({ length: 256 }, (_, n) => bsmErrno(n).name ?? null);

/** Appends one row per record; keeps one NDJSON renderer so its XNU auto-detection spans records. */
export class RecordRowWriter {
  private readonly json: JsonRenderer;
  private readonly events: EventDescriber;

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

  append(a: DuckDBAppender, r: CollectedRecord): void {
    const rec = decodeRecord(r.bytes, r.sourceOffset);
    a.appendVarchar(r.id);
    a.appendBigInt(BigInt(r.seq));
    a.appendVarchar(r.origin);
    a.appendBoolean(r.origin === 'recovered');
    if (r.sourceFile === undefined) a.appendNull();
    else a.appendVarchar(r.sourceFile);
    a.appendBigInt(BigInt(r.sourceOffset));
    a.appendVarchar(rec.kind);
    a.appendBoolean(rec.intact);

    const h = rec.header;
    if (h === undefined) {
      for (let i = 0; i < 10; i++) a.appendNull();
    } else {
      a.appendVarchar(h.type);
      a.appendUTinyInt(h.version);
      a.appendUInteger(h.size);
      a.appendUSmallInt(h.event);
      const name = this.events.describe(h.event)?.name;
      if (name === undefined) a.appendNull();
      else a.appendVarchar(name);
      a.appendUSmallInt(h.modifier);
      if (typeof h.sec === 'number') {
        const ms = h.sec * 1000 + (h.msec as number);
        a.appendTimestamp(new DuckDBTimestampValue(BigInt(ms) * 1000n));
        a.appendUBigInt(BigInt(h.sec));
        a.appendUBigInt(BigInt(h.msec));
      } else {
        const ms = (h.sec as bigint) * 1000n + (h.msec as bigint);
        if (ms > BigInt(MAX_MS)) a.appendNull();
        else a.appendTimestamp(new DuckDBTimestampValue(ms * 1000n));
        a.appendUBigInt(h.sec as bigint);
        a.appendUBigInt(h.msec as bigint);
      }
      if (h.type === 'header32_ex' || h.type === 'header64_ex') a.appendVarchar(addrText(h.addr));
      else a.appendNull();
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
      for (let i = 0; i < 9; i++) a.appendNull();
    } else {
      a.appendUInteger(subj.auid);
      a.appendUInteger(subj.euid);
      a.appendUInteger(subj.egid);
      a.appendUInteger(subj.ruid);
      a.appendUInteger(subj.rgid);
      a.appendUInteger(subj.pid);
      a.appendUInteger(subj.sid);
      a.appendUBigInt(typeof subj.port === 'bigint' ? subj.port : BigInt(subj.port));
      a.appendVarchar(addrText(subj.addr));
    }
    if (ret === undefined) {
      a.appendNull();
      a.appendNull();
      a.appendNull();
    } else {
      a.appendUTinyInt(ret.status);
      const en = ERRNO_NAMES[ret.status];
      if (en === null) a.appendNull();
      else a.appendVarchar(en);
      a.appendUBigInt(typeof ret.value === 'bigint' ? ret.value : BigInt(ret.value));
    }
    const j = this.jsonParts(rec);
    a.appendVarchar(j.tokens);
    a.appendVarchar(j.diagnostics);
    a.appendBlob(r.bytes);
    a.endRow();
  }
}
