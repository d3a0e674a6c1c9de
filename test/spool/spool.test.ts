import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, statSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, FLAG_PIPE_ONLY } from '../../src/spool/index.js';
import { records } from './records.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'bsmkit-spool-'));


test('append, flush, read by seq across segments; segments are plain BSM trails; files 0600', () => {
  const dir = tmp();
  const recs = records(500);
  const s = Spool.open({ dir, segmentBytes: 8192 });
  recs.forEach((b, i) => {
    s.append({ bytes: b, origin: i % 3 === 0 ? 'recovered' : 'pipe', sourceFile: '20261124180000.not_terminated', sourceOffset: i * 1000 });
    if (i === 0) assert.equal(s.lastSeq, 0);
    if (i % 50 === 49) s.flush(); // a segment ends at the first flush past its size
  });
  s.flush();
  assert.equal(s.lastSeq, 500);
  assert.ok(s.segmentCount > 2);
  const got = [];
  for (let seq = 1; seq <= s.lastSeq; ) {
    const batch = s.read(seq, 77);
    assert.ok(batch.length > 0);
    got.push(...batch);
    seq = batch[batch.length - 1]!.seq + 1;
  }
  assert.equal(got.length, 500);
  got.forEach((r, i) => {
    assert.equal(r.seq, i + 1);
    assert.ok(r.bytes.equals(recs[i]!));
    assert.equal(r.origin, i % 3 === 0 ? 'recovered' : 'pipe');
    assert.equal(r.sourceOffset, i * 1000);
    assert.match(r.id, /^[0-9a-f]{16}$/);
  });
  // the concatenation of the segments is exactly the records, in order
  const segs = readdirSync(dir).filter((n) => n.endsWith('.bsm')).sort();
  assert.ok(Buffer.concat(segs.map((n) => readFileSync(join(dir, n)))).equals(Buffer.concat(recs)));
  for (const n of readdirSync(dir)) assert.equal(statSync(join(dir, n)).mode & 0o777, 0o600, n);
  s.close();
});

test('the same record gets the same id whatever the origin; a renamed trail file keeps ids', () => {
  const dir = tmp();
  const [a] = records(1);
  const s = Spool.open({ dir });
  s.append({ bytes: a!, origin: 'pipe', sourceFile: '20261124180000.not_terminated', sourceOffset: 40 });
  s.append({ bytes: a!, origin: 'recovered', sourceFile: '20261124180000.20261124190000', sourceOffset: 40 });
  s.append({ bytes: a!, origin: 'recovered', sourceFile: '20261124180000.20261124190000', sourceOffset: 41 });
  s.flush();
  const [x, y, z] = s.read(1);
  assert.equal(x!.id, y!.id);
  assert.notEqual(y!.id, z!.id);
  s.close();
});

test('reopen keeps seqs, checkpoints and source positions; a torn tail is truncated and reported', () => {
  const dir = tmp();
  const recs = records(50, 2);
  let s = Spool.open({ dir });
  recs.forEach((b, i) => s.append({ bytes: b, origin: 'trail', sourceFile: '20261124180000.not_terminated', sourceOffset: i * 100, flags: i === 7 ? FLAG_PIPE_ONLY : 0 }));
  s.flush();
  s.setCheckpoint('duckdb', 20);
  s.saveCheckpoints({ note: 1 });
  s.close();
  // a crash in the middle of the next flush: part of a record's bytes, no entry
  const seg = readdirSync(dir).find((n) => n.endsWith('.bsm'))!;
  appendFileSync(join(dir, seg), recs[0]!.subarray(0, 30));
  // and a partial entry
  const idx = seg.replace('.bsm', '.idx');
  appendFileSync(join(dir, idx), Buffer.alloc(5));
  s = Spool.open({ dir });
  assert.equal(s.recovery.tornBytes, 30);
  assert.equal(s.recovery.tornEntries, 1);
  assert.match(s.recovery.messages.join('\n'), /torn record of 30 bytes at offset \d+ \(record 51\)/);
  assert.equal(s.lastSeq, 50);
  assert.equal(s.checkpoint('duckdb'), 20);
  assert.equal(s.checkpoint('new-sink'), 0);
  assert.deepEqual(s.extra, { note: 1 });
  const pos = s.lastPosition((n) => n.endsWith('not_terminated'));
  assert.deepEqual(pos, { sourceFile: '20261124180000.not_terminated', end: 49 * 100 + recs[49]!.length, seq: 50 });
  s.append({ bytes: recs[1]!, origin: 'pipe', sourceOffset: 0 });
  s.flush();
  assert.equal(s.lastSeq, 51);
  assert.equal(s.read(8, 1)[0]!.bytes.length, recs[7]!.length);
  assert.deepEqual(s.countSince(48), { pipe: 1, trail: 2, recovered: 0, pipeOnly: 0 });
  assert.equal(s.countSince(0).pipeOnly, 1);
  // entries whose bytes are missing (data truncated under them) are dropped too
  s.close();
  const size = statSync(join(dir, seg)).size;
  truncateSync(join(dir, seg), size - 10);
  s = Spool.open({ dir });
  assert.equal(s.lastSeq, 50);
  assert.equal(s.recovery.tornEntries, 1);
  assert.equal(s.recovery.tornBytes, recs[1]!.length - 10);
  s.close();
});

