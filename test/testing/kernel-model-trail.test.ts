/**
 * The kernel model's trail and auditd against kernel-audit-pipe.md §11, §13 and §18: naming and rotation, the
 * `current` symlink, crash recovery, expire-after, several dirs, ENOSPC suspension, the sleep/wake overflow, and the
 * ground truth agreeing with the files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { decodeAll } from '../../src/format/read-file.js';
import { AUDITPIPE, ioctlGetCounter, ioctlGetU32, ioctlSetU32 } from '../../src/sources/pipe/device.js';
import { AuditEvent, readGroundTruth, startKernelModel, trailTimestamp } from '../../src/testing/kernel-model/index.js';

const T0 = Date.UTC(2025, 4, 17, 9, 30, 0); // 20250517093000

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'bsmkit-km-trail-'));
}

function trailFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => /^\d{14}\./.test(n)).sort();
}

function seqsOf(bytes: Buffer): number[] {
  const { records, diagnostics } = decodeAll(bytes);
  assert.equal(diagnostics.length, 0);
  return records.map((r) => {
    const s = r.tokens.find((t) => t.type === 'subject32' || t.type === 'subject32_ex');
    return s && 'port' in s ? Number(s.port) : -1;
  });
}

test('trail naming and rotation: START.not_terminated → START.END, current follows, same second skipped (§13.1, §13.2)', async () => {
  const dir = tmp();
  const model = await startKernelModel({ endpoint: join(dir, 'ep'), trailDirs: [join(dir, 'trail')], startTime: T0, clock: 'manual' });
  const trail = join(dir, 'trail');
  assert.deepEqual(trailFiles(trail), ['20250517093000.not_terminated']);
  assert.equal(readlinkSync(join(trail, 'current')), join(trail, '20250517093000.not_terminated'));
  await model.generate(50);
  assert.equal(await model.rotate(), false, 'a rotation within the same second is skipped');
  await model.advanceClock(61_000);
  assert.equal(await model.rotate(), true);
  assert.deepEqual(trailFiles(trail), ['20250517093000.20250517093101', '20250517093101.not_terminated']);
  assert.equal(readlinkSync(join(trail, 'current')), join(trail, '20250517093101.not_terminated'));
  await model.generate(10);
  await model.stop();
  const files = trailFiles(trail);
  assert.equal(files.length, 2);
  assert.match(files[1]!, /^20250517093101\.2025051709310[12]$/, 'audit -t terminates the active file');
  assert.equal(existsSync(join(trail, 'current')), false, 'audit -t removes current');
  // every record lies whole in one file: each file frames cleanly and the startup/shutdown records are there
  const first = decodeAll(readFileSync(join(trail, files[0]!)));
  const second = decodeAll(readFileSync(join(trail, files[1]!)));
  assert.equal(first.diagnostics.length + second.diagnostics.length, 0);
  assert.equal(first.records[0]!.header!.event, AuditEvent.AUDIT_STARTUP);
  assert.equal(second.records.at(-1)!.header!.event, AuditEvent.AUDIT_SHUTDOWN);
  assert.equal(trailTimestamp(T0), '20250517093000');
});

test('rotation by filesz; the ground truth places every record at its file and offset (§11.3 check 3, §12)', async () => {
  const dir = tmp();
  const model = await startKernelModel({ endpoint: join(dir, 'ep'), trailDirs: [join(dir, 'trail')], filesz: 64 * 1024, startTime: T0, clock: 'manual' });
  for (let i = 0; i < 12; i++) {
    await model.generate(500);
    await model.advanceClock(1000);
  }
  await model.stop();
  const trail = join(dir, 'trail');
  const files = trailFiles(trail);
  assert.ok(files.length >= 5, `several files, got ${files.length}`);
  const truth = readGroundTruth(model.info.truthDir);
  const bytesOf = new Map(files.map((f) => [join(trail, f), readFileSync(join(trail, f))]));
  let checked = 0;
  for (const r of truth.records) {
    assert.equal(r.trail.fate, 'written');
    const file = bytesOf.get(r.trail.file!);
    assert.ok(file, `record ${r.seq} is in a file that exists: ${r.trail.file}`);
    const rec = decodeAll(file.subarray(r.trail.offset!, r.trail.offset! + r.length)).records;
    assert.equal(rec.length, 1);
    assert.equal(rec[0]!.intact, true);
    checked++;
  }
  assert.equal(checked, [...bytesOf.values()].reduce((n, b) => n + decodeAll(b).records.length, 0));
  for (const f of files.slice(0, -1)) assert.ok(bytesOf.get(join(trail, f))!.length >= 64 * 1024, 'rotation only after filesz was reached');
});

test('`current` is briefly absent during a rotation (§13.2)', async () => {
  const dir = tmp();
  const model = await startKernelModel({ endpoint: join(dir, 'ep'), trailDirs: [join(dir, 'trail')], symlinkGapMs: 400, startTime: T0, clock: 'manual' });
  const current = join(dir, 'trail', 'current');
  await model.advanceClock(5000);
  assert.equal(await model.rotate(), true);
  assert.throws(() => lstatSync(current), /ENOENT/);
  // the kernel already writes to the new file while current is missing
  await model.generate(20);
  const files = trailFiles(join(dir, 'trail'));
  assert.equal(files.at(-1), '20250517093005.not_terminated');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(readlinkSync(current), join(dir, 'trail', '20250517093005.not_terminated'));
  await model.stop();
});

test('crash and restart: the orphaned file becomes *.crash_recovery and a recovery record is written (§13.2)', async () => {
  const dir = tmp();
  const trail = join(dir, 'trail');
  const m1 = await startKernelModel({ endpoint: join(dir, 'ep1'), trailDirs: [trail], startTime: T0, clock: 'manual' });
  await m1.generate(300);
  await m1.kill();
  assert.deepEqual(trailFiles(trail), ['20250517093000.not_terminated']);
  assert.equal(readlinkSync(join(trail, 'current')), join(trail, '20250517093000.not_terminated'), 'current still points at it');
  const crashed = readFileSync(join(trail, '20250517093000.not_terminated'));

  const m2 = await startKernelModel({ endpoint: join(dir, 'ep2'), trailDirs: [trail], startTime: T0 + 3_600_000, clock: 'manual' });
  const dev = m2.openPipe();
  await m2.emit([{ shape: 'open' }]);
  assert.deepEqual(trailFiles(trail), ['20250517093000.crash_recovery', '20250517103000.not_terminated']);
  assert.deepEqual(readFileSync(join(trail, '20250517093000.crash_recovery')), crashed, 'the recovered file is left as it was');
  const recs = decodeAll(readFileSync(join(trail, '20250517103000.not_terminated'))).records;
  assert.equal(recs[0]!.header!.event, AuditEvent.AUDIT_RECOVERY);
  const path = recs[0]!.tokens.find((t) => t.type === 'path');
  assert.ok(path && 'path' in path && path.path.toString().startsWith(join(trail, '20250517093000.crash_recovery')));
  assert.equal(recs[1]!.header!.event, AuditEvent.AUDIT_STARTUP);
  assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLEN), 1, 'the pipe opened after startup sees only later records');
  dev.close();
  await m2.stop();
});

test('expire-after removes the oldest terminated trails, never the active one (§13.4)', async () => {
  const dir = tmp();
  const trail = join(dir, 'trail');
  const model = await startKernelModel({ endpoint: join(dir, 'ep'), trailDirs: [trail], expireAfter: { bytes: 150_000 }, startTime: T0, clock: 'manual' });
  for (let i = 0; i < 8; i++) {
    await model.generate(400);
    await model.advanceClock(1000);
    assert.equal(await model.rotate(), true);
  }
  const files = trailFiles(trail);
  const total = files.reduce((n, f) => n + readFileSync(join(trail, f)).length, 0);
  assert.ok(total <= 150_000 + 80_000, `expiry keeps the total near the limit (${total})`);
  assert.ok(files.at(-1)!.endsWith('.not_terminated'));
  await model.sync();
  const expired = readGroundTruth(model.info.truthDir).events.filter((e) => e.type === 'expire');
  assert.ok(expired.length >= 2, 'several files expired');
  for (const e of expired) assert.equal(existsSync(String(e.path)), false);
  // oldest first: the first file created is among the expired ones
  assert.equal(basename(String(expired[0]!.path)).slice(0, 14), '20250517093000');
  await model.stop();
});

test('ENOSPC suspends audit for the trail and every pipe until auditd rotates to the next dir (§11.3, §8.3)', async () => {
  const dir = tmp();
  const d1 = join(dir, 'a');
  const d2 = join(dir, 'b');
  const model = await startKernelModel({ endpoint: join(dir, 'ep'), trailDirs: [d1, d2], noSpaceRecoveryMs: null, startTime: T0, clock: 'manual' });
  const dev = model.openPipe();
  await model.injectTrailFault('enospc');
  const r = await model.emit([{ shape: 'open', count: 4 }]);
  assert.deepEqual(seqsOf(readPipe(dev)), [r.first], 'the failed write still reaches the pipes; later records reach nothing');
  await model.advanceClock(2000);
  assert.equal(await model.rotate({ nextDir: true, reason: 'no-space' }), true);
  const r2 = await model.emit([{ shape: 'fork' }]);
  assert.deepEqual(seqsOf(readPipe(dev)), [r2.first], 'audit resumes after the rotation');
  assert.deepEqual(trailFiles(d2), ['20250517093002.not_terminated']);
  await model.sync();
  const fates = readGroundTruth(model.info.truthDir).records.filter((x) => x.seq >= r.first && x.seq <= r.last).map((x) => x.trail.fate);
  assert.deepEqual(fates, ['enospc', 'suspended', 'suspended', 'suspended']);
  assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_DROPS), 0, 'suspension is not a pipe drop');
  dev.close();
  await model.stop();
});

test('sleep/wake: tens of thousands of records while no reader runs overflow the pipe; the trail keeps them all (§5, §11.1)', async () => {
  const dir = tmp();
  const model = await startKernelModel({ endpoint: join(dir, 'ep'), trailDirs: [join(dir, 'trail')], seed: 3 });
  const dev = model.openPipe();
  ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, 1024);
  const r = await model.run([{ type: 'sleep-wake', count: 30_000, seconds: 3600 }]);
  const n = r.last - r.first + 1;
  assert.ok(n >= 30_000);
  assert.equal(ioctlGetU32(dev, AUDITPIPE.GET_QLEN), 1024);
  assert.equal(ioctlGetCounter(dev, AUDITPIPE.GET_DROPS), n - 1024);
  const got = seqsOf(readPipe(dev));
  assert.deepEqual(got.slice(0, 3), [r.first, r.first + 1, r.first + 2], 'the oldest records survive (tail drop)');
  await model.stop();
  const truth = readGroundTruth(model.info.truthDir);
  const mine = truth.records.filter((x) => x.seq >= r.first && x.seq <= r.last);
  assert.equal(mine.filter((x) => x.trail.fate === 'written').length, n);
  assert.equal(mine.filter((x) => x.pipes[0]?.outcome === 'qlimit').length, n - 1024);
  const summary = JSON.parse(readFileSync(join(model.info.truthDir, 'summary.json'), 'utf8')) as { counters: Record<string, number> };
  assert.equal(summary.counters.generated, truth.records.length);
  assert.equal(summary.counters.trailWritten, truth.records.filter((x) => x.trail.fate === 'written').length);
});

test('a steady phase is deterministic by seed: the same records in the same order (§18 records)', async () => {
  const run = async (): Promise<Buffer[]> => {
    const dir = tmp();
    const model = await startKernelModel({ endpoint: join(dir, 'ep'), trailDirs: [join(dir, 'trail')], seed: 42, startTime: T0, clock: 'manual' });
    await model.generate(2000);
    await model.stop();
    const files = trailFiles(join(dir, 'trail'));
    return decodeAll(readFileSync(join(dir, 'trail', files[0]!))).records.map((x) => x.bytes);
  };
  const [a, b] = [await run(), await run()];
  assert.equal(a.length, b.length);
  assert.ok(a.every((x, i) => x.equals(b[i]!)));
  const events = new Set(a.map((x) => x.readUInt16BE(6)));
  for (const ev of [AuditEvent.FORK, AuditEvent.EXECVE, AuditEvent.EXIT, AuditEvent.OPEN_R, AuditEvent.CLOSE, AuditEvent.CONNECT]) assert.ok(events.has(ev), `workload has event ${ev}`);
});

function readPipe(dev: import('../../src/sources/pipe/device.js').AuditPipeDevice): Buffer {
  const parts: Buffer[] = [];
  const buf = Buffer.alloc(1 << 20);
  while (ioctlGetU32(dev, AUDITPIPE.FIONREAD) > 0) {
    const n = dev.readSync(buf, 0, buf.length);
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(parts);
}
