/**
 * The kernel model's pipes, point by point against kernel-audit-pipe.md §3–§8, §10, §12, §18. Every test drives the
 * real model process through SimulatedPipeDevice; the device calls run in this thread where the wait is bounded
 * (the model commits records before emit() resolves) and on a worker thread where a read must block.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { decodeAll } from '../../src/format/read-file.js';
import {
  AUDITPIPE,
  DeviceError,
  ioctlGetCounter,
  ioctlGetMask,
  ioctlGetU32,
  ioctlSetAuidMask,
  ioctlSetMask,
  ioctlSetU32,
  isErrno,
  PRESELECT_MODE,
  type AuditPipeDevice,
} from '../../src/sources/pipe/device.js';
import { AuditClass as C, AuditEvent, readGroundTruth, startKernelModel, type KernelModel } from '../../src/testing/kernel-model/index.js';

/** The ground-truth sequence number the model writes into each record's subject terminal port. */
function seqsOf(bytes: Buffer): number[] {
  const { records, diagnostics } = decodeAll(bytes);
  assert.equal(diagnostics.length, 0, 'pipe stream frames cleanly');
  return records.map((r) => {
    const s = r.tokens.find((t) => t.type === 'subject32' || t.type === 'subject32_ex');
    assert.ok(s && 'port' in s, 'record has a subject');
    return Number(s.port);
  });
}

