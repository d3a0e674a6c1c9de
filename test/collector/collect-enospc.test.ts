/**
 * The spool's file system fills up (a 1 MiB tmpfs mounted by the test; root is required for mount(8)): the
 * collector reports a clear error, pauses intake (accounted), keeps draining the pipe, and once space is freed
 * (a stalled sink catches up and consumed segments are removed) resumes and recovers everything from the trail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../../src/collector/collector.js';
import { startKernelModel, readGroundTruth } from '../../src/testing/kernel-model/index.js';
import { MemorySink, tally, firstPipeId, trailRecords } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('spool file system full: clear error, accounted pause, no silent loss, resume after space is freed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-enospc-'));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  const model = await startKernelModel({ seed: 41 });
  try {
    const sink = new MemorySink();
    let release!: () => void;
    sink.stall = new Promise((r) => (release = r));
    const c = await Collector.start({
      mode: 'hybrid',
      spoolDir: join(mnt, 'spool'),
      segmentBytes: 64 * 1024,
      trailDirs: model.info.trailDirs,
      device: { kind: 'simulated', endpoint: model.info.endpoint },
      qlimit: 1024,
      sinks: [sink],
      sinkBatch: 200,
      log: () => undefined,
    });
    await model.run([{ type: 'steady', rate: 10000, seconds: 1.5 }]);
    await model.sync();
    let s = c.stats();
    for (let i = 0; i < 40 && !s.spool.paused; i++) {
      await sleep(100);
      s = c.stats();
    }
    assert.equal(s.spool.paused, true);
    assert.match(s.spool.pauseReason!, /no space left on device \(ENOSPC\); intake paused/);
    assert.ok(s.errors.some((e) => /intake paused: spool .*: no space left on device/.test(e)));
    assert.ok(s.spool.lastSeq > 1000 && s.spool.lastSeq < 15000, `spooled ${s.spool.lastSeq}`);
    // the drain goes on meanwhile: the kernel drop counter matches the truth, nothing vanishes silently
    sink.stall = undefined;
    release();
    const fin0 = await c.settle({ quietMs: 1500, timeoutMs: 60_000 });
    const truth = readGroundTruth(model.info.truthDir);
    const t = tally(truth, firstPipeId(truth));
    const fin = await c.stop();
    assert.equal(fin0.spool.paused, false);
    assert.ok(fin.spool.pauses >= 1 && fin.spool.pausedMs > 0);
    assert.deepEqual(fin.lost, {});
    assert.deepEqual(sink.stored.map((r) => r.hex), trailRecords([model.info.trailDirs[0]!]));
    assert.equal(new Set(sink.stored.map((r) => r.id)).size, sink.stored.length);
    assert.equal(fin.records.total, t.trailWritten);
    // records the pipe delivered during the pause were set aside and came back from the trail as recovered
    assert.ok(fin.records.recovered >= t.recovered);
  } finally {
    await model.stop();
    execFileSync('umount', [mnt]);
  }
});
