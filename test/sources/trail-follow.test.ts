import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { followTrail, type FollowTrailOptions, type TrailFollower, type TrailItem } from '../../src/sources/trail/follow.js';
import type { TrailCursor } from '../../src/sources/trail/cursor.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import { FakeAuditd, makeRecord, recordSeq, rng } from './trail-writer.js';

/** Per-test limit: a follower bug must fail the test, not hang the suite. */
const T = 20_000;

/** Every follower a test opens is closed after it, so a failed or timed-out test leaves no poll timer running. */
const opened = new Set<TrailFollower>();
function follow(opts: FollowTrailOptions): TrailFollower {
  const f = followTrail(opts);
  opened.add(f);
  return f;
}
afterEach(async () => {
  for (const f of opened) await f.close();
  opened.clear();
});

function tmpDirs(n: number): string[] {
  const root = mkdtempSync(join(tmpdir(), 'bsmkit-trail-'));
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = join(root, 'd' + i);
    dirs.push(d);
    mkdirSync(d, { recursive: true });
  }
  return dirs;
}

function summarize(items: TrailItem[]) {
  return {
    seqs: items.filter((i) => i.type === 'record').map((i) => recordSeq((i as { bytes: Buffer }).bytes)),
    diags: items.filter((i) => i.type === 'diagnostic'),
    losses: items.filter((i) => i.type === 'loss'),
    files: items.filter((i) => i.type === 'file').map((i) => `${(i as { phase: string }).phase} ${(i as { meta: { file: string } }).meta.file}`),
  };
}

/** Reads everything a once-follower delivers. */
async function readOnce(opts: Omit<FollowTrailOptions, 'once'>): Promise<TrailItem[]> {
  const out: TrailItem[] = [];
  for await (const it of follow({ ...opts, once: true })) out.push(copy(it));
  return out;
}
function copy(it: TrailItem): TrailItem {
  return it.type === 'record' ? { ...it, bytes: Buffer.from(it.bytes) } : it;
}

/** Writes records 0..n-1, returns their bytes. */
function writeN(d: FakeAuditd, from: number, n: number, size?: (i: number) => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = from; i < from + n; i++) {
    const r = makeRecord(i, size ? size(i) : 40 + (i % 7) * 13);
    d.write(r);
    out.push(r);
  }
  return out;
}

test('once: reads the files of several dirs in name order and holds the active file\'s partial record', { timeout: T }, async () => {
  const dirs = tmpDirs(2);
  const d = new FakeAuditd(dirs);
  d.start();
  writeN(d, 0, 5);
  await d.rotate({ nextDir: true });
  writeN(d, 5, 5);
  await d.rotate({ nextDir: true });
  writeN(d, 10, 5);
  const partial = makeRecord(15, 100);
  d.write(partial.subarray(0, 60));
  const items = await readOnce({ dirs });
  const s = summarize(items);
  assert.deepEqual(s.seqs, [...Array(15).keys()]);
  assert.equal(s.diags.length, 0, 'an active file\'s partial tail is not damage');
  assert.equal(s.losses.length, 0);
  const names = [...readdirSync(dirs[0]), ...readdirSync(dirs[1])].filter((n) => /^\d/.test(n)).sort();
  assert.deepEqual(s.files, [`open ${names[0]}`, `end ${names[0]}`, `open ${names[1]}`, `end ${names[1]}`, `open ${names[2]}`]);
  // Every record's bytes decode intact, offsets and cursors are exact.
  for (const it of items) {
    if (it.type !== 'record') continue;
    const rec = decodeRecord(it.bytes, it.offset);
    assert.ok(rec.intact);
    assert.equal(it.cursor.offset, it.offset + it.bytes.length);
    assert.equal(it.cursor.file, it.meta.file);
  }
  const last = items.filter((i) => i.type === 'record').at(-1)!;
  assert.equal(last.meta.terminated, false);
  assert.equal(last.meta.state, 'not_terminated');
  assert.equal(last.cursor.offset, readFileSync(d.activePath!).length - 60);
});

