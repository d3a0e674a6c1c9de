// Frame and decode every record (format/read-file.ts readRecords), output nothing: the decoder's own cost.
import { dist } from '../dist-path.mjs';

export const description = 'readRecords(): frame + decode every token, no output';

export default async function decode({ file }) {
  const { readRecords } = await import(dist('format/read-file.js'));
  let records = 0;
  let bytes = 0;
  let diagnostics = 0;
  for await (const rec of readRecords(file, () => diagnostics++)) {
    records++;
    bytes += rec.bytes.length;
    diagnostics += rec.diagnostics.length;
  }
  return { bytes, records, diagnostics };
}