/** Reads everything queued now (FIONREAD bytes), with reads of at most `chunk` bytes. */
function drain(dev: AuditPipeDevice, chunk = 1 << 20): Buffer {
  const parts: Buffer[] = [];
  const buf = Buffer.alloc(chunk);
  while (ioctlGetU32(dev, AUDITPIPE.FIONREAD) > 0) {
    const n = dev.readSync(buf, 0, chunk);
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(parts);
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function throwsErrno(fn: () => unknown, errno: string): void {
  assert.throws(fn, (err: unknown) => err instanceof DeviceError && isErrno(err, errno), `expected ${errno}`);
}

function currentTrail(model: KernelModel): Buffer {
  return readFileSync(model.info.currentLink);
}

describe('kernel model pipes (FreeBSD personality)', () => {
  let model: KernelModel;
  before(async () => {
    model = await startKernelModel({ personality: 'freebsd', seed: 11 });
  });
  after(async () => {
    await model.stop();
  });

  test('each open is an independent pipe: TRAIL mode, qlimit 128, empty, counters 0 (§3)', async () => {
    const a = model.openPipe();
    await model.emit([{ shape: 'open', count: 3 }]);
    const b = model.openPipe();
    assert.equal(ioctlGetU32(b, AUDITPIPE.GET_PRESELECT_MODE), PRESELECT_MODE.TRAIL);
    assert.equal(ioctlGetU32(b, AUDITPIPE.GET_QLIMIT), 128);
    assert.equal(ioctlGetU32(b, AUDITPIPE.GET_QLEN), 0, 'records committed before open are never delivered');
    for (const r of [AUDITPIPE.GET_INSERTS, AUDITPIPE.GET_READS, AUDITPIPE.GET_DROPS, AUDITPIPE.GET_TRUNCATES]) assert.equal(ioctlGetCounter(b, r), 0);
    assert.equal(ioctlGetU32(b, AUDITPIPE.GET_QLIMIT_MIN), 1);
    assert.equal(ioctlGetU32(b, AUDITPIPE.GET_QLIMIT_MAX), 1024);
    assert.equal(ioctlGetU32(b, AUDITPIPE.GET_MAXAUDITDATA), 32767);
    assert.equal(ioctlGetU32(a, AUDITPIPE.GET_QLEN), 3);
    ioctlSetU32(b, AUDITPIPE.SET_QLIMIT, 7);
    assert.equal(ioctlGetU32(a, AUDITPIPE.GET_QLIMIT), 128, 'settings are per pipe');
    a.close();
    b.close();
  });

  test('queue limit: a full queue drops the newest record (tail drop) and counts it (§4, §5)', async () => {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 5);
    const r = await model.emit([{ shape: 'open', count: 8 }]);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLEN), 5);
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_DROPS), 3);
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS), 5);
    assert.deepEqual(seqsOf(drain(dev)), range(r.first, r.first + 4), 'the oldest five stay queued');
    // room again: the next record is queued
    const r2 = await model.emit([{ shape: 'close' }]);
    assert.deepEqual(seqsOf(drain(dev)), [r2.first]);
    dev.close();
  });

  test('NOWAIT allocation failures drop records and count them (§5 steps 2–3)', async () => {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 1024);
    await model.setAllocFailRate(0.25);
    const r = await model.generate(1000);
    await model.setAllocFailRate(0);
    await model.sync();
    const drops = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS);
    const inserts = ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS);
    assert.ok(drops > 150 && drops < 350, `about a quarter dropped, got ${drops}`);
    assert.equal(drops + inserts, r.last - r.first + 1, 'every record was offered to the TRAIL pipe');
    const truth = readGroundTruth(model.info.truthDir).records.filter((t) => t.seq >= r.first && t.seq <= r.last);
    assert.ok(truth.every((t) => t.pipes.length === 1), 'one pipe open');
    assert.equal(truth.filter((t) => t.pipes[0]!.outcome === 'alloc').length, drops, 'every drop is an allocation failure in the ground truth');
    assert.ok(truth.every((t) => t.trail.fate === 'written'), 'the trail never drops for a pipe allocation failure');
    const got = seqsOf(drain(dev));
    assert.equal(got.length, inserts);
    dev.close();
  });

  test('read() is a byte stream: partial records across calls; a record leaves the queue only when fully read (§6)', async () => {
    const dev = model.openPipe();
    const r = await model.emit([{ shape: 'execve', count: 3 }]);
    const total = ioctlGetU32(dev, AUDITPIPE.FIONREAD);
    const one = decodeAll(Buffer.from(drainCopy(dev, total))).records;
    assert.equal(one.length, 3);
    const len0 = one[0]!.bytes.length;
    // requeue the same three and read them in small pieces
    await model.emit([{ shape: 'execve', count: 3 }]);
    const buf = Buffer.alloc(10);
    const parts: Buffer[] = [];
    let n = dev.readSync(buf, 0, 10);
    parts.push(Buffer.from(buf.subarray(0, n)));
    assert.equal(n, 10);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLEN), 3, 'a partly read head record still occupies its slot');
    assert.equal(ioctlGetU32(dev, AUDITPIPE.FIONREAD), total - 10, 'FIONREAD = qbyteslen − qoffset');
    const big = Buffer.alloc(len0 - 10 + 5);
    n = dev.readSync(big, 0, big.length);
    parts.push(Buffer.from(big.subarray(0, n)));
    assert.equal(n, len0 - 10 + 5, 'one read continues into the next record');
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLEN), 2, 'the first record left the queue once its last byte was read');
    parts.push(drain(dev, 7));
    const stream = Buffer.concat(parts);
    assert.equal(stream.length, total);
    assert.equal(seqsOf(stream).length, 3);
    assert.ok(r.first > 0);
    dev.close();
  });

  test('reads counter: once per read() call, not per record; EAGAIN does not count (§6, §7)', async () => {
    const dev = model.openPipe();
    await model.emit([{ shape: 'open', count: 20 }]);
    const buf = Buffer.alloc(1 << 20);
    assert.ok(dev.readSync(buf, 0, buf.length) > 0);
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_READS), 1, 'twenty records, one read');
    await model.emit([{ shape: 'open', count: 2 }]);
    dev.readSync(buf, 0, 3);
    dev.readSync(buf, 0, 3);
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_READS), 3);
    drain(dev);
    const reads = ioctlGetCounter(dev, AUDITPIPE.GET_READS);
    ioctlSetU32(dev, AUDITPIPE.FIONBIO, 1);
    throwsErrno(() => dev.readSync(buf, 0, buf.length), 'EAGAIN');
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_READS), reads);
    dev.close();
  });

  test('FLUSH and close discard queued records without counting drops (§3, §5)', async () => {
    const dev = model.openPipe();
    const r = await model.emit([{ shape: 'open', count: 10 }]);
    dev.ioctlSync(AUDITPIPE.FLUSH, Buffer.alloc(0));
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLEN), 0);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.FIONREAD), 0);
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_DROPS), 0);
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS), 10);
    const other = model.openPipe();
    const r2 = await model.emit([{ shape: 'close', count: 4 }]);
    other.close();
    dev.close();
    await model.sync();
    const events = readGroundTruth(model.info.truthDir).events;
    const flush = events.find((e) => e.type === 'pipe-flush' && e.reason === 'ioctl' && (e.seqs as number[])[0] === r.first);
    assert.deepEqual(flush?.seqs, range(r.first, r.last));
    const closed = events.filter((e) => e.type === 'pipe-close' && e.discarded === 4);
    assert.ok(closed.length >= 1, 'close discarded the queued records');
    assert.ok(events.some((e) => e.type === 'pipe-flush' && e.reason === 'close' && (e.seqs as number[])[0] === r2.first));
  });

  test('TRAIL mode gets exactly the trail-selected kernel records; LOCAL mode uses its own masks (§8.1, §8.2)', async () => {
    await model.setTrailMasks({ flags: 'pc', naflags: 'pc' });
    const trailPipe = model.openPipe();
    const local = model.openPipe();
    ioctlSetU32(local, AUDITPIPE.SET_PRESELECT_MODE, PRESELECT_MODE.LOCAL);
    ioctlSetMask(local, AUDITPIPE.SET_PRESELECT_FLAGS, { success: C.fr, failure: C.fr });
    assert.deepEqual(ioctlGetMask(local, AUDITPIPE.GET_PRESELECT_FLAGS), { success: C.fr, failure: C.fr });
    const trailBefore = currentTrail(model).length;
    const r = await model.emit([{ shape: 'open', auid: 501 }, { shape: 'fork', auid: 501 }, { shape: 'exit', auid: 501 }]);
    await model.setTrailMasks({ flags: 'all', naflags: 'all' });
    const open = r.first;
    assert.deepEqual(seqsOf(drain(trailPipe)), [open + 1, open + 2]);
    assert.deepEqual(seqsOf(drain(local)), [open], 'a LOCAL pipe sees a record the trail does not record');
    const trailNow = currentTrail(model);
    assert.deepEqual(seqsOf(trailNow.subarray(trailBefore)), [open + 1, open + 2]);
    await model.sync();
    const t = readGroundTruth(model.info.truthDir).records.find((x) => x.seq === open)!;
    assert.equal(t.trail.fate, 'not-selected');
    assert.ok(t.bytes && seqsOf(t.bytes)[0] === open, 'the truth keeps the bytes of a pipe-only record');
    trailPipe.close();
    local.close();
  });

  test('LOCAL preselection: per-auid mask first, else naflags for auid −1 and flags otherwise, on the real outcome (§8.1)', async () => {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_PRESELECT_MODE, PRESELECT_MODE.LOCAL);
    ioctlSetMask(dev, AUDITPIPE.SET_PRESELECT_FLAGS, { success: C.fr, failure: 0 });
    ioctlSetMask(dev, AUDITPIPE.SET_PRESELECT_NAFLAGS, { success: C.nt, failure: C.nt });
    ioctlSetAuidMask(dev, 502, { success: C.pc, failure: C.pc });
    const r = await model.emit([
      { shape: 'open', auid: 501, failed: false }, // +0 selected by flags (success side)
      { shape: 'open', auid: 501, failed: true }, // +1 failure side of flags is empty
      { shape: 'fork', auid: 501 }, // +2 pc not in flags
      { shape: 'open', auid: 502 }, // +3 auid 502 has its own mask (pc only)
      { shape: 'fork', auid: 502 }, // +4 selected by the per-auid mask
      { shape: 'connect', auid: 0xffffffff }, // +5 naflags (nt)
      { shape: 'open', auid: 0xffffffff }, // +6 fr is not in naflags
    ]);
    assert.deepEqual(seqsOf(drain(dev)), [r.first, r.first + 4, r.first + 5]);
    throwsErrno(() => dev.ioctlSync(AUDITPIPE.DELETE_PRESELECT_AUID, Buffer.from([7, 0, 0, 0])), 'ENOENT');
    dev.ioctlSync(AUDITPIPE.DELETE_PRESELECT_AUID, Buffer.from([246, 1, 0, 0]));
    const r2 = await model.emit([{ shape: 'open', auid: 502 }]);
    assert.deepEqual(seqsOf(drain(dev)), [r2.first], 'without its entry auid 502 falls back to flags');
    dev.close();
  });

  test('the event→class map decides classes, and A_SETCLASS changes it (§8.1, §9)', async () => {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_PRESELECT_MODE, PRESELECT_MODE.LOCAL);
    ioctlSetMask(dev, AUDITPIPE.SET_PRESELECT_FLAGS, { success: 0x00400000, failure: 0x00400000 });
    const r1 = await model.emit([{ shape: 'unlink' }]);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLEN), 0);
    await model.setEventClass(AuditEvent.UNLINK, C.fd | 0x00400000);
    const r2 = await model.emit([{ shape: 'unlink' }]);
    await model.setEventClass(AuditEvent.UNLINK, C.fd);
    assert.deepEqual(seqsOf(drain(dev)), [r2.first]);
    assert.ok(r1.first < r2.first);
    dev.close();
  });

  test('user-space records go to every pipe whatever its mode and masks, and always to the trail (§8.4)', async () => {
    await model.setTrailMasks({ flags: '', naflags: '' });
    const trailPipe = model.openPipe();
    const local = model.openPipe();
    ioctlSetU32(local, AUDITPIPE.SET_PRESELECT_MODE, PRESELECT_MODE.LOCAL);
    const before = currentTrail(model).length;
    const r = await model.emit([{ shape: 'login' }, { shape: 'open' }, { shape: 'sudo' }]);
    await model.setTrailMasks({ flags: 'all', naflags: 'all' });
    assert.deepEqual(seqsOf(drain(trailPipe)), [r.first, r.first + 2]);
    assert.deepEqual(seqsOf(drain(local)), [r.first, r.first + 2]);
    assert.deepEqual(seqsOf(currentTrail(model).subarray(before)), [r.first, r.first + 2]);
    trailPipe.close();
    local.close();
  });

  test('audit disabled: no records anywhere, neither trail nor pipes (§8.3)', async () => {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_PRESELECT_MODE, PRESELECT_MODE.LOCAL);
    ioctlSetMask(dev, AUDITPIPE.SET_PRESELECT_FLAGS, { success: 0xffffffff, failure: 0xffffffff });
    const before = currentTrail(model).length;
    await model.setAudit(false);
    const r = await model.emit([{ shape: 'open' }, { shape: 'login' }, { shape: 'fork' }]);
    await model.setAudit(true);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.FIONREAD), 0);
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_DROPS), 0);
    assert.equal(currentTrail(model).length, before);
    await model.sync();
    const t = readGroundTruth(model.info.truthDir).records.filter((x) => x.seq >= r.first && x.seq <= r.last);
    assert.deepEqual(t.map((x) => x.trail.fate), ['disabled', 'disabled', 'disabled']);
    dev.close();
  });

  test('trail first, then pipes: a TRAIL pipe is an ordered, byte-identical subsequence of the trail (§2, §12)', async () => {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 64);
    const trail0 = currentTrail(model).length;
    const buf = Buffer.alloc(8192);
    const got: Buffer[] = [];
    for (let round = 0; round < 20; round++) {
      await model.generate(200);
      // whatever a read returns is already in the trail file
      const n = dev.readSync(buf, 0, buf.length);
      got.push(Buffer.from(buf.subarray(0, n)));
      const trailNow = currentTrail(model);
      const pipeSoFar = decodeAll(Buffer.concat(got)).records;
      const lastComplete = pipeSoFar.at(-1);
      if (lastComplete) assert.ok(trailNow.includes(lastComplete.bytes), 'read record is in the trail');
    }
    got.push(drain(dev));
    const pipeRecs = decodeAll(Buffer.concat(got)).records.map((r) => r.bytes);
    const trailRecs = decodeAll(currentTrail(model).subarray(trail0)).records.map((r) => r.bytes);
    assert.ok(ioctlGetCounter(dev, AUDITPIPE.GET_DROPS) > 0, 'the small queue dropped records');
    let j = 0;
    for (const p of pipeRecs) {
      while (j < trailRecs.length && !trailRecs[j]!.equals(p)) j++;
      assert.ok(j < trailRecs.length, 'pipe record found in order in the trail');
      j++;
    }
    assert.equal(pipeRecs.length + ioctlGetCounter(dev, AUDITPIPE.GET_DROPS), trailRecs.length);
    dev.close();
  });

  test('a blocking read waits for the next record; a signal interrupts it with EINTR (§6, §7)', async () => {
    // The blocking side runs on a worker thread, as a collector's drain thread would.
    const code = `
      import { parentPort, workerData } from 'node:worker_threads';
      const { register } = await import(workerData.tsx);
      register();
      const { SimulatedPipeDevice } = await import(workerData.mod);
      const dev = SimulatedPipeDevice.open(workerData.endpoint);
      parentPort.postMessage({ opened: true });
      const buf = Buffer.alloc(65536);
      const out = [];
      for (let i = 0; i < 2; i++) {
        try { out.push({ n: dev.readSync(buf, 0, buf.length) }); } catch (e) { out.push({ err: e.code }); }
        parentPort.postMessage({ step: i });
      }
      dev.close();
      parentPort.postMessage({ done: out });
    `;
    const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(code)), {
      workerData: {
        endpoint: model.info.endpoint,
        tsx: import.meta.resolve('tsx/esm/api'),
        mod: new URL('../../src/sources/pipe/simulated-device.ts', import.meta.url).href,
      },
    });
    const messages: Array<Record<string, unknown>> = [];
    const next = (): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        w.once('message', (m: Record<string, unknown>) => {
          messages.push(m);
          resolve(m);
        });
        w.once('error', reject);
      });
    assert.deepEqual(await next(), { opened: true });
    // the worker is now blocked in readSync: nothing is queued for its pipe
    await new Promise((r) => setTimeout(r, 100));
    const step0 = next();
    await model.emit([{ shape: 'fork' }]);
    assert.deepEqual(await step0, { step: 0 });
    await new Promise((r) => setTimeout(r, 100));
    const step1 = next();
    let interrupted = 0;
    for (let i = 0; i < 50 && interrupted === 0; i++) {
      interrupted = await model.interrupt();
      if (interrupted === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(interrupted, 1);
    await step1;
    const done = await next();
    const out = done.done as Array<{ n?: number; err?: string }>;
    assert.ok((out[0]!.n ?? 0) > 0, 'the blocked read returned the new record');
    assert.equal(out[1]!.err, 'EINTR');
    await w.terminate();
  });

  test('FreeBSD personality: SET_QLIMIT outside [1, 1024] is EINVAL; no cap on the number of pipes (§4, §3)', () => {
    const dev = model.openPipe();
    throwsErrno(() => ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 0), 'EINVAL');
    throwsErrno(() => ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 1025), 'EINVAL');
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 1);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT), 1);
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 1024);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT), 1024);
    const many = Array.from({ length: 40 }, () => model.openPipe());
    for (const d of many) d.close();
    dev.close();
  });

  test('ioctl errors and quirks: ENOTTY, EINVAL mode, GET_PRESELECT_AUID always asks about auid 0 (§10)', () => {
    const dev = model.openPipe();
    throwsErrno(() => dev.ioctlSync(0x40044199, Buffer.alloc(4)), 'ENOTTY');
    throwsErrno(() => ioctlSetU32(dev, AUDITPIPE.SET_PRESELECT_MODE, 3), 'EINVAL');
    ioctlSetAuidMask(dev, 501, { success: C.lo, failure: C.lo });
    const q = Buffer.alloc(12);
    q.writeUInt32LE(501, 0);
    throwsErrno(() => dev.ioctlSync(AUDITPIPE.GET_PRESELECT_AUID, q), 'ENOENT');
    ioctlSetAuidMask(dev, 0, { success: C.ad, failure: C.aa });
    dev.ioctlSync(AUDITPIPE.GET_PRESELECT_AUID, q);
    assert.deepEqual([q.readUInt32LE(0), q.readUInt32LE(4), q.readUInt32LE(8)], [0, C.ad, C.aa]);
    dev.ioctlSync(AUDITPIPE.FLUSH_PRESELECT_AUID, Buffer.alloc(0));
    throwsErrno(() => dev.ioctlSync(AUDITPIPE.GET_PRESELECT_AUID, Buffer.alloc(12)), 'ENOENT');
    dev.close();
    throwsErrno(() => dev.readSync(Buffer.alloc(4), 0, 4), 'EBADF');
  });

  test('trail write error: the record is lost from the trail and still delivered to the pipes (§11.3, §12)', async () => {
    const dev = model.openPipe();
    const before = currentTrail(model).length;
    await model.injectTrailFault('eio');
    const r = await model.emit([{ shape: 'open', count: 3 }]);
    assert.deepEqual(seqsOf(drain(dev)), range(r.first, r.last));
    assert.deepEqual(seqsOf(currentTrail(model).subarray(before)), [r.first + 1, r.first + 2]);
    await model.sync();
    const t = readGroundTruth(model.info.truthDir).records.find((x) => x.seq === r.first)!;
    assert.equal(t.trail.fate, 'write-error');
    dev.close();
  });
});

