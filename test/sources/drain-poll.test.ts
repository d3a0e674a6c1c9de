// The drain loop on the path macOS and FreeBSD take (kernel-audit-pipe.md §7): non-blocking reads that end in
// EAGAIN, poll(2) with a timeout, counters read after every read and while idle. The model's pipes block instead,
// so this path is exercised here on a FIFO read through the koffi device (test/testing/fifo-pipe.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Framer } from '../../src/format/framer.js';
import { DrainLoop, type DrainBatch } from '../../src/sources/pipe/drain-loop.js';
import type { PipeDrop } from '../../src/sources/pipe/drop-locator.js';
import { FifoPipeDevice, startWriter, writerDone, type WritePlan } from '../testing/fifo-pipe.js';

const REALISTIC = fileURLToPath(new URL('../../../shared/conformance/generated/realistic.bsm', import.meta.url));

/** The corpus's records as the pipe carries them: kernel records only (a trail's file tokens are auditd's). */
function pipeRecords(): Buffer[] {
  const out: Buffer[] = [];
  const HEADERS = new Set([0x14, 0x15, 0x74, 0x79]);
  const f = new Framer({ record: (b) => void (HEADERS.has(b[0]!) && out.push(Buffer.from(b))), diagnostic: () => undefined });
  f.push(readFileSync(REALISTIC));
  f.end();
  return out;
}

/** The plan: every record of the corpus, a drop now and then (some right after an idle stretch), bursts and pauses. */
function makePlan(): WritePlan {
  const corpus = pipeRecords();
  const records = Array.from({ length: 6000 }, (_, i) => corpus[i % corpus.length]!);
  const dropped = records.map((_, i) => i % 97 === 13 || (i >= 3000 && i < 3040));
  const pauseAfter = new Map<number, number>();
  for (let i = 49; i < records.length; i += 50) pauseAfter.set(i, 1); // the queue empties: EAGAIN, then poll(2)
  for (let i = 499; i < records.length; i += 500) pauseAfter.set(i, 30); // longer than the 20 ms poll timeout
  dropped[records.length - 1] = true; // a drop after the last record read: placed at the end of the stream
  return { records, dropped, pauseAfter };
}

test('non-blocking reads, EAGAIN and poll: every record once and in order, every drop placed, batches combined while the consumer is busy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-drain-poll-'));
  const fifo = FifoPipeDevice.create(dir);
  const plan = makePlan();
  const writer = await startWriter(fifo.path, fifo.shared, plan);
  const dev = fifo.open();
  const batches: DrainBatch[] = [];
  let busy = false;
  const loop = new DrainLoop({
    device: dev,
    baseline: { qlimit: 1024, mode: 'trail', drops: 0, inserts: 0, reads: 0, consistent: true } as never,
    readSize: 32767,
    bufferBytes: 1 << 20,
    frame: {},
    stopRequested: () => writerDone(dev),
    drainOnStop: true,
    overCap: () => false,
    // busy every other batch: short reads then accumulate (up to 10 ms) instead of being handed over one by one
    consumerIdle: () => !busy,
    pause: () => undefined,
    onBatch: (b) => {
      batches.push(b);
      busy = !busy;
    },
  });
  writer.start();
  try {
    loop.run();
    loop.endFraming();
  } finally {
    dev.close();
    await writer.finish();
  }
  const trailing = loop.trailingDrops();

  // every queued record, byte for byte, in order, at consecutive stream offsets
  const queued = plan.records.filter((_, i) => !plan.dropped[i]);
  const got: Buffer[] = [];
  const offs: number[] = [];
  for (const b of batches) {
    const data = Buffer.from(b.buffer, 0, b.length);
    let start = 0;
    for (let i = 0; i < b.ends!.length; i++) {
      got.push(data.subarray(start, b.ends![i]));
      offs.push(b.offs![i]!);
      start = b.ends![i]!;
    }
    assert.deepEqual(b.diags, []);
  }
  assert.equal(got.length, queued.length);
  for (let i = 0; i < queued.length; i++) assert.ok(got[i]!.equals(queued[i]!), `record ${i}`);
  let expectOff = 0;
  for (let i = 0; i < got.length; i++) {
    assert.equal(offs[i], expectOff, `offset of record ${i}`);
    expectOff += got[i]!.length;
  }

  // every drop lies in a reported range: its true place is the stream offset of the queued records before it
  const drops: PipeDrop[] = [...batches.flatMap((b) => b.drops), ...trailing];
  const truePlaces: number[] = [];
  let at = 0;
  plan.records.forEach((r, i) => (plan.dropped[i] ? truePlaces.push(at) : (at += r.length)));
  assert.equal(drops.reduce((a, d) => a + d.records, 0), truePlaces.length);
  for (const p of truePlaces) assert.ok(drops.some((d) => d.earliestOffset <= p && p <= d.latestOffset), `drop at ${p} inside a reported range`);
  // a range spans at most what was queued when the counters were read: the FIFO (64 KiB) and one read (32 KiB)
  for (const d of drops) assert.ok(d.latestOffset - d.earliestOffset <= 96 * 1024 + 65536, `range ${d.earliestOffset}..${d.latestOffset} is tight`);
  assert.equal(at, expectOff, 'the last drop sits at the end of the stream');
  assert.ok(trailing.some((d) => d.offset === at) || drops.some((d) => d.latestOffset === at));

  // the non-blocking path was taken: reads ended in EAGAIN, the thread waited in poll(2), and while the consumer was
  // busy several reads went into one batch
  assert.ok(dev.eagain > 10, `EAGAIN seen (${dev.eagain})`);
  assert.ok(dev.polls > 10, `poll(2) used (${dev.polls})`);
  assert.ok(loop.counters.readCalls > batches.length, `fewer batches (${batches.length}) than reads (${loop.counters.readCalls})`);
  assert.equal(loop.counters.dropsSinceFlush, truePlaces.length);
  assert.equal(loop.counters.recordsRead, queued.length);
});
