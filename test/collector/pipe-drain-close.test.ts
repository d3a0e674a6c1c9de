// The collector's drain stopped during a burst: it reads until the queue is found empty, but records keep coming
// until close() discards them. Its 'closed' message says how many (discardedAtClose, GET_QLEN right before the
// close), which must be what the kernel model's ground truth says the close discarded; the drops counted at the
// close are placed too, so 'closed'.drops is every drop of the pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipeDrain } from '../../src/collector/pipe-drain.js';
import type { DrainMessage } from '../../src/collector/pipe-drain-protocol.js';
import { readGroundTruth, startKernelModel } from '../../src/testing/kernel-model/index.js';
import { until } from '../testing/pipe-truth.js';

type Closed = Extract<DrainMessage, { t: 'closed' }>;

test('collector drain stopped during a burst: closed.discardedAtClose = the records the close discarded (ground truth)', async () => {
  const model = await startKernelModel({ seed: 41 });
  try {
    const results: Array<{ closed: Closed; records: number; gapRecords: number }> = [];
    // Whether the burst queues records between the drain's last read and its close is up to the scheduler; the
    // count must match the truth either way. Stop mid-burst until one run closed with records queued (at most 6).
    for (let attempt = 0; attempt < 6 && !results.some((r) => (r.closed.discardedAtClose ?? 0) > 0); attempt++) {
      let closed: Closed | undefined;
      let records = 0;
      let gapRecords = 0;
      const drain = new PipeDrain({
        device: { kind: 'simulated', endpoint: model.info.endpoint },
        qlimit: 1024,
        onMessage: (m) => {
          if (m.t === 'batch') {
            records += m.ends.length;
            gapRecords += (m.gaps ?? []).reduce((a, g) => a + g.records, 0);
            drain.processed(m.kb);
          }
          if (m.t === 'closed') closed = m;
          if (m.t === 'error') assert.fail(m.message);
        },
      });
      await drain.opened;
      const burst = model.run([{ type: 'burst', count: 400_000 }]);
      await until(() => records > 20_000, 'records from the burst');
      await drain.stop();
      await burst;
      assert.ok(closed, 'the drain posted closed');
      results.push({ closed, records, gapRecords });
    }

    await model.sync();
    const truth = readGroundTruth(model.info.truthDir);
    const pipes = truth.events.filter((e) => e.type === 'pipe-open').map((e) => Number(e.pipe));
    assert.equal(pipes.length, results.length);
    results.forEach((r, i) => {
      const pipe = pipes[i]!;
      const close = truth.events.find((e) => e.type === 'pipe-close' && e.pipe === pipe);
      assert.ok(close, `pipe ${pipe} closed`);
      assert.equal(r.closed.discardedAtClose, close.discarded, `run ${i}: discardedAtClose`);
      const outcomes = truth.records.flatMap((x) => x.pipes.filter((p) => p.pipe === pipe).map((p) => p.outcome));
      const dropped = outcomes.filter((o) => o === 'qlimit' || o === 'alloc').length;
      const queued = outcomes.filter((o) => o === 'queued').length;
      assert.equal(r.closed.drops, dropped, `run ${i}: every drop counted, those after the last read too`);
      assert.equal(r.gapRecords, dropped, `run ${i}: every drop reported in a gap`);
      // every record queued was either read or discarded at the close
      assert.equal(r.records + Number(close.discarded), queued, `run ${i}: read + discarded = queued`);
    });
    assert.ok(results.some((r) => (r.closed.discardedAtClose ?? 0) > 0), `a close discarded records: ${results.map((r) => r.closed.discardedAtClose).join(', ')}`);
  } finally {
    await model.stop();
  }
});
