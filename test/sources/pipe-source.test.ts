/**
 * The audit pipe source against the kernel model process (a real separate process, FIFOs, the drain thread):
 * framing across reads, drops placed where the model's ground truth says they happened, LOCAL preselection,
 * EINTR and shutdown, a busy main thread, the memory cap, the 32-bit counter wrap.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { decodeAll } from '../../src/format/read-file.js';
import { Framer } from '../../src/format/framer.js';
import type { Diagnostic } from '../../src/format/types.js';
import { BsmkitError } from '../../src/errors.js';
import { AUDITPIPE, ioctlGetU32, ioctlSetU32, openPipeDrain, openPipeSource, RecordCounter, type PipeLossReport } from '../../src/sources/pipe/index.js';
import { AuditClass, startKernelModel, type KernelModel } from '../../src/testing/kernel-model/index.js';
import { collect, pipeTruth, until, type Collected } from '../testing/pipe-truth.js';

/** The ground-truth sequence number the model writes into each record's subject terminal port. */
function seqOf(rec: Buffer): number {
  const { records } = decodeAll(rec);
  const s = records[0]!.tokens.find((t) => t.type === 'subject32' || t.type === 'subject32_ex');
  assert.ok(s && 'port' in s, 'record has a subject');
  return Number(s.port);
}

/** Every record received equals the ground truth's queued records, in order (lengths, sequence numbers). */
function assertSameRecords(c: Collected, queued: Array<{ seq: number; length: number }>): void {
  assert.equal(c.records.length, queued.length, 'records received = records the model queued');
  for (let i = 0; i < queued.length; i++) {
    if (c.records[i]!.length !== queued[i]!.length || seqOf(c.records[i]!) !== queued[i]!.seq) {
      assert.fail(`record ${i}: got seq ${seqOf(c.records[i]!)} (${c.records[i]!.length} B), truth seq ${queued[i]!.seq} (${queued[i]!.length} B)`);
    }
  }
}

async function withModel<T>(opts: Parameters<typeof startKernelModel>[0], fn: (m: KernelModel) => Promise<T>): Promise<T> {
  const model = await startKernelModel(opts);
  try {
    return await fn(model);
  } finally {
    await model.stop();
    rmSync(model.info.endpoint, { recursive: true, force: true });
  }
}

describe('pipe source framing', () => {
  test('reads of random sizes split records anywhere; the framer and the record counter agree with the trail', async () => {
    await withModel({ seed: 11 }, async (model) => {
      const dev = model.openPipe();
      try {
        ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 1024);
        await model.generate(1000);
        const trailBytes = readFileSync(model.info.currentLink);
        // deterministic "random" read sizes, 1..700 bytes: most reads end inside a record
        let x = 12345;
        const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 700 + 1;
        const records: Buffer[] = [];
        const diags: Diagnostic[] = [];
        const framer = new Framer({ record: (b) => records.push(Buffer.from(b)), diagnostic: (d) => diags.push(d) });
        const counter = new RecordCounter();
        const buf = Buffer.alloc(1024);
        let partialReads = 0;
        while (ioctlGetU32(dev, AUDITPIPE.FIONREAD) > 0) {
          const n = dev.readSync(buf, 0, rnd());
          const chunk = Buffer.from(buf.subarray(0, n));
          counter.walk(chunk, 0, n);
          if (counter.recStart !== counter.pos) partialReads++;
          framer.push(chunk);
        }
        framer.end();
        assert.deepEqual(diags, []);
        assert.ok(partialReads > 250, `most reads ended mid-record (${partialReads})`);
        // The pipe carries, byte for byte, the trail's records after auditd's startup record (§12).
        const trailRecs = decodeAll(trailBytes).records.map((r) => r.bytes);
        const tail = trailRecs.slice(trailRecs.length - records.length);
        assert.equal(records.length, 1000, 'every generated record');
        assert.ok(tail.every((b, i) => b.equals(records[i]!)), 'byte-identical to the trail, in order');
        assert.equal(counter.count, records.length, 'the drain thread counter counts the same records');
        assert.equal(counter.pos, records.reduce((n, r) => n + r.length, 0));
      } finally {
        dev.close();
      }
    });
  });

  test('the source frames across reads and batches (small buffers) and delivers every record once, in order', async () => {
    await withModel({ seed: 12 }, async (model) => {
      const src = await openPipeSource({ device: { endpoint: model.info.endpoint }, readSize: 32767, batchBytes: 65536 });
      const c = collect(src);
      await model.generate(900);
      await until(() => c.records.length >= 900, 'the first burst');
      await model.generate(800);
      const t = await pipeTruth(model);
      await until(() => c.records.length >= t.queued.length, 'all records');
      await src.close();
      await c.done;
      assert.equal(c.error, undefined);
      assert.deepEqual(c.losses, []);
      assertSameRecords(c, t.queued);
      assert.ok(c.items.every((it) => it.type !== 'diagnostic'), 'no framing damage');
      // offsets and cursors run through the stream without gaps
      let off = 0;
      for (const it of c.items) {
        if (it.type !== 'record') continue;
        assert.equal(it.offset, off);
        off += it.bytes.length;
        assert.equal(it.cursor.offset, off);
      }
      assert.equal(src.cursor?.records, t.queued.length);
      assert.equal(src.counters?.recordsRead, t.queued.length);
    });
  });
});

