/**
 * Child process for ndjson-file-sink.test.ts: `ndjson-child.ts DIR BATCH.json MODE MAXBYTES`.
 *   kill    store the records in batches of 50, then SIGKILL this process (a crash: the sink never closed)
 *   repeat  store them again and again, round after round under new seqs, until write() rejects; print the error
 *           and the seq range of the failed batch, exit 3
 */
import { readFileSync } from 'node:fs';
import { NdjsonFileSink } from '../../src/sinks/ndjson-file-sink.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import { BsmkitError } from '../../src/errors.js';
import type { CollectedRecord } from '../../src/sinks/sink.js';

const [dir, batchFile, mode, maxBytes] = process.argv.slice(2);
const recs: CollectedRecord[] = (JSON.parse(readFileSync(batchFile, 'utf8')) as (Omit<CollectedRecord, 'bytes'> & { bytes: string })[]).map(
  (r) => ({ ...r, bytes: Buffer.from(r.bytes, 'hex') }),
);
const sink = new NdjsonFileSink({ dir, events: builtinEventTable('macos'), maxBytes: Number(maxBytes) });
await sink.open();
if (mode === 'kill') {
  for (let i = 0; i < recs.length; i += 50) await sink.write(recs.slice(i, i + 50));
  process.kill(process.pid, 'SIGKILL');
} else {
  for (let round = 0; round < 1000; round++) {
    for (let i = 0; i < recs.length; i += 50) {
      const batch = recs.slice(i, i + 50).map((r, k) => ({ ...r, seq: round * recs.length + i + k }));
      try {
        await sink.write(batch);
      } catch (err) {
        process.stdout.write(`${batch[0].seq} ${batch[batch.length - 1].seq} ${err instanceof BsmkitError ? err.code : 'other'}: ${(err as Error).message}\n`);
        process.exit(3);
      }
    }
  }
  process.stdout.write('never failed\n');
}