test('follow: a record split across writes is delivered once complete, never reported as damage', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const d = new FakeAuditd([dir]);
  d.start();
  writeN(d, 0, 2);
  const f = follow({ dirs: [dir], pollIntervalMs: 20 });
  const it = f[Symbol.asyncIterator]();
  const got: TrailItem[] = [];
  while (got.filter((x) => x.type === 'record').length < 2) got.push((await it.next()).value);
  const r = makeRecord(2, 3000);
  d.write(r.subarray(0, 1));
  const pending = it.next(); // the follower reads the one byte and waits
  await sleep(60);
  d.write(r.subarray(1, 1500));
  await sleep(60);
  d.write(r.subarray(1500));
  const v = (await pending).value as TrailItem;
  assert.equal(v.type, 'record');
  assert.deepEqual(v.type === 'record' && Buffer.from(v.bytes), r);
  await f.close();
  assert.equal(got.filter((x) => x.type === 'diagnostic').length, 0);
});

/**
 * Runs a writer that rotates often (moving between dirs, records split across writes, `current` missing for a
 * while) while a follower consumes; returns everything the follower delivered until the writer's last file ended.
 */
async function storm(seed: number, opts: Partial<FollowTrailOptions>) {
  const dirs = tmpDirs(2);
  const d = new FakeAuditd(dirs);
  const rand = rng(seed);
  d.start();
  const f = follow({ dirs, pollIntervalMs: 25, ...opts });
  const items: TrailItem[] = [];
  let lastName = '';
  const consumer = (async () => {
    for await (const it of f) {
      items.push(copy(it));
      if (it.type === 'file' && it.phase === 'end' && it.meta.file === lastName) break;
    }
  })();
  const N = 2500;
  for (let i = 0; i < N; i++) {
    const r = makeRecord(i, 30 + Math.floor(rand() * (rand() < 0.05 ? 20000 : 400)));
    if (rand() < 0.3) {
      const cut = 1 + Math.floor(rand() * (r.length - 1));
      d.write(r.subarray(0, cut));
      await tick();
      d.write(r.subarray(cut));
    } else d.write(r);
    if (rand() < 0.08) {
      await d.rotate({ nextDir: rand() < 0.5, beforeLink: rand() < 0.3 ? () => sleep(5) : undefined });
    }
    if (rand() < 0.2) await tick();
  }
  lastName = d.stop();
  await consumer;
  await f.close();
  return { items, N };
}

test('rotation storm: every record exactly once, in order, no damage, no loss (fs.watch)', { timeout: T }, async () => {
  const { items, N } = await storm(1, {});
  const s = summarize(items);
  assert.deepEqual(s.seqs, [...Array(N).keys()]);
  assert.deepEqual(s.diags, []);
  assert.deepEqual(s.losses, []);
  assert.ok(s.files.filter((x) => x.startsWith('end')).length > 100, 'the storm rotated many times');
});

test('rotation storm: the same with polling only', { timeout: T }, async () => {
  const { items, N } = await storm(2, { watch: false, pollIntervalMs: 5 });
  const s = summarize(items);
  assert.deepEqual(s.seqs, [...Array(N).keys()]);
  assert.deepEqual(s.diags, []);
  assert.deepEqual(s.losses, []);
});

test('crash_recovery: a truncated last record is damage with offset and sizes; the next run is followed', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const d = new FakeAuditd([dir]);
  d.start();
  const crashed = d.activePath!;
  const recs = writeN(d, 0, 4);
  const torn = makeRecord(4, 200);
  d.write(torn.subarray(0, 77));
  const f = follow({ dirs: [dir], pollIntervalMs: 20 });
  const items: TrailItem[] = [];
  const consumer = (async () => {
    for await (const it of f) {
      items.push(copy(it));
      if (it.type === 'record' && recordSeq(it.bytes) === 7) break;
    }
  })();
  await sleep(50);
  d.crash();
  const d2 = new FakeAuditd([dir], d.now + 5000);
  d2.start();
  writeN(d2, 5, 3);
  await consumer;
  await f.close();
  const s = summarize(items);
  assert.deepEqual(s.seqs, [0, 1, 2, 3, 5, 6, 7]);
  assert.equal(s.diags.length, 1);
  const diag = s.diags[0];
  assert.ok(diag.type === 'diagnostic');
  const at = recs.reduce((n, r) => n + r.length, 0);
  assert.equal(diag.diagnostic.code, 'BSM_E_TRUNCATED');
  assert.equal(diag.diagnostic.offset, at);
  assert.equal(diag.diagnostic.skipped, 77);
  assert.match(diag.diagnostic.message, new RegExp(`77 bytes present, expected ${torn.length} bytes`));
  assert.equal(diag.meta.state, 'crash_recovery');
  assert.equal(diag.meta.file, crashed.split('/').pop()!.replace('not_terminated', 'crash_recovery'));
  assert.equal(diag.cursor.offset, at + 77);
  // No trail-gap is claimed for a crash_recovery file (it has no end time).
  assert.deepEqual(s.losses, []);
  // A later once-reader sees the same.
  const again = summarize(await readOnce({ dirs: [dir] }));
  assert.deepEqual(again.seqs, [0, 1, 2, 3, 5, 6, 7]);
  assert.equal(again.diags.length, 1);
});

