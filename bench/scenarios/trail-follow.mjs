// Trail follower throughput while auditd writes: a worker thread appends the benchmark trail as fast as it can,
// in 1 MiB writes (so the follower often meets half a record at EOF), rotating at the first record boundary past
// every 16 MiB (new file, rename START.END, re-link `current`, as auditd does). The follower (fs.watch, defaults)
// delivers every record; the scenario ends when the last file has been read to its end. Compare with io-floor.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { dist } from '../dist-path.mjs';

export const description = 'follow a trail being written (1 MiB writes, rotation every 16 MiB): every record delivered';

const ROTATE_AT = 16 << 20;
const CHUNK = 1 << 20;

/** Record boundaries at which to rotate: the first one at or past every ROTATE_AT bytes. */
function rotationPoints(buf) {
  const cuts = [];
  let p = 0;
  let next = ROTATE_AT;
  while (p + 5 <= buf.length) {
    const size = buf[p] === 0x11 ? 11 + buf.readUInt16BE(p + 9) : buf.readUInt32BE(p + 1);
    if (size < 11) throw new Error(`benchmark trail is not clean at offset ${p}`);
    p += size;
    if (p >= next && p < buf.length) {
      cuts.push(p);
      next = p + ROTATE_AT;
    }
  }
  return cuts;
}

const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
const { openSync, writeSync, closeSync, renameSync, symlinkSync, unlinkSync } = require('node:fs');
const { join } = require('node:path');
const { dir, buf, cuts, chunk, startMs } = workerData;
const ts = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
let clock = startMs;
let start = ts(clock);
let fd = openSync(join(dir, start + '.not_terminated'), 'a');
symlinkSync(join(dir, start + '.not_terminated'), join(dir, 'current'));
const ends = [...cuts, buf.length];
let p = 0;
for (let f = 0; f < ends.length; f++) {
  const end = ends[f];
  while (p < end) p += writeSync(fd, buf, p, Math.min(chunk, end - p));
  clock += 1000;
  const next = ts(clock);
  closeSync(fd);
  if (f < ends.length - 1) fd = openSync(join(dir, next + '.not_terminated'), 'a');
  renameSync(join(dir, start + '.not_terminated'), join(dir, start + '.' + next));
  unlinkSync(join(dir, 'current'));
  if (f < ends.length - 1) symlinkSync(join(dir, next + '.not_terminated'), join(dir, 'current'));
  else parentPort.postMessage({ last: start + '.' + next });
  start = next;
}
`;

export default async function trailFollow({ file }) {
  const { followTrail } = await import(dist('sources/trail/follow.js'));
  const buf = readFileSync(file);
  const cuts = rotationPoints(buf);
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-bench-follow-'));
  const follower = followTrail({ dirs: [dir], from: 'start' });
  let last;
  const worker = new Worker(WRITER, { eval: true, workerData: { dir, buf, cuts, chunk: CHUNK, startMs: Date.UTC(2026, 0, 1) } });
  worker.on('message', (m) => (last = m.last));
  let records = 0;
  let bytes = 0;
  let files = 0;
  try {
    for await (const it of follower) {
      if (it.type === 'record') {
        records++;
        bytes += it.bytes.length;
      } else if (it.type === 'file' && it.phase === 'end') {
        files++;
        if (it.meta.file === last) break;
      } else if (it.type === 'diagnostic' || it.type === 'loss') {
        throw new Error(`unexpected ${it.type}: ${JSON.stringify(it.diagnostic ?? it.loss)}`);
      }
    }
  } finally {
    await follower.close();
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
  if (files !== cuts.length + 1) throw new Error(`read ${files} files of ${cuts.length + 1}`);
  return { bytes, records, files };
}
