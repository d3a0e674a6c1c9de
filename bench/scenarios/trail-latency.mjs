// Trail follower latency: how long after auditd's write(2) of a record the follower delivers it, at a moderate,
// steady load with rotations (the target: under 50 ms). A worker thread plays the kernel and auditd: it
// appends real records from the benchmark trail one write per record (as the kernel's audit_record_write does),
// in small bursts every few milliseconds, and rotates the trail once a second (create new file, rename the old one
// START.END, re-link `current`). It stamps each record's write time in shared memory; the follower (fs.watch
// notifications, the default poll interval) stamps delivery. Records are delivered in write order, so the k-th
// record delivered is the k-th written.
//
// Extra figures: latencyP50Ms, latencyP90Ms, latencyP99Ms, latencyMaxMs, ratePerSec (records written per second),
// loopDelayP99Ms/loopDelayMaxMs (how late this process's event loop ran: on a busy machine, the share of the
// latency that is waiting for a CPU rather than the follower).
// Environment: BENCH_TRAIL_RATE (records/s, default 5000), BENCH_TRAIL_SECONDS (default 4).
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { dist } from '../dist-path.mjs';

export const description = 'write-to-delivery latency of the trail follower at a moderate load with rotations';

const RATE = Number(process.env.BENCH_TRAIL_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_TRAIL_SECONDS ?? 4);

/** Offsets and sizes of the first records of a clean trail (header size field; a file token has its own). */
export function frameRecords(buf, max) {
  const out = [];
  let p = 0;
  while (p + 5 <= buf.length && out.length < max) {
    const id = buf[p];
    const size = id === 0x11 ? 11 + buf.readUInt16BE(p + 9) : buf.readUInt32BE(p + 1);
    if (size < 11 || p + size > buf.length) break;
    if (id !== 0x11) out.push([p, size]);
    p += size;
  }
  return out;
}

/** The first `n` bytes of a file (fewer if it is shorter). */
export function readHead(file, n) {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.allocUnsafe(n);
    let got = 0;
    for (let r; got < n && (r = readSync(fd, b, got, n - got, got)) > 0; ) got += r;
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

// The writer thread: auditd's file handling (kernel-audit-pipe.md §13.2) plus paced record writes.
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
const { openSync, writeSync, closeSync, renameSync, symlinkSync, unlinkSync } = require('node:fs');
const { join } = require('node:path');
const { dir, records, stamps, rate, seconds, startMs } = workerData;
const ts = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
let clock = startMs;
let start = ts(clock);
let fd = openSync(join(dir, start + '.not_terminated'), 'a');
symlinkSync(join(dir, start + '.not_terminated'), join(dir, 'current'));
const t0 = performance.now();
const total = Math.round(rate * seconds);
const burst = Math.max(1, Math.round(rate / 500)); // a burst every 2 ms
let n = 0;
let nextRotate = 1000;
function step() {
  const now = performance.now() - t0;
  if (now >= nextRotate) {
    nextRotate += 1000;
    clock += 1000;
    const next = ts(clock);
    const nfd = openSync(join(dir, next + '.not_terminated'), 'a');
    const old = fd;
    fd = nfd; // auditctl(): from here on records go to the new file
    closeSync(old);
    renameSync(join(dir, start + '.not_terminated'), join(dir, start + '.' + next));
    unlinkSync(join(dir, 'current'));
    symlinkSync(join(dir, next + '.not_terminated'), join(dir, 'current'));
    start = next;
  }
  const due = Math.min(total, Math.floor((now / 1000) * rate) + burst);
  while (n < due) {
    const r = records[n % records.length];
    stamps[n] = performance.timeOrigin + performance.now();
    writeSync(fd, r);
    n++;
  }
  if (n < total) setTimeout(step, 2);
  else {
    clock += 1000;
    closeSync(fd);
    renameSync(join(dir, start + '.not_terminated'), join(dir, start + '.' + ts(clock)));
    unlinkSync(join(dir, 'current'));
    parentPort.postMessage({ done: n, last: start });
  }
}
step();
`;

export default async function trailLatency({ file }) {
  const { followTrail } = await import(dist('sources/trail/follow.js'));
  const buf = readHead(file, 8 << 20);
  const records = frameRecords(buf, 20000).map(([p, n]) => buf.subarray(p, p + n));
  const total = Math.round(RATE * SECONDS);
  const stamps = new Float64Array(new SharedArrayBuffer(total * 8));
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-bench-trail-'));
  const follower = followTrail({ dirs: [dir], from: 'start' });
  const latencies = new Float64Array(total);
  let got = 0;
  let bytes = 0;
  const worker = new Worker(WRITER, { eval: true, workerData: { dir, records, stamps, rate: RATE, seconds: SECONDS, startMs: Date.UTC(2026, 0, 1) } });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let lastFile;
  worker.on('message', (m) => (lastFile = m.last + '.'));
  try {
    for await (const it of follower) {
      if (it.type === 'record') {
        latencies[got] = performance.timeOrigin + performance.now() - stamps[got];
        got++;
        bytes += it.bytes.length;
      } else if (it.type === 'diagnostic' || it.type === 'loss') {
        throw new Error(`unexpected ${it.type}: ${JSON.stringify(it.diagnostic ?? it.loss)}`);
      }
      if (got === total) break;
    }
  } finally {
    loop.disable();
    await follower.close();
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
  if (got !== total) throw new Error(`delivered ${got} of ${total} records (last file ${lastFile})`);
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const q = (x) => sorted[Math.min(sorted.length - 1, Math.floor(x * sorted.length))];
  return {
    bytes,
    records: got,
    latencyP50Ms: q(0.5),
    latencyP90Ms: q(0.9),
    latencyP99Ms: q(0.99),
    latencyMaxMs: sorted[sorted.length - 1],
    ratePerSec: RATE,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    loopDelayMaxMs: loop.max / 1e6,
  };
}
