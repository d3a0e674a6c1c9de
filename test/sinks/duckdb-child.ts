/**
 * Child process for duckdb-sink.test.ts: `duckdb-child.ts DB BATCH.json MODE`.
 *   kill    store the batch, then SIGKILL this process (a crash after commit, before any close or checkpoint)
 *   repeat  store the batch again and again under new seqs and ids until write() rejects; print the error, exit 3
 *   hold    store the batch, print "held", keep the store open until stdin ends, then close it
 */
import { readFileSync } from 'node:fs';
import { DuckDbSink } from '../../src/sinks/duckdb-sink.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import { BsmkitError } from '../../src/errors.js';
import type { CollectedRecord } from '../../src/sinks/sink.js';

const [db, batchFile, mode] = process.argv.slice(2);
const batch: CollectedRecord[] = (JSON.parse(readFileSync(batchFile, 'utf8')) as (Omit<CollectedRecord, 'bytes'> & { bytes: string })[]).map(
  (r) => ({ ...r, bytes: Buffer.from(r.bytes, 'hex') }),
);
const sink = new DuckDbSink({ path: db, events: builtinEventTable('macos') });
await sink.open();
if (mode === 'hold') {
  await sink.write(batch);
  process.stdout.write('held\n');
  process.stdin.resume();
  await new Promise((r) => process.stdin.once('end', r));
  await sink.close();
} else if (mode === 'kill') {
  await sink.write(batch);
  process.kill(process.pid, 'SIGKILL');
} else {
  try {
    for (let round = 0; round < 200; round++) {
      await sink.write(batch.map((r, i) => ({ ...r, seq: round * batch.length + i, id: `${r.id}-${round}` })));
    }
  } catch (err) {
    process.stdout.write(err instanceof BsmkitError ? `${err.code}: ${err.message}\n` : `other: ${String(err)}\n`);
    process.exit(3);
  }
  process.stdout.write('never failed\n');
}
