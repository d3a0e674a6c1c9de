/**
 * The collector against the kernel model's ground truth: hybrid reconciliation under heavy pipe drops, trail mode,
 * pipe-only drop reports with positions, and a stalled sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector, type CollectorOptions } from '../../src/collector/collector.js';
import { startKernelModel, readGroundTruth, type KernelModel } from '../../src/testing/kernel-model/index.js';
import { MemorySink, PipelinedMemorySink, RawMemorySink, tally, firstPipeId, trailRecords } from './helpers.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));

async function withModel(opts: Parameters<typeof startKernelModel>[0], fn: (m: KernelModel) => Promise<void>): Promise<void> {
  const m = await startKernelModel(opts);
  try {
    await fn(m);
  } finally {
    await m.stop();
  }
}

function collectorOpts(m: KernelModel, mode: CollectorOptions['mode'], sinks: MemorySink[]): CollectorOptions {
  return {
    mode,
    spoolDir: tmp('bsmkit-spool-'),
    trailDirs: m.info.trailDirs,
    device: { kind: 'simulated', endpoint: m.info.endpoint },
    qlimit: 1024,
    sinks,
    log: () => undefined,
  };
}

test('hybrid: ≥10% pipe drops (qlimit and allocation failures), every trail record stored exactly once, report = ground truth', async () => {
  await withModel({ seed: 11, allocFailRate: 0.03 }, async (m) => {
    const sink = new MemorySink();
    const c = await Collector.start(collectorOpts(m, 'hybrid', [sink]));
    await m.run([{ type: 'steady', rate: 15000, seconds: 1 }, { type: 'sleep-wake', count: 15000 }, { type: 'steady', rate: 15000, seconds: 0.5 }, { type: 'sleep-wake', count: 8000 }, { type: 'burst', count: 5000 }]);
    await m.sync();
    const s = await c.settle({ quietMs: 800 });
    const truth = readGroundTruth(m.info.truthDir);
    const t = tally(truth, firstPipeId(truth));
    const drops = t.dropsQlimit + t.dropsAlloc;
    assert.ok(drops / t.trailWritten >= 0.1, `drops ${drops} of ${t.trailWritten}`);
    assert.ok(t.dropsAlloc > 0);
    assert.equal(s.records.live, t.live);
    assert.equal(s.records.recovered, t.recovered);
    assert.equal(s.records.trail, t.trailOnly);
    assert.equal(s.records.pipeOnly, t.pipeOnly);
    assert.equal(s.kernel.drops, drops);
    assert.deepEqual(s.lost, {});
    const fin = await c.stop();
    assert.equal(fin.status, 'stopped');
    // the store: exactly the trail's records, once each, in trail order
    assert.deepEqual(sink.stored.map((r) => r.hex), trailRecords(m.info.trailDirs));
    assert.equal(new Set(sink.stored.map((r) => r.id)).size, sink.stored.length);
    assert.deepEqual(sink.stored.map((r) => r.seq), sink.stored.map((_, i) => i + 1));
    const byOrigin = (o: string): number => sink.stored.filter((r) => r.origin === o).length;
    assert.equal(byOrigin('recovered'), t.recovered);
    assert.equal(byOrigin('pipe'), t.live);
  });
});

test('trail mode: everything the trail holds, across a rotation; restart resumes without repeating', async () => {
  await withModel({ seed: 5 }, async (m) => {
    const sink = new MemorySink();
    const o = collectorOpts(m, 'trail', [sink]);
    let c = await Collector.start(o);
    await m.generate(3000);
    await m.rotate();
    await m.generate(2000);
    await c.settle({ quietMs: 800 });
    await c.stop();
    const first = sink.stored.length;
    await m.generate(1000);
    c = await Collector.start(o);
    const s = await c.settle({ quietMs: 800 });
    await c.stop();
    assert.deepEqual(sink.stored.map((r) => r.hex), trailRecords(m.info.trailDirs));
    assert.ok(first >= 5000 && sink.stored.length >= first + 1000);
    assert.equal(new Set(sink.stored.map((r) => r.id)).size, sink.stored.length);
    assert.equal(s.records.trail, sink.stored.length);
    assert.ok(sink.stored.every((r) => r.origin === 'trail'));
  });
});

test('pipe mode: every kernel drop is reported with the pipe offsets around it', async () => {
  await withModel({ seed: 21, allocFailRate: 0.01 }, async (m) => {
    const sink = new MemorySink();
    const c = await Collector.start(collectorOpts(m, 'pipe', [sink]));
    await m.run([{ type: 'steady', rate: 10000, seconds: 0.5 }, { type: 'sleep-wake', count: 6000 }, { type: 'steady', rate: 10000, seconds: 0.5 }, { type: 'sleep-wake', count: 3000 }]);
    await m.sync();
    const s = await c.settle({ quietMs: 800 });
    await c.stop();
    const truth = readGroundTruth(m.info.truthDir);
    const pid = firstPipeId(truth);
    // true position of each drop: the pipe byte count of the records delivered before it
    let off = 0;
    const dropAt: number[] = [];
    let queued = 0;
    for (const r of truth.records) {
      const o = r.pipes.find((p) => p.pipe === pid)?.outcome;
      if (o === 'queued') {
        off += r.length;
        queued++;
      } else if (o === 'qlimit' || o === 'alloc') dropAt.push(off);
    }
    assert.ok(dropAt.length > 1000);
    assert.equal(s.records.live, queued);
    assert.equal(sink.stored.length, queued);
    assert.equal(s.lost['pipe-drops'], dropAt.length);
    const gaps = s.losses.filter((l) => l.reason === 'pipe-drops');
    assert.equal(gaps.reduce((a, g) => a + g.records!, 0), dropAt.length);
    for (const p of dropAt) assert.ok(gaps.some((g) => g.from! <= p && p <= g.to!), `drop at pipe offset ${p} not inside a reported gap`);
    for (const g of gaps) assert.match(g.message, /dropped \d+ record\(s\) from pipe:.* between byte offsets \d+ and \d+/);
  });
});

test('a sink stalled for a long stretch: the spool absorbs, the pipe keeps draining, nothing lost', async () => {
  await withModel({ seed: 8 }, async (m) => {
    const stalled = new MemorySink('stalled');
    const fast = new MemorySink('fast');
    let release!: () => void;
    stalled.stall = new Promise((r) => (release = r));
    const o = collectorOpts(m, 'hybrid', [stalled, fast]);
    const c = await Collector.start({ ...o, segmentBytes: 256 * 1024 });
    await m.run([{ type: 'steady', rate: 10000, seconds: 2 }]);
    await m.sync();
    const during = await c.settle({ quietMs: 800, waitForSinks: false });
    const truth = readGroundTruth(m.info.truthDir);
    const t = tally(truth, firstPipeId(truth));
    // the pipe kept being drained into the spool while a sink was stalled: everything live is accounted
    assert.equal(during.kernel.drops, t.dropsQlimit + t.dropsAlloc);
    assert.ok(t.live > 0.5 * t.trailWritten, `live ${t.live} of ${t.trailWritten}: ${JSON.stringify(t)}`);
    assert.equal(during.records.live, t.live);
    assert.equal(during.records.recovered, t.recovered);
    const st = during.sinks.find((k) => k.name === 'stalled')!;
    assert.equal(st.checkpoint, 0);
    assert.equal(st.lag, during.spool.lastSeq);
    assert.ok(during.spool.segments > 3, 'backlog held in spool segments');
    assert.equal(fast.stored.length, during.spool.lastSeq);
    stalled.stall = undefined;
    release();
    const after = await c.settle({ quietMs: 800 });
    await c.stop();
    assert.equal(after.spool.lastSeq, during.spool.lastSeq);
    assert.equal(stalled.stored.length, during.spool.lastSeq);
    assert.deepEqual(stalled.stored.map((r) => r.id), fast.stored.map((r) => r.id));
    assert.equal(after.spool.segments, 1, 'consumed segments removed');
  });
});

test('a lagging sink gets catch-up batches read across segment ends, as raw batches or as records', async () => {
  await withModel({ seed: 9 }, async (m) => {
    const raw = new RawMemorySink('raw');
    const objects = new MemorySink('objects');
    const fast = new MemorySink('fast');
    raw.catchUpBatch = objects.catchUpBatch = 5000;
    let release!: () => void;
    raw.stall = objects.stall = new Promise((r) => (release = r));
    const o = collectorOpts(m, 'trail', [raw, objects, fast]);
    const c = await Collector.start({ ...o, segmentBytes: 128 * 1024, sinkBatch: 1000 });
    await m.run([{ type: 'steady', rate: 10000, seconds: 2 }]);
    await m.sync();
    const during = await c.settle({ quietMs: 800, waitForSinks: false });
    const total = during.spool.lastSeq;
    assert.ok(total > 15_000 && during.spool.segments > 10, `${total} records in ${during.spool.segments} segments`);
    raw.stall = objects.stall = undefined;
    release();
    await c.settle({ quietMs: 800 });
    await c.stop();
    for (const s of [raw, objects]) {
      assert.deepEqual(s.stored.map((r) => r.id), fast.stored.map((r) => r.id), `${s.name}: every record once, in order`);
      // The first write was issued before the backlog grew (stalled); then full catch-up batches while the lag was
      // at least 5000, then the usual batches of at most 1000.
      const rest = s.sizes.slice(1);
      const big = rest.filter((n) => n === 5000).length;
      assert.ok(big >= Math.floor((total - s.sizes[0]!) / 5000) - 1, `${s.name}: batch sizes ${rest.join(',')}`);
      assert.ok(rest.every((n) => n === 5000 || n <= 1000), `${s.name}: batch sizes ${rest.join(',')}`);
    }
    assert.ok(raw.rawWrites === raw.writes && raw.rawWrites > 0, 'the raw path was used');
    assert.ok(fast.sizes.every((n) => n <= 1000));
  });
});

test('a sink that takes two writes at once gets two; after a failed one, both are retried and every record is stored once, in order', async () => {
  await withModel({ seed: 9 }, async (m) => {
    const piped = new PipelinedMemorySink('piped');
    piped.failAt.add(3);
    let release!: () => void;
    piped.stall = new Promise((r) => (release = r));
    const ok = new MemorySink('ok');
    const c = await Collector.start({ ...collectorOpts(m, 'trail', [piped, ok]), sinkBatch: 500 });
    let s;
    try {
      await m.generate(6000);
      await c.settle({ quietMs: 800, waitForSinks: false });
      assert.equal(piped.inFlight, 2, 'two writes handed over while the sink is stalled');
    } finally {
      piped.stall = undefined;
      release();
      s = await c.settle({ quietMs: 1500, timeoutMs: 20000 });
      await c.stop();
    }
    assert.equal(piped.maxSeen, 2);
    assert.equal(s.sinks.find((k) => k.name === 'piped')!.failures, 1);
    assert.match(s.errors.join('\n'), /sink piped: write failed \(will retry from seq \d+\): injected sink failure/);
    assert.deepEqual(piped.stored.map((r) => r.id), ok.stored.map((r) => r.id));
    assert.ok(ok.stored.length >= 6000);
  });
});

test('a failing sink is retried from its checkpoint; the others are not held back', async () => {
  await withModel({ seed: 9 }, async (m) => {
    const flaky = new MemorySink('flaky');
    flaky.failNext = 3;
    const ok = new MemorySink('ok');
    const c = await Collector.start(collectorOpts(m, 'trail', [flaky, ok]));
    await m.generate(4000);
    const s = await c.settle({ quietMs: 1500, timeoutMs: 20000 });
    await c.stop();
    assert.equal(s.sinks.find((k) => k.name === 'flaky')!.failures, 3);
    assert.match(s.errors.join('\n'), /sink flaky: write failed \(will retry from seq 1\): injected sink failure/);
    assert.deepEqual(flaky.stored.map((r) => r.id), ok.stored.map((r) => r.id));
    assert.ok(ok.stored.length >= 4000);
  });
});

test('hybrid: records the trail failed to write are kept from the pipe (pipe-only); those lost from both are counted', async () => {
  await withModel({ seed: 13, trailWriteErrorRate: 0.01 }, async (m) => {
    const sink = new MemorySink();
    const c = await Collector.start({ ...collectorOpts(m, 'hybrid', [sink]), pipeOnlyAfterMs: 1000 });
    await m.run([{ type: 'steady', rate: 8000, seconds: 1 }, { type: 'sleep-wake', count: 4000 }, { type: 'steady', rate: 8000, seconds: 0.5 }]);
    await m.sync();
    const s = await c.settle({ quietMs: 1500 });
    await c.stop();
    const truth = readGroundTruth(m.info.truthDir);
    const t = tally(truth, firstPipeId(truth));
    assert.ok(t.pipeOnly > 20, `pipe-only in truth: ${t.pipeOnly}`);
    assert.equal(s.records.pipeOnly, t.pipeOnly);
    assert.equal(s.records.live, t.live);
    assert.equal(s.records.recovered, t.recovered);
    // the pipe-only records are in the store, flagged by their pipe position, each once
    const pipeOnly = new Set(truth.records.filter((r) => r.trail.fate !== 'written' && r.bytes && r.pipes.some((p) => p.outcome === 'queued')).map((r) => r.bytes!.toString('hex')));
    const storedPipeOnly = sink.stored.filter((r) => r.sourceFile?.startsWith('pipe:'));
    assert.equal(storedPipeOnly.length, t.pipeOnly);
    for (const r of storedPipeOnly) assert.ok(pipeOnly.has(r.hex));
    assert.equal(sink.stored.length, t.trailWritten + t.pipeOnly);
  });
});

test('hybrid: pipe-only records still undecided at shutdown are kept; a restart stores the rest, each record once', async () => {
  // pipeOnlyAfterMs far beyond the run: only a later pipe record, or the shutdown (trail read to its end), decides
  await withModel({ seed: 17, trailWriteErrorRate: 0.02 }, async (m) => {
    const sink = new MemorySink();
    const opts = { ...collectorOpts(m, 'hybrid', [sink]), pipeOnlyAfterMs: 600_000 };
    let c = await Collector.start(opts);
    await m.run([{ type: 'steady', rate: 8000, seconds: 0.5 }]);
    // the last records have no trail copy: no later pipe record can show it, only the end of the trail
    await m.injectTrailFault('eio', 5);
    await m.generate(5);
    await m.sync();
    await c.stop();
    const truth = readGroundTruth(m.info.truthDir);
    const t = tally(truth, firstPipeId(truth));
    assert.ok(t.pipeOnly > 20, `pipe-only in truth: ${t.pipeOnly}`);
    const queued = truth.records.filter((r) => r.pipes.some((p) => p.outcome === 'queued'));
    assert.ok(queued.slice(-5).every((r) => r.trail.fate !== 'written'), 'the last 5 pipe records are pipe-only');
    const pipeOnly = new Set(truth.records.filter((r) => r.trail.fate !== 'written' && r.bytes && r.pipes.some((p) => p.outcome === 'queued')).map((r) => r.bytes!.toString('hex')));
    const keptPipeOnly = (): string[] => sink.stored.filter((r) => r.sourceFile?.startsWith('pipe:')).map((r) => r.hex);
    assert.deepEqual(new Set(keptPipeOnly()), pipeOnly, 'every pipe-only record kept by the first run');
    assert.equal(keptPipeOnly().length, pipeOnly.size);
    // the next run reads what the first left in the trail: every trail record once, nothing kept twice
    c = await Collector.start(opts);
    await c.settle({ quietMs: 800 });
    await c.stop();
    assert.equal(keptPipeOnly().length, t.pipeOnly);
    const trailKept = sink.stored.filter((r) => !r.sourceFile?.startsWith('pipe:')).map((r) => `${r.sourceFile}@${r.sourceOffset}`);
    assert.equal(new Set(trailKept).size, trailKept.length, 'no trail record stored twice');
    assert.equal(trailKept.length, t.trailWritten);
  });
});

test('a sink whose close never ends does not hold the shutdown: reported, and the other sinks are closed', async () => {
  await withModel({ seed: 23 }, async (m) => {
    class HangingClose extends MemorySink {
      override close(): Promise<void> {
        return new Promise(() => undefined);
      }
    }
    const hanging = new HangingClose('hanging');
    const other = new MemorySink('other');
    let otherClosed = false;
    other.close = async () => {
      otherClosed = true;
    };
    const c = await Collector.start({ ...collectorOpts(m, 'pipe', [hanging, other]), sinkCloseMs: 300 });
    await m.generate(100);
    await c.settle({ quietMs: 300 });
    const s = await c.stop();
    assert.ok(otherClosed, 'the next sink is closed');
    assert.ok(s.errors.some((e) => /sink hanging: close did not finish within 0\.3 s; left behind \(its records after checkpoint 100 are delivered again/.test(e)), s.errors.join('\n'));
    assert.equal(other.stored.length, 100);
  });
});

test('hybrid: drops a stopped collector had not recovered yet are recovered by the next run, not taken for trail-only', async () => {
  await withModel({ seed: 29 }, async (m) => {
    const sink = new MemorySink();
    const opts = collectorOpts(m, 'hybrid', [sink]);
    let c = await Collector.start(opts);
    await m.run([{ type: 'steady', rate: 5000, seconds: 0.3 }, { type: 'sleep-wake', count: 60_000 }]);
    await m.sync();
    const early = await c.stop(); // mid-backlog: the trail reader is still far behind the burst
    c = await Collector.start(opts);
    const s = await c.settle({ quietMs: 800 });
    await c.stop();
    const truth = readGroundTruth(m.info.truthDir);
    const t = tally(truth, firstPipeId(truth));
    assert.ok(early.records.recovered < t.recovered, `the first run stopped before it recovered every drop (${early.records.recovered} of ${t.recovered})`);
    assert.equal(s.kernel.drops, t.dropsQlimit + t.dropsAlloc);
    assert.equal(s.records.live, t.live);
    assert.equal(s.records.recovered + s.records.trail, t.recovered + t.trailOnly, 'every trail record once');
    // Exact in most runs; under heavy CPU load up to ~1.4% of the carried drops were seen labelled trail (cause not
    // found yet, see the closing note). Without carrying them, about 90% were.
    assert.ok(s.records.recovered >= 0.95 * t.recovered, `recovered ${s.records.recovered} of ${t.recovered}`);
    assert.equal(sink.stored.length, t.trailWritten);
  });
});

test('hybrid --from end: records the pipe received before the trail end was fixed are live, not pipe-only', async () => {
  await withModel({ seed: 31 }, async (m) => {
    const sink = new MemorySink();
    const running = m.run([{ type: 'steady', rate: 5000, seconds: 1.5 }]);
    await new Promise((r) => setTimeout(r, 300));
    const c = await Collector.start({ ...collectorOpts(m, 'hybrid', [sink]), from: 'end', pipeOnlyAfterMs: 1000 });
    await running;
    await m.sync();
    const s = await c.settle({ quietMs: 1500 });
    await c.stop();
    const truth = readGroundTruth(m.info.truthDir);
    const t = tally(truth, firstPipeId(truth));
    assert.equal(t.pipeOnly, 0, 'the model wrote every record to the trail');
    assert.equal(s.records.pipeOnly, 0);
    // the pipe's set-up FLUSH discards what it queued before (kernel-audit-pipe.md §19): never read, so not live
    const flushed = truth.events.filter((e) => e.type === 'pipe-flush' && e.reason !== 'close').reduce((n, e) => n + Number(e.discarded), 0);
    assert.equal(s.records.live, t.live - flushed, 'every record read from the pipe is live');
    assert.ok(s.records.live > 1000, `records collected live: ${s.records.live}`);
    assert.equal(new Set(sink.stored.map((r) => r.hex + r.sourceOffset)).size, sink.stored.length, 'nothing stored twice');
  });
});

test('two sinks of one name are refused: a name keys a checkpoint', async () => {
  await assert.rejects(
    Collector.start({ mode: 'trail', spoolDir: tmp('bsmkit-spool-'), trailDirs: [tmp('bsmkit-trail-')], sinks: [new MemorySink('a'), new MemorySink('a')], log: () => undefined }),
    /two sinks are named 'a'/,
  );
});

test('pipe mode stopped during a burst: what the pipe\'s close discards is lost with reason pipe-close, as in the ground truth', async () => {
  await withModel({ seed: 37 }, async (m) => {
    const seen: number[] = [];
    // whether records are queued between the drain's last read and its close is up to the scheduler: up to 6 tries
    for (let attempt = 0; attempt < 6 && !seen.some((n) => n > 0); attempt++) {
      const c = await Collector.start(collectorOpts(m, 'pipe', [new MemorySink()]));
      const burst = m.run([{ type: 'burst', count: 400_000 }]);
      for (let i = 0; i < 400 && c.stats().records.total < 20_000; i++) await new Promise((r) => setTimeout(r, 10));
      const s = await c.stop();
      await burst;
      await m.sync();
      const truth = readGroundTruth(m.info.truthDir);
      const pipe = Number(truth.events.filter((e) => e.type === 'pipe-open').at(-1)!.pipe);
      const close = truth.events.find((e) => e.type === 'pipe-close' && Number(e.pipe) === pipe);
      const discarded = Number(close?.discarded ?? 0);
      assert.equal(s.lost['pipe-close'] ?? 0, discarded, `try ${attempt}`);
      if (discarded > 0) assert.ok(s.losses.some((l) => l.reason === 'pipe-close' && l.records === discarded && /were discarded when the pipe was closed/.test(l.message)));
      seen.push(discarded);
    }
    assert.ok(seen.some((n) => n > 0), `a close discarded records: ${seen.join(', ')}`);
  });
});

test('a spool locked by another running collector is refused by the library too; the lock goes with stop()', async () => {
  const spoolDir = tmp('bsmkit-spool-');
  const trail = tmp('bsmkit-trail-');
  // a living process whose command line says collect, as a collector's does
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', 'collect'], { stdio: 'ignore' });
  try {
    writeFileSync(join(spoolDir, 'collect.lock'), `${other.pid}\n`);
    await assert.rejects(Collector.start({ mode: 'trail', spoolDir, trailDirs: [trail], sinks: [], log: () => undefined }), /spool .* is in use by another bsmkit collect \(pid \d+/);
  } finally {
    other.kill('SIGKILL');
  }
  await once(other, 'exit');
  const c = await Collector.start({ mode: 'trail', spoolDir, trailDirs: [trail], sinks: [], log: () => undefined });
  assert.equal(readFileSync(join(spoolDir, 'collect.lock'), 'utf8'), `${process.pid}\n`, 'a stale lock is taken over');
  await c.stop();
  assert.equal(existsSync(join(spoolDir, 'collect.lock')), false);
});