describe('pipe drops', () => {
  test('each drop is reported once, at the record index and byte offset of the ground truth', async () => {
    await withModel({ seed: 21 }, async (model) => {
      const src = await openPipeSource({ device: { endpoint: model.info.endpoint } });
      assert.equal(src.drain.baseline.qlimit, 1024, 'qlimit set to GET_QLIMIT_MAX');
      const c = collect(src);
      const received = async (): Promise<void> => {
        const t = await pipeTruth(model);
        await until(() => c.records.length >= t.queued.length, 'the queued records');
      };
      // one commit of 5000: 1024 queued, the rest tail-dropped (the reader runs only after the burst)
      await model.generate(5000);
      await received();
      // a steady phase the reader keeps up with: no drops
      await model.run([{ type: 'steady', rate: 4000, seconds: 0.5 }]);
      await received();
      // sleep/wake: tens of thousands committed while no reader can run
      await model.run([{ type: 'sleep-wake', count: 30_000 }]);
      await received();
      await model.generate(1500);
      await received();
      const t = await pipeTruth(model);
      await src.close();
      await c.done;
      assert.equal(c.error, undefined);
      assert.equal(t.dropsByReason.alloc, 0);
      assert.ok(t.drops.length >= 3, 'the scenario dropped records several times');
      assertSameRecords(c, t.queued);
      assert.deepEqual(
        c.losses.map((l) => ({ recordIndex: l.recordIndex, offset: l.offset, records: l.records })),
        t.drops,
        'drop positions and counts = ground truth',
      );
      assert.ok(c.losses.every((l) => l.exact && l.reason === 'pipe-drops' && l.certain));
      // each loss item sits in the stream right before the record it precedes
      let recIndex = 0;
      for (const it of c.items) {
        if (it.type === 'record') recIndex++;
        else if (it.type === 'loss') assert.equal((it.loss as PipeLossReport).recordIndex, recIndex);
      }
      assert.equal(src.counters?.dropsSinceFlush, t.drops.reduce((n, d) => n + d.records, 0));
    });
  });

  test('allocation failures are counted in full; positions are marked approximate when they cannot be tail drops', async () => {
    await withModel({ seed: 22, allocFailRate: 0.01 }, async (model) => {
      const src = await openPipeSource({ device: { endpoint: model.info.endpoint } });
      const c = collect(src);
      // a rate the drain keeps up with even on a loaded machine (the queue holds 1024 records: 250 ms here)
      await model.run([{ type: 'steady', rate: 4000, seconds: 1.5 }]);
      const t = await pipeTruth(model);
      await until(() => c.records.length >= t.queued.length, 'the queued records');
      await until(() => (src.counters?.dropsSinceFlush ?? 0) >= t.dropsByReason.alloc + t.dropsByReason.qlimit, 'the drop counters');
      await src.close();
      await c.done;
      assert.ok(t.dropsByReason.alloc > 20, `the model failed allocations (${t.dropsByReason.alloc})`);
      assertSameRecords(c, t.queued);
      // a loaded machine may also starve the drain long enough for tail drops: they are counted too
      const total = t.dropsByReason.alloc + t.dropsByReason.qlimit;
      assert.equal(c.losses.reduce((n, l) => n + l.records, 0), total, 'every drop accounted for');
      if (t.dropsByReason.qlimit === 0) assert.ok(c.losses.every((l) => !l.exact), 'not tail drops: approximate positions');
      // Every dropped record lies within its loss's bounds [earliest, latest]; an approximate position is the latest.
      // Compared record by record: consecutive allocation failures are one run in the ground truth but can straddle
      // a read, and are then reported as two losses.
      const truthAt = t.drops.flatMap((d) => Array<{ index: number; offset: number }>(d.records).fill({ index: d.recordIndex, offset: d.offset }));
      const reported = c.losses.flatMap((l) => Array<PipeLossReport>(l.records).fill(l));
      assert.equal(reported.length, truthAt.length);
      for (let i = 0; i < truthAt.length; i++) {
        const r = reported[i]!;
        const at = truthAt[i]!;
        assert.ok(r.earliest <= at.index && at.index <= r.latest, `dropped record ${i}: true position ${at.index}, reported within [${r.earliest}, ${r.latest}]`);
        assert.ok(r.fromOffset! <= at.offset, `dropped record ${i}: true offset ${at.offset}, reported from ${r.fromOffset}`);
        if (!r.exact) assert.equal(r.recordIndex, r.latest, 'an approximate position is the latest point');
      }
    });
  });

  test('records dropped while the pipe is being set up (after the FLUSH, before the first read) are reported too', async () => {
    await withModel({ seed: 24 }, async (model) => {
      // records keep coming while the source sets the pipe up: at qlimit 8 each model batch (32) overflows the queue
      const load = model.run([{ type: 'steady', rate: 200_000, seconds: 0.5 }]);
      await new Promise((r) => setTimeout(r, 50));
      const src = await openPipeSource({ device: { endpoint: model.info.endpoint }, qlimit: 8 });
      const c = collect(src);
      await load;
      const t = await pipeTruth(model);
      const total = t.dropsByReason.qlimit + t.dropsByReason.alloc;
      await until(() => c.records.length >= t.queued.length && (src.counters?.dropsSinceFlush ?? 0) >= total, 'the records and the drops');
      await src.close();
      await c.done;
      assertSameRecords(c, t.queued);
      const reported = c.losses.reduce((n, l) => n + l.records, 0);
      // every drop after the FLUSH is reported; a drop in the one system call before it may be counted as well
      assert.ok(reported >= total, `reported ${reported} of the ${total} records dropped after the FLUSH`);
      const sinceOpen = t.truth.records.filter((r) => r.pipes.some((p) => p.pipe === t.pipe && (p.outcome === 'qlimit' || p.outcome === 'alloc'))).length;
      assert.ok(reported <= sinceOpen, `reported ${reported}, dropped since the open ${sinceOpen}`);
      assert.equal(src.counters?.dropsSinceFlush, reported);
    });
  });

  test('the 32-bit counters wrap: deltas across 2^32 are counted right', async () => {
    await withModel({ seed: 23, counterBase: 2 ** 32 - 2000 }, async (model) => {
      const src = await openPipeSource({ device: { endpoint: model.info.endpoint } });
      const c = collect(src);
      await model.generate(6000); // 1024 queued, 4976 dropped: the drops counter passes 2^32
      const t = await pipeTruth(model);
      await until(() => c.losses.length > 0 && c.records.length >= t.queued.length, 'the drop');
      await src.close();
      await c.done;
      assert.ok((src.counters?.drops ?? Infinity) < 2 ** 32 - 2000, 'the raw counter wrapped');
      assert.deepEqual(c.losses.map((l) => ({ recordIndex: l.recordIndex, offset: l.offset, records: l.records })), t.drops);
    });
  });
});

