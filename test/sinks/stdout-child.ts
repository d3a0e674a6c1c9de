/**
 * Child process for stdout-sink.test.ts: `stdout-child.ts FORMAT` prints realistic.bsm through a StdoutSink on its
 * real stdout, round after round, until a write rejects (the reader went away); then closes the sink and reports
 * on stderr. An uncaught stream error would end it with a stack trace and status 1 instead.
 */
import { StdoutSink } from '../../src/sinks/stdout-sink.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import { BsmkitError } from '../../src/errors.js';
import { collectedFrom, REALISTIC } from './helpers.js';

const recs = collectedFrom(REALISTIC);
const sink = new StdoutSink({ format: process.argv[2] as 'json' | 'praudit', events: builtinEventTable('macos'), praudit: { xml: process.argv[3] === 'xml' } });
await sink.open();
let rejected = 'never';
for (let round = 0; round < 200 && rejected === 'never'; round++) {
  await sink.write(recs).catch((err: unknown) => {
    rejected = err instanceof BsmkitError ? `${err.code}: ${err.message}` : `other: ${String(err)}`;
  });
}
process.stderr.write(`rejected ${rejected}\n`);
await sink.close();
process.stderr.write('closed\n');
