/**
 * One collected record as an NDJSON line: the collector's facts first (`seq`, `id`, `origin`, `sourceFile`,
 * `sourceOffset`), then the record object of docs/json-format.md. Lines start with `{"seq":N,` so the NDJSON file
 * sink can find the last stored seq from a file's last line without a JSON parser.
 */
import { decodeRecord } from '../format/decode-record.js';
import { createJsonRenderer, type EventDescriber, type JsonRenderer } from '../render/json/index.js';
import type { CollectedRecord } from './sink.js';

export class CollectedJsonWriter {
  private readonly json: JsonRenderer;

  constructor(events: EventDescriber | undefined) {
    this.json = createJsonRenderer(events ? { events } : {});
  }

  /** The line for one record, newline included. */
  line(r: CollectedRecord): string {
    const rec = decodeRecord(r.bytes, r.sourceOffset);
    const body = this.json.record(rec);
    let head = '{"seq":' + r.seq + ',"id":' + JSON.stringify(r.id) + ',"origin":"' + r.origin + '"';
    if (r.sourceFile !== undefined) head += ',"sourceFile":' + JSON.stringify(r.sourceFile);
    head += ',"sourceOffset":' + r.sourceOffset + ',';
    // The renderer's line starts with `{`; its fields follow ours.
    return head + body.slice(1);
  }
}

/** The seq of a line written by CollectedJsonWriter, or undefined when the line does not start that way. */
export function seqOfLine(line: string): number | undefined {
  const m = /^\{"seq":(\d+),/.exec(line);
  return m ? Number(m[1]) : undefined;
}
