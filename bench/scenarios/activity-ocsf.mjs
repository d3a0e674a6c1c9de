// `bsmkit activity --ocsf` without the terminal: reconstruction plus the OCSF mapper and JSON text per event.
import { createReadStream } from 'node:fs';
import { dist } from '../dist-path.mjs';

export const description = 'process reconstruction + OCSF 1007 NDJSON text (counted, not written)';

export default async function activityOcsf({ file }) {
  const { ProcessTracker } = await import(dist('activity/tracker.js'));
  const { toOcsf } = await import(dist('render/ocsf/index.js'));
  let outBytes = 0;
  const tracker = new ProcessTracker({
    onEvent(e) {
      outBytes += JSON.stringify(toOcsf(e)).length + 1;
    },
  });
  const input = tracker.input(file);
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    bytes += chunk.length;
    input.push(chunk);
  }
  input.end();
  tracker.end();
  return { bytes, records: tracker.stats.records, outBytes };
}
