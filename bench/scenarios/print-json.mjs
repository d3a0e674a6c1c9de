// `bsmkit print --json FILE > /dev/null` without process startup: printInputs, the loop behind the print command
// (framing, the NDJSON byte renderer with its decoded fallback, batched writes), with stdout a synchronous writer
// to /dev/null as a redirected stdout is. The OpenBSM event table, as the CLI passes it (eventName/eventDesc).
import { openSync, writeSync, closeSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { dist } from '../dist-path.mjs';

export const description = 'printInputs(--json) FILE → /dev/null (bsmkit print --json, in-process)';

export default async function printJson({ file }) {
  const { printInputs } = await import(dist('cli/print-inputs.js'));
  const { hostOrBuiltinEventTable } = await import(dist('catalog/event-table.js'));
  const fd = openSync('/dev/null', 'w');
  let outputBytes = 0;
  const sink = () =>
    new Writable({
      write(chunk, _enc, cb) {
        outputBytes += writeSync(fd, chunk);
        cb();
      },
    });
  const io = { stdin: Readable.from([]), stdout: sink(), stderr: sink(), env: { TZ: 'UTC' }, cwd: process.cwd() };
  const mode = { kind: 'json', options: { events: hostOrBuiltinEventTable('openbsm') } };
  const t = await printInputs([file], mode, io, { progress: false });
  closeSync(fd);
  if (t.errors > 0) throw new Error(`${t.errors} damaged records in ${file}`);
  return { bytes: t.bytes, records: t.records + t.fileTokens, outputBytes };
}