describe('pipe preselection', () => {
  test('LOCAL mode: flags, naflags and per-auid masks from class expressions; user records always come', async () => {
    // The trail selects nothing: what reaches the pipe is the pipe's own choice (or a user record).
    await withModel({ seed: 31, flags: '', naflags: '' }, async (model) => {
      const src = await openPipeSource({
        device: { endpoint: model.info.endpoint },
        preselect: { flags: 'fc,fd', naflags: 'ex', auids: [{ auid: 501, flags: 'pc' }] },
      });
      assert.equal(src.drain.baseline.mode, 'local');
      const c = collect(src);
      await model.generate(4000);
      const t = await pipeTruth(model);
      await until(() => c.records.length >= t.queued.length, 'the queued records');
      await src.close();
      await c.done;
      assertSameRecords(c, t.queued);
      assert.ok(t.notSelected > 1000, 'the masks left most records out');
      // check each selected record against the masks, with the model's event→class map
      const bySeq = new Map(t.truth.records.map((r) => [r.seq, r]));
      const classOf = (ev: number): number => EVENT_CLASS.get(ev) ?? 0;
      let kernelSelected = 0;
      let users = 0;
      for (const q of t.queued) {
        const r = bySeq.get(q.seq)!;
        if (r.kind === 'user') {
          users++;
          continue;
        }
        kernelSelected++;
        const mask = r.auid === 501 ? AuditClass.pc : r.auid === 0xffffffff ? AuditClass.ex : AuditClass.fc | AuditClass.fd;
        assert.ok((classOf(r.event) & mask) !== 0, `event ${r.event} (auid ${r.auid}) selected by the pipe's masks`);
      }
      assert.ok(kernelSelected > 50 && users > 5, `kernel ${kernelSelected}, user ${users}`);
      for (const r of t.truth.records) {
        const o = r.pipes.find((p) => p.pipe === t.pipe);
        if (o?.outcome !== 'not-selected') continue;
        assert.equal(r.kind === 'user', false, 'user records are never left out');
      }
    });
  });

  test('an unknown class name is a setup error naming it, and the pipe is closed', async () => {
    await withModel({ seed: 32 }, async (model) => {
      await assert.rejects(
        openPipeSource({ device: { endpoint: model.info.endpoint }, preselect: { flags: 'lo,nosuch' } }),
        (err: unknown) => err instanceof BsmkitError && /nosuch/.test(err.message),
      );
      const s = await model.summary();
      assert.deepEqual(s.pipes, [], 'no pipe left open');
    });
  });
});

