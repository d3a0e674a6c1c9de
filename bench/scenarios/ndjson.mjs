// Decode and render NDJSON (render/json), written to /dev/null in ~1 MiB writes: the library path under
// `bsmkit print --json`, without the CLI around it.
import { openSync, writeSync, closeSync, statSync } from 'node:fs';
import { dist } from '../dist-path.mjs';

export const description = 'readRecords() + createJsonRenderer().push/take → /dev/null';

export default async function ndjson({ file }) {
  const { readRecords } = await import(dist('format/read-file.js'));
  const { createJsonRenderer } = await import(dist('render/json/index.js'));
  const out = openSync('/dev/null', 'w');
  const r = createJsonRenderer();
  let records = 0;
  let written = 0;
  for await (const rec of readRecords(file)) {
    records++;
    r.push(rec);
    if (r.pending >= 1 << 20) written += writeSync(out, r.take());
  }
  written += writeSync(out, r.take());
  closeSync(out);
  return { bytes: statSync(file).size, records, outputBytes: written };
}