test('a missing and a dangling `current` do not stop the follower', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const d = new FakeAuditd([dir]);
  d.start();
  writeN(d, 0, 3);
  const f = follow({ dirs: [dir], pollIntervalMs: 10 });
  const items: TrailItem[] = [];
  const consumer = (async () => {
    for await (const it of f) {
      items.push(copy(it));
      if (it.type === 'record' && recordSeq(it.bytes) === 8) break;
    }
  })();
  // current absent for a while during rotation, records written meanwhile go to the new file
  await d.rotate({
    beforeLink: async () => {
      await sleep(80);
    },
  });
  writeN(d, 3, 3);
  // current dangling: points at a file that does not exist
  unlinkSync(d.currentLink);
  symlinkSync(join(dir, '20991231235959.not_terminated'), d.currentLink);
  await sleep(50);
  writeN(d, 6, 3);
  await consumer;
  await f.close();
  assert.deepEqual(summarize(items).seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(summarize(items).diags.length, 0);
});

test('a not_terminated file is finished once `current` points at a newer file (orphan after a crash)', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const orphan = join(dir, '20260101000000.not_terminated');
  writeFileSync(orphan, Buffer.concat([makeRecord(0), makeRecord(1)]));
  const newer = join(dir, '20260101000500.not_terminated');
  writeFileSync(newer, makeRecord(2));
  symlinkSync(newer, join(dir, 'current'));
  const s = summarize(await readOnce({ dirs: [dir] }));
  assert.deepEqual(s.seqs, [0, 1, 2]);
  assert.deepEqual(s.files, ['open 20260101000000.not_terminated', 'end 20260101000000.not_terminated', 'open 20260101000500.not_terminated']);
  // Without that evidence the reader stops at the first active file: it might still grow.
  unlinkSync(join(dir, 'current'));
  assert.deepEqual(summarize(await readOnce({ dirs: [dir] })).seqs, [0, 1]);
});

test('expiry: files held open are drained, files removed before they were opened are reported lost', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const d = new FakeAuditd([dir]);
  d.start();
  const names: string[] = [];
  for (let k = 0; k < 6; k++) {
    names.push(d.activePath!.split('/').pop()!.slice(0, 15));
    writeN(d, k * 10, 10);
    if (k < 5) await d.rotate();
  }
  const f = follow({ dirs: [dir], maxOpenFiles: 2, pollIntervalMs: 10 });
  const it = f[Symbol.asyncIterator]();
  const items: TrailItem[] = [];
  for (let k = 0; k < 4; k++) items.push(copy((await it.next()).value)); // file 0 open + 3 records: files 0, 1 held
  const gone = d.expire(0);
  assert.equal(gone.length, 5);
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    items.push(copy(r.value));
    if (r.value.type === 'record' && recordSeq(r.value.bytes) === 59) break;
  }
  await f.close();
  const s = summarize(items);
  assert.deepEqual(s.seqs, [...Array(20).keys(), ...Array.from({ length: 10 }, (_, i) => 50 + i)]);
  assert.equal(s.losses.length, 3);
  for (let k = 0; k < 3; k++) {
    const l = s.losses[k];
    assert.ok(l.type === 'loss');
    assert.equal(l.loss.reason, 'expired');
    assert.equal(l.loss.certain, true);
    assert.equal(l.loss.file, `${names[k + 2]}${names[k + 3].slice(0, 14)}`);
    assert.equal(l.loss.start!.getTime(), d.now - (5 - (k + 2)) * 1000);
    assert.equal(l.loss.end!.getTime(), d.now - (5 - (k + 3)) * 1000);
    assert.equal(l.cursor.done, true);
  }
  assert.ok(!existsSync(join(dir, names[0] + names[1].slice(0, 14))), 'file 0 really was unlinked while it was read');
});

