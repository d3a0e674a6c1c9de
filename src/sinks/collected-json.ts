/**
 * One collected record as an NDJSON line: the collector's facts first (`seq`, `id`, `origin`, `sourceFile`,
 * `sourceOffset`), then the record object of docs/json-format.md. Lines start with `{"seq":N,` so the NDJSON file
 * sink can find the last stored seq from a file's last line without a JSON parser.
 */
import { decodeRecord } from '../format/decode-record.js';
import { createJsonByteRenderer, type EventDescriber, type JsonByteRenderer } from '../render/json/index.js';
import type { CollectedRecord } from './sink.js';

/** The collector's fields, up to the comma before the record object's own fields. */
function head(r: CollectedRecord): string {
  let h = '{"seq":' + r.seq + ',"id":' + JSON.stringify(r.id) + ',"origin":"' + r.origin + '"';
  if (r.sourceFile !== undefined) h += ',"sourceFile":' + JSON.stringify(r.sourceFile);
  return h + ',"sourceOffset":' + r.sourceOffset + ',';
}

export class CollectedJsonWriter {
  private readonly bytes: JsonByteRenderer;

  constructor(events: EventDescriber | undefined) {
    this.bytes = createJsonByteRenderer(events ? { events } : {});
  }

  /**
   * The lines of `records` (newlines included) in one buffer; `ends[i]` is where record i's line ends. Clean records
   * are rendered from their bytes, with no decoding (the byte renderer); the rest are decoded and rendered as
   * docs/json-format.md says, with the same bytes either way.
   */
  render(records: readonly CollectedRecord[]): { data: Buffer; ends: Uint32Array } {
    const n = records.length;
    const heads: string[] = new Array<string>(n);
    const from = new Int32Array(n);
    const to = new Int32Array(n);
    const base = this.bytes.pending;
    let headBytes = 0;
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      heads[i] = head(r);
      headBytes += Buffer.byteLength(heads[i]!);
      from[i] = this.bytes.pending - base;
      if (!this.bytes.record(r.bytes, 0, r.bytes.length, r.sourceOffset)) this.bytes.push(decodeRecord(r.bytes, r.sourceOffset));
      to[i] = this.bytes.pending - base;
    }
    const bodies = this.bytes.take().subarray(base);
    // each body's leading `{` is replaced by the head
    const data = Buffer.allocUnsafe(headBytes + bodies.length - n);
    const ends = new Uint32Array(n);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      pos += data.write(heads[i]!, pos, 'utf8');
      pos += bodies.copy(data, pos, from[i]! + 1, to[i]!);
      ends[i] = pos;
    }
    return { data, ends };
  }
}

/** The seq of a line written by CollectedJsonWriter, or undefined when the line does not start that way. */
export function seqOfLine(line: string): number | undefined {
  const m = /^\{"seq":(\d+),/.exec(line);
  return m ? Number(m[1]) : undefined;
}
