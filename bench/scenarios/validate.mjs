// Frame and check every record without decoding it (format/validate.ts): the library path under
// `bsmkit print --validate`.
import { statSync } from 'node:fs';
import { dist } from '../dist-path.mjs';

export const description = 'validateFile(): framer range sink + in-place token check, decode only damaged records';

export default async function validate({ file }) {
  const { validateFile } = await import(dist('format/validate.js'));
  let diagnostics = 0;
  const c = await validateFile(file, () => diagnostics++);
  return { bytes: statSync(file).size, records: c.records, intact: c.intact, diagnostics };
}