test('resume from a cursor whose file expired: loss from the offset, then a trail gap, then the rest', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const d = new FakeAuditd([dir]);
  d.start();
  for (let k = 0; k < 5; k++) {
    writeN(d, k * 10, 10);
    if (k < 4) await d.rotate();
  }
  const first = await readOnce({ dirs: [dir] });
  const rec13 = first.find((i) => i.type === 'record' && recordSeq(i.bytes) === 13)!;
  const cursor = rec13.cursor;
  d.expire(1); // removes files 0, 1, 2 (file 3 terminated remains, file 4 is current)
  const s = summarize(await readOnce({ dirs: [dir], from: cursor }));
  assert.deepEqual(s.seqs, [...Array(20).keys()].map((i) => 30 + i));
  assert.equal(s.losses.length, 2);
  const [a, b] = s.losses.map((l) => (l.type === 'loss' ? l.loss : undefined)!);
  assert.equal(a.reason, 'expired');
  assert.equal(a.file, cursor.file);
  assert.equal(a.fromOffset, cursor.offset);
  assert.equal(b.reason, 'trail-gap');
  assert.equal(b.certain, false);
  assert.equal(b.start!.getTime(), Date.UTC(2026, 0, 1, 0, 0, 2));
  assert.equal(b.end!.getTime(), Date.UTC(2026, 0, 1, 0, 0, 3));
});

test('restart from cursors at arbitrary points while auditd writes and rotates: nothing lost, nothing twice', { timeout: T }, async () => {
  const dirs = tmpDirs(2);
  const d = new FakeAuditd(dirs);
  d.start();
  const rand = rng(7);
  const N = 1500;
  let written = 0;
  let lastName = '';
  const writer = (async () => {
    for (; written < N; written++) {
      const r = makeRecord(written, 30 + Math.floor(rand() * 600));
      if (rand() < 0.2) {
        const cut = 1 + Math.floor(rand() * (r.length - 1));
        d.write(r.subarray(0, cut));
        await tick();
        d.write(r.subarray(cut));
      } else d.write(r);
      if (rand() < 0.05) await d.rotate({ nextDir: rand() < 0.5 });
      if (rand() < 0.3) await tick();
    }
    lastName = d.stop();
  })();
  const got: number[] = [];
  let cursor: TrailCursor | undefined;
  let sessions = 0;
  const pick = rng(99);
  for (let finished = false; !finished; ) {
    sessions++;
    const f = follow({ dirs, from: cursor ?? 'start', pollIntervalMs: 5, watch: pick() < 0.5 });
    const take = 1 + Math.floor(pick() * 150);
    let n = 0;
    for await (const it of f) {
      if (it.type === 'record') got.push(recordSeq(it.bytes));
      assert.notEqual(it.type, 'diagnostic');
      assert.notEqual(it.type, 'loss');
      cursor = it.cursor;
      if (it.type === 'file' && it.phase === 'end' && it.meta.file === lastName) {
        finished = true;
        break;
      }
      if (++n >= take) break;
    }
    await f.close();
    cursor = JSON.parse(JSON.stringify(cursor)); // as persisted
  }
  await writer;
  assert.ok(sessions > 10);
  assert.deepEqual(got, [...Array(N).keys()]);
});

test("from 'end': starts at the record boundary at the end of the active file", { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const d = new FakeAuditd([dir]);
  d.start();
  writeN(d, 0, 3);
  await d.rotate();
  writeN(d, 3, 3);
  const half = makeRecord(6, 90);
  d.write(half.subarray(0, 30));
  const f = follow({ dirs: [dir], from: 'end', pollIntervalMs: 10 });
  const items: TrailItem[] = [];
  const consumer = (async () => {
    for await (const it of f) {
      items.push(copy(it));
      if (it.type === 'record' && recordSeq(it.bytes) === 8) break;
    }
  })();
  await sleep(40);
  d.write(half.subarray(30));
  writeN(d, 7, 2);
  await consumer;
  await f.close();
  assert.deepEqual(summarize(items).seqs, [6, 7, 8]);
});

