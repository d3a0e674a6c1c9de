// Closing a pipe discards what is still queued (kernel-audit-pipe.md §3, §5) and no kernel counter counts it: the
// device reads GET_QLEN (and the drop and insert counters) right before the close, in one exchange with the
// kernel model, so the count is what the model's ground truth says the close discarded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUDITPIPE, ioctlSetU32 } from '../../src/sources/pipe/device.js';
import { readGroundTruth, startKernelModel } from '../../src/testing/kernel-model/index.js';

test('closeWithCountersSync: GET_QLEN right before the close is what the close discards; drops and inserts with it', async () => {
  const model = await startKernelModel({ seed: 5 });
  try {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 100);
    await model.generate(60);
    const read = Buffer.alloc(1 << 20);
    const n = dev.readSync(read, 0, read.length);
    assert.ok(n > 0);
    await model.generate(130); // 100 queued, 30 dropped (tail drops)
    const counters = Buffer.alloc(16);
    const qlen = dev.closeWithCountersSync(counters);
    assert.throws(() => dev.readSync(read, 0, 10), /EBADF/, 'the pipe is closed');

    await model.sync();
    const truth = readGroundTruth(model.info.truthDir);
    const close = truth.events.find((e) => e.type === 'pipe-close');
    assert.ok(close, 'the model saw the close');
    assert.equal(qlen, close.discarded);
    assert.equal(qlen, 100);
    const pipe = Number(close.pipe);
    const outcomes = truth.records.flatMap((r) => r.pipes.filter((p) => p.pipe === pipe).map((p) => p.outcome));
    assert.equal(Number(counters.readBigUInt64LE(0)), outcomes.filter((o) => o === 'qlimit' || o === 'alloc').length);
    assert.equal(Number(counters.readBigUInt64LE(0)), 30);
    assert.equal(Number(counters.readBigUInt64LE(8)), outcomes.filter((o) => o === 'queued').length);
  } finally {
    await model.stop();
  }
});
