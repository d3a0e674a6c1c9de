// The durable spool's append path as the collector's pipe mode uses it: Spool.appendBatch() of the drain thread's
// batches (256 records back to back, with their ends and offsets), a flush() (write of the records and their index
// entries) every 16 batches. The trail's records are framed and batched before the clock starts; the spool is on
// /dev/shm when it exists, so the figure is the spool's CPU cost, not the disk's. records/s counts records appended.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from '../dist-path.mjs';

export const description = 'Spool.appendBatch() of 256-record batches of the trail, flushed every 16 batches (spool on tmpfs)';

const PER_BATCH = 256;

export default async function spoolAppend({ file }) {
  const { Spool } = await import(dist('spool/spool.js'));
  const { Framer } = await import(dist('format/framer.js'));
  const records = [];
  const framer = new Framer({ record: (b) => void records.push(b), diagnostic() {} });
  framer.push(readFileSync(file));
  framer.end();
  const batches = [];
  let offset = 0;
  for (let i = 0; i + PER_BATCH <= records.length; i += PER_BATCH) {
    const parts = records.slice(i, i + PER_BATCH);
    const ends = new Uint32Array(PER_BATCH);
    const offs = new Float64Array(PER_BATCH);
    let end = 0;
    parts.forEach((p, j) => {
      end += p.length;
      ends[j] = end;
      offs[j] = offset;
      offset += p.length;
    });
    batches.push({ data: Buffer.concat(parts), ends, offs });
  }
  records.length = 0;
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bsmkit-bench-spool-'));
  try {
    const spool = Spool.open({ dir, maxBytes: 64 << 30 });
    let n = 0;
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i];
      spool.appendBatch(b.data, b.ends, b.offs, 'pipe', 'pipe:bench');
      n += PER_BATCH;
      bytes += b.data.length;
      if (i % 16 === 15) spool.flush();
    }
    spool.flush();
    const secs = (performance.now() - t0) / 1000;
    spool.close();
    return { bytes, records: n, timedRecordsPerSec: Math.round(n / secs) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
