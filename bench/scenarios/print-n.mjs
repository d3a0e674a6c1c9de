// `bsmkit print -n FILE > /dev/null` without process startup: printInputs, the loop behind the print command
// (framing, the byte renderer of the text modes, batched writes), with stdout a synchronous writer to
// /dev/null as a redirected stdout is. TZ=UTC, the OpenBSM event table, as the conformance outputs.
import { openSync, writeSync, closeSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { dist } from '../dist-path.mjs';

export const description = 'printInputs(-n) FILE → /dev/null (bsmkit print -n, in-process)';

export default async function printN({ file }) {
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
  const mode = {
    kind: 'praudit',
    options: { noResolve: true, events: hostOrBuiltinEventTable('openbsm'), platform: 'linux', timeZone: 'UTC' },
  };
  const t = await printInputs([file], mode, io, { progress: false });
  closeSync(fd);
  if (t.errors > 0) throw new Error(`${t.errors} damaged records in ${file}`);
  return { bytes: t.bytes, records: t.records + t.fileTokens, outputBytes };
}