describe('pipe shutdown', () => {
  test('EINTR on a blocked read is retried without losing anything; close() ends a blocked read', async () => {
    await withModel({ seed: 41 }, async (model) => {
      const src = await openPipeSource({ device: { endpoint: model.info.endpoint } });
      const c = collect(src);
      let interrupted = 0;
      // the drain thread is blocked in read(): interrupt it (a signal) a few times
      for (let i = 0; i < 3; i++) {
        const deadline = Date.now() + 5000;
        let n = 0;
        while (n === 0 && Date.now() < deadline) {
          n = await model.interrupt();
          if (n === 0) await new Promise((r) => setTimeout(r, 5));
        }
        interrupted += n;
      }
      assert.equal(interrupted, 3);
      await model.generate(200);
      const t = await pipeTruth(model);
      await until(() => c.records.length >= t.queued.length, 'records after the interrupts');
      assert.equal(src.counters?.interrupted, 3);
      // now blocked again, with nothing coming: close() must still end it
      await src.close();
      await c.done;
      assert.equal(c.error, undefined);
      assertSameRecords(c, t.queued);
      const s = await model.summary();
      assert.deepEqual(s.pipes, [], 'the pipe was closed in the model');
    });
  });

  test('an AbortSignal ends the iteration and closes the pipe', async () => {
    await withModel({ seed: 42 }, async (model) => {
      const ac = new AbortController();
      const src = await openPipeSource({ device: { endpoint: model.info.endpoint }, signal: ac.signal });
      const c = collect(src);
      await model.generate(100);
      await until(() => c.records.length >= 100, 'records');
      ac.abort();
      await c.done;
      assert.equal(c.error, undefined);
      const s = await model.summary();
      assert.deepEqual(s.pipes, []);
    });
  });

  test('the model going away ends the source with an error saying so', async () => {
    const model = await startKernelModel({ seed: 43 });
    const src = await openPipeSource({ device: { endpoint: model.info.endpoint } });
    const c = collect(src);
    await model.generate(50);
    await until(() => c.records.length >= 50, 'records');
    await model.kill();
    await c.done;
    assert.ok(c.error instanceof BsmkitError, 'an error');
    assert.match((c.error as Error).message, /went away|ENXIO|EIO/);
    assert.equal(c.records.length, 50, 'everything before it was delivered');
    await src.close();
    rmSync(model.info.endpoint, { recursive: true, force: true });
  });
});