test('damage in a terminated file: junk is reported with offset and length, the cursor passes it, records around it survive', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const a = makeRecord(0);
  const b = makeRecord(1);
  const junk = Buffer.from('garbage!');
  writeFileSync(join(dir, '20260101000000.20260101000100'), Buffer.concat([a, junk, b]));
  const items = await readOnce({ dirs: [dir] });
  const s = summarize(items);
  assert.deepEqual(s.seqs, [0, 1]);
  assert.equal(s.diags.length, 1);
  const dg = s.diags[0];
  assert.ok(dg.type === 'diagnostic');
  assert.equal(dg.diagnostic.code, 'BSM_E_JUNK');
  assert.equal(dg.diagnostic.offset, a.length);
  assert.equal(dg.diagnostic.skipped, junk.length);
  assert.equal(dg.cursor.offset, a.length + junk.length);
  assert.equal(dg.meta.terminated, true);
  const end = items.at(-1)!;
  assert.ok(end.type === 'file' && end.phase === 'end' && end.cursor.done);
});

test('close() releases every file descriptor and watcher; an AbortSignal ends a waiting iteration', { timeout: T }, async () => {
  const dirs = tmpDirs(2);
  const d = new FakeAuditd(dirs);
  d.start();
  for (let k = 0; k < 5; k++) {
    writeN(d, k * 2, 2);
    await d.rotate({ nextDir: true });
  }
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  const ac = new AbortController();
  const f = follow({ dirs, signal: ac.signal, pollIntervalMs: 60_000 });
  const seen: TrailItem[] = [];
  const consumer = (async () => {
    for await (const it of f) seen.push(it);
  })();
  for (const until = Date.now() + 30_000; seen.filter((i) => i.type === 'record').length < 10 && Date.now() < until; ) await sleep(5);
  assert.ok(fds() > before, 'files are held open while followed');
  ac.abort(); // the consumer is waiting for a change that would take a minute to poll
  await consumer;
  await f.close();
  assert.equal(fds(), before);
  // close() before iterating, too
  const g = follow({ dirs });
  await g.close();
  assert.equal(fds(), before);
  const it = g[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, true);
});

test('a trail directory that cannot be listed is an operational error naming it', { timeout: T }, async () => {
  const f = follow({ dirs: ['/nonexistent/bsmkit-trail'], once: true });
  await assert.rejects(async () => {
    for await (const _ of f) void _;
  }, /\/nonexistent\/bsmkit-trail: no such trail directory/);
});


test('a trail name that cannot be read (a directory here) is an unreadable loss; the next file is still read', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  mkdirSync(join(dir, '20260101000000.20260101000001'));
  writeFileSync(join(dir, '20260101000001.20260101000002'), Buffer.concat([makeRecord(0), makeRecord(1)]));
  const s = summarize(await readOnce({ dirs: [dir] }));
  assert.deepEqual(s.seqs, [0, 1]);
  assert.equal(s.losses.length, 1);
  const l = s.losses[0]!;
  assert.ok(l.type === 'loss');
  assert.equal(l.loss.reason, 'unreadable');
  assert.equal(l.loss.file, '20260101000000.20260101000001');
  assert.match(l.loss.message, /cannot be read: EISDIR/);
  assert.equal(l.cursor.done, true);
});

test('junk then a record completed by a later write, at the end of the active file: both delivered at once', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const d = new FakeAuditd([dir]);
  d.start();
  const r0 = makeRecord(0);
  const r1 = makeRecord(1, 300);
  d.write(Buffer.concat([r0, Buffer.from('zz'), r1.subarray(0, 100)]));
  const f = follow({ dirs: [dir], pollIntervalMs: 20 });
  const it = f[Symbol.asyncIterator]();
  const items: TrailItem[] = [];
  while (!items.some((x) => x.type === 'record')) items.push(copy((await it.next()).value));
  const pending = it.next(); // held: the junk, and the first 100 bytes of r1
  await sleep(50);
  d.write(r1.subarray(100)); // r1 now ends exactly at EOF, nothing follows it
  items.push(copy((await pending).value));
  items.push(copy((await it.next()).value));
  const s = summarize(items);
  assert.deepEqual(s.seqs, [0, 1]);
  assert.equal(s.diags.length, 1);
  const dg = s.diags[0]!;
  assert.ok(dg.type === 'diagnostic');
  assert.equal(dg.diagnostic.code, 'BSM_E_JUNK');
  assert.equal(dg.diagnostic.offset, r0.length);
  assert.equal(dg.diagnostic.skipped, 2);
  const rec = items.find((x) => x.type === 'record' && recordSeq(x.bytes) === 1)!;
  assert.ok(rec.type === 'record');
  assert.equal(rec.offset, r0.length + 2);
  assert.equal(rec.cursor.offset, r0.length + 2 + r1.length);
});