describe('kernel model pipes (XNU personality)', () => {
  let model: KernelModel;
  before(async () => {
    model = await startKernelModel({ personality: 'xnu', seed: 5, counterBase: 2 ** 32 - 3 });
  });
  after(async () => {
    await model.stop();
  });

  test('statistics are 32-bit: an 8-byte buffer whose low half wraps at 2^32 (§10)', async () => {
    const dev = model.openPipe();
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS), 2 ** 32 - 3);
    await model.emit([{ shape: 'open', count: 5 }]);
    const arg = Buffer.alloc(8, 0xff);
    dev.ioctlSync(AUDITPIPE.GET_INSERTS, arg);
    assert.equal(arg.readUInt32LE(0), 2, '2^32 − 3 + 5 wraps to 2');
    assert.equal(arg.readUInt32LE(4), 0, 'upper half zeroed');
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 5);
    await model.emit([{ shape: 'open', count: 4 }]);
    assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_DROPS), 1, '(2^32 − 3 + 4) mod 2^32');
    dev.close();
  });

  test('XNU personality: SET_QLIMIT accepts any value, 0 drops everything, > 1024 is kept (§4)', async () => {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 0);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT), 0);
    await model.emit([{ shape: 'open', count: 3 }]);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLEN), 0);
    assert.equal((ioctlGetCounter(dev, AUDITPIPE.GET_DROPS) - (2 ** 32 - 3) + 2 ** 32) % 2 ** 32, 3);
    ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 5000);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT), 5000);
    assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT_MAX), 1024, 'GET_QLIMIT_MAX still says 1024');
    await model.generate(3000);
    assert.ok(ioctlGetU32(dev, AUDITPIPE.GET_QLEN) > 1024);
    dev.close();
  });

  test('XNU personality: the 33rd concurrent open fails with EBUSY; closing one frees a slot (§3)', () => {
    const open = Array.from({ length: 32 }, () => model.openPipe());
    throwsErrno(() => model.openPipe(), 'EBUSY');
    open.pop()!.close();
    const again = model.openPipe();
    again.close();
    for (const d of open) d.close();
  });

  test('XNU: records carry the identity token; session events still flow while audit is off (§5.7, §8.3)', async () => {
    const dev = model.openPipe();
    ioctlSetU32(dev, AUDITPIPE.SET_PRESELECT_MODE, PRESELECT_MODE.LOCAL);
    ioctlSetMask(dev, AUDITPIPE.SET_PRESELECT_FLAGS, { success: 0xffffffff, failure: 0xffffffff });
    const r = await model.emit([{ shape: 'open' }]);
    const recs = decodeAll(drain(dev)).records;
    assert.equal(recs.length, 1);
    assert.deepEqual(recs[0]!.tokens.slice(-3).map((t) => t.type), ['return32', 'identity', 'trailer']);
    await model.setAudit(false);
    const r2 = await model.emit([{ shape: 'open' }, { shape: 'session' }, { shape: 'login' }]);
    await model.setAudit(true);
    assert.deepEqual(seqsOf(drain(dev)), [r2.first + 1]);
    assert.ok(r.first < r2.first);
    dev.close();
  });
});

function drainCopy(dev: AuditPipeDevice, n: number): Buffer {
  const b = Buffer.alloc(n);
  let got = 0;
  while (got < n) got += dev.readSync(b, got, n - got);
  return b;
}

test('an endpoint directory start() made itself is removed when the process exits; a given one is kept', () => {
  const src = new URL('../../src/testing/kernel-model/index.ts', import.meta.url).href;
  const given = mkdtempSync(join(tmpdir(), 'bsmkit-given-'));
  try {
    const script = `import { startKernelModel } from ${JSON.stringify(src)};
      const a = await startKernelModel({ seed: 1 });
      const b = await startKernelModel({ seed: 1, endpoint: ${JSON.stringify(join(given, 'model'))} });
      await a.generate(10); await a.stop(); await b.stop();
      console.log(a.info.endpoint);`;
    const made = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
    assert.match(made, /bsmkit-model-/);
    assert.equal(existsSync(made), false, `${made} removed`);
    assert.ok(existsSync(join(given, 'model', 'trail')), 'the given endpoint is kept');
  } finally {
    rmSync(given, { recursive: true, force: true });
  }
});