describe('pipe drain thread', () => {
  test('a busy main thread (500 ms synchronous spin) does not cause drops at a rate the thread drains', async () => {
    await withModel({ seed: 51 }, async (model) => {
      const src = await openPipeSource({ device: { endpoint: model.info.endpoint } });
      const c = collect(src);
      // 4,000 records/s: the 500 ms spin spans about 2,000 records, twice the queue, so the kernel queue alone
      // could not absorb it; the rate is low enough that a thread starved by other processes still keeps up.
      const run = model.run([{ type: 'steady', rate: 4000, seconds: 1.5 }]);
      await new Promise((r) => setTimeout(r, 300));
      const before = src.counters?.recordsRead ?? 0;
      const end = Date.now() + 500;
      while (Date.now() < end) {
        /* the main thread is busy: nothing here consumes */
      }
      // what the drain thread handed over while this thread could not look (counters of the latest batch)
      await new Promise((r) => setImmediate(r));
      const recordsDuringSpin = (src.counters?.recordsRead ?? 0) - before;
      await run;
      const t = await pipeTruth(model);
      await until(() => c.records.length >= t.queued.length, 'all records');
      await src.close();
      await c.done;
      assert.ok(t.queued.length > 5000, `records generated (${t.queued.length})`);
      assert.ok(recordsDuringSpin > 1024, `more records arrived during the spin than the queue holds (${recordsDuringSpin})`);
      assert.deepEqual(t.drops, [], 'the kernel model dropped nothing');
      assert.deepEqual(c.losses, []);
      assertSameRecords(c, t.queued);
    });
  });

  test('at the memory cap the thread stops reading: the kernel drops, and the drops are reported', async () => {
    await withModel({ seed: 52 }, async (model) => {
      const drain = await openPipeDrain({ device: { endpoint: model.info.endpoint }, batchBytes: 65536, maxBufferedBytes: 131072 });
      // nobody consumes while 40 bursts arrive
      for (let i = 0; i < 40; i++) await model.generate(1000);
      const t = await pipeTruth(model);
      assert.ok(t.dropsByReason.qlimit > 0, 'the kernel dropped while the thread was stalled');
      let bytes = 0;
      let dropped = 0;
      let records = 0;
      for await (const b of drain) {
        bytes += b.length;
        records = b.counters.recordsRead;
        for (const d of b.drops) dropped += d.records;
        if (records >= t.queued.length && dropped >= t.dropsByReason.qlimit) break;
      }
      assert.ok((drain.counters?.stalls ?? 0) > 0, 'the thread stalled at the cap');
      assert.equal(records, t.queued.length);
      assert.equal(bytes, t.queued.reduce((n, q) => n + q.length, 0));
      assert.equal(dropped, t.dropsByReason.qlimit);
      await drain.close();
    });
  });
});

/** The model's event→class map for the events the workload uses (audit_event). */
const EVENT_CLASS = new Map<number, number>();
before(async () => {
  const { EventClassMap } = await import('../../src/testing/kernel-model/event-classes.js');
  const m = new EventClassMap();
  for (let ev = 0; ev < 65536; ev++) {
    const cls = m.classOf(ev);
    if (cls) EVENT_CLASS.set(ev, cls);
  }
});