test('consumed segments are removed (never the active one); size cap reported as full', () => {
  const dir = tmp();
  const recs = records(300, 3);
  const s = Spool.open({ dir, segmentBytes: 4096, maxBytes: 20000 });
  for (const b of recs) {
    s.append({ bytes: b, origin: 'trail', sourceOffset: 0 });
    s.flush();
  }
  assert.ok(s.full);
  const before = s.segmentCount;
  s.setCheckpoint('a', 150);
  s.setCheckpoint('b', 300);
  const removed = s.removeConsumed(['a', 'b']);
  assert.ok(removed > 0 && s.segmentCount === before - removed);
  assert.ok(s.firstSeq <= 151);
  assert.equal(s.read(s.firstSeq, 1)[0]!.seq, s.firstSeq);
  assert.throws(() => s.read(1, 1), /was removed/);
  s.setCheckpoint('a', 300);
  s.removeConsumed(['a', 'b']);
  assert.equal(s.segmentCount, 1);
  assert.ok(!s.full);
  s.close();
  // a fresh spool after every segment was consumed continues the numbering
  const t = Spool.open({ dir });
  assert.equal(t.nextSeq, 301);
  t.close();
});

test('a file-size limit (RLIMIT_FSIZE, like a full disk) pauses with a clear error and loses nothing', () => {
  // The write fails with EFBIG in a child limited with `ulimit -f`; the child reports what the spool said.
  const dir = tmp();
  const script = join(dir, 'child.mts');
  void readFileSync;
  writeFileSync(script, `
import { Spool } from ${JSON.stringify(new URL('../../src/spool/index.ts', import.meta.url).href)};
import { records } from ${JSON.stringify(new URL('./records.ts', import.meta.url).href)};
process.on('SIGXFSZ', () => {});
const s = Spool.open({ dir: ${JSON.stringify(join(dir, 'spool'))}, segmentBytes: 1 << 30 });
const recs = records(3000, 9);
let err = '';
for (const b of recs) { s.append({ bytes: b, origin: 'trail', sourceOffset: 0 }); try { s.flush(); } catch (e) { err = e.message; break; } }
console.log(JSON.stringify({ err, code: s.pausedBy?.errno, lastSeq: s.lastSeq, pending: s.pendingRecords }));
`);
  const out = execFileSync('bash', ['-c', `ulimit -f 64; exec node --import tsx ${script}`], { cwd: process.cwd(), encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { err: string; code: string; lastSeq: number; pending: number };
  assert.equal(r.code, 'EFBIG');
  assert.match(r.err, /file size limit exceeded \(EFBIG\); intake paused/);
  assert.equal(r.pending, 1);
  // what was written before is intact and complete
  const s = Spool.open({ dir: join(dir, 'spool') });
  assert.equal(s.lastSeq, r.lastSeq);
  assert.equal(s.recovery.tornBytes, 0);
  assert.ok(s.lastSeq > 100);
  s.close();
});
