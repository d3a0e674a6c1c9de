// The collector's drain thread at its memory cap (bytes handed to the main thread and not yet processed): it stops
// reading, the kernel queue fills and drops, and once the main thread catches up the thread reads on; every record
// queued arrives once, in order, and every drop is reported as a gap with the right count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipeDrain } from '../../src/collector/pipe-drain.js';
import type { DrainMessage } from '../../src/collector/pipe-drain-protocol.js';
import { startKernelModel } from '../../src/testing/kernel-model/index.js';
import { pipeTruth, until } from '../testing/pipe-truth.js';

test('collector drain at its cap: pauses (the kernel drops, reported as gaps), resumes when the main thread catches up', async () => {
  const model = await startKernelModel({ seed: 31 });
  try {
    const batches: Extract<DrainMessage, { t: 'batch' }>[] = [];
    let closed = false;
    const drain = new PipeDrain({
      device: { kind: 'simulated', endpoint: model.info.endpoint },
      qlimit: 1024,
      maxOutstandingBytes: 64 << 10,
      onMessage: (m) => {
        if (m.t === 'batch') batches.push(m);
        if (m.t === 'closed') closed = true;
      },
    });
    await drain.opened;
    // the main thread processes nothing while 40 bursts of 1000 records (about 4.5 MB) arrive
    for (let i = 0; i < 40; i++) await model.generate(1000);
    const t = await pipeTruth(model);
    assert.ok(t.dropsByReason.qlimit > 10_000, `the kernel dropped while the drain was at its cap (${t.dropsByReason.qlimit})`);
    const heldKb = batches.reduce((a, b) => a + b.kb, 0);
    assert.ok(heldKb <= 64 + 1024 + 64, `the drain stopped near its cap (${heldKb} KiB handed over)`);

    // the main thread catches up, batch by batch
    let processed = 0;
    const records = (): number => batches.reduce((a, b) => a + b.ends.length, 0);
    const gapRecords = (): number => batches.reduce((a, b) => a + (b.gaps ?? []).reduce((x, g) => x + g.records, 0), 0);
    await until(() => {
      while (processed < batches.length) drain.processed(batches[processed++]!.kb);
      return records() === t.queued.length && gapRecords() === t.dropsByReason.qlimit;
    }, 'every queued record and every drop');
    await drain.stop();
    assert.ok(closed);

    // the records in stream order, each once, and each gap where the truth puts its drops
    const lengths = batches.flatMap((b) => Array.from(b.ends, (e, i) => e - (i > 0 ? b.ends[i - 1]! : 0)));
    assert.deepEqual(lengths, t.queued.map((q) => q.length));
    const offs = batches.flatMap((b) => Array.from(b.offs));
    for (let i = 1; i < offs.length; i++) assert.equal(offs[i], offs[i - 1]! + lengths[i - 1]!, `record ${i} follows record ${i - 1}`);
    const gaps = batches.flatMap((b) => b.gaps ?? []);
    for (const d of t.drops) assert.ok(gaps.some((g) => g.from <= d.offset && d.offset <= g.to), `drop at ${d.offset} inside a reported gap`);
  } finally {
    await model.stop();
  }
});
