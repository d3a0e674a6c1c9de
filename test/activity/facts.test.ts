/**
 * The fast path (factsFromRange, straight from record bytes) must agree with the exact decoder
 * (decodeRecord + factsFromRecord) on every record it accepts, and defer to it on anything unusual.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Framer } from '../../src/format/framer.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import { encodeRecord, execArgs, str } from '../../src/format/encode/index.js';
import { factsFromRecord } from '../../src/activity/facts.js';
import { factsFromBytes, factsFromRange } from '../../src/activity/raw-facts.js';
import { lifecycleAction } from '../../src/activity/lifecycle-events.js';
import { CONFORMANCE } from '../format/corpus.js';
import { exec, encode, spawn, subject, T0 } from './build.js';

function records(file: string): { buf: Buffer; start: number; end: number; offset: number }[] {
  const out: { buf: Buffer; start: number; end: number; offset: number }[] = [];
  const f = new Framer({
    range(buf, start, end, offset, kind) {
      if (kind === 'record') out.push({ buf: Buffer.from(buf.subarray(start, end)), start: 0, end: end - start, offset });
    },
    diagnostic() {},
  });
  f.push(readFileSync(file));
  f.end();
  return out;
}

/** Facts as plain data (interned credential objects compared by value). */
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

for (const name of ['realistic.bsm', 'clean.bsm']) {
  test(`fast path agrees with the decoder on every record of generated/${name}`, () => {
    const recs = records(join(CONFORMANCE, 'generated', name));
    let fast = 0;
    let lifecycle = 0;
    for (const r of recs) {
      const exact = factsFromRecord(decodeRecord(r.buf, r.offset));
      const quick = factsFromRange(r.buf, r.start, r.end, r.offset);
      if (!quick) continue;
      fast++;
      assert.ok(exact, `offset ${r.offset}`);
      if (quick.lifecycle) {
        lifecycle++;
        assert.deepEqual(plain(quick), plain(exact), `offset ${r.offset}`);
      } else {
        // Other records: only time, event and subject are read (the walk stops at the subject).
        assert.deepEqual(plain([quick.time, quick.event, quick.pid, quick.cred]), plain([exact.time, exact.event, exact.pid, exact.cred]), `offset ${r.offset}`);
      }
    }
    if (name === 'realistic.bsm') {
      assert.equal(fast, recs.length, 'every kernel-shaped record takes the fast path');
      assert.equal(lifecycle, 450);
    } else {
      assert.ok(fast > recs.length / 2, `${fast} of ${recs.length}`);
    }
  });
}

test('the fast path reads a range inside a larger buffer (zero-copy framing)', () => {
  const rec = encode(exec(T0, { pid: 9 }, { argv: ['a', 'b'], path: '/bin/a' }));
  const big = Buffer.concat([Buffer.alloc(13, 0xee), rec, Buffer.alloc(5, 0xee)]);
  const f = factsFromRange(big, 13, 13 + rec.length, 1000)!;
  assert.deepEqual(f.argv, ['a', 'b']);
  assert.deepEqual(f.paths, ['/bin/a']);
  assert.equal(f.time, T0);
  assert.equal(f.offset, 1000);
  assert.equal(f.pid, 9);
});

test('identity and cdhash tokens on a spawn', () => {
  const cd = '00112233445566778899aabbccddeeff00112233';
  const rec = encode(spawn(T0, { pid: 5 }, 6, { path: '/bin/x', cdhash: cd, identity: { signingId: 'com.example.x', teamId: 'TEAM123456', cdhash: cd } }));
  const quick = factsFromBytes(rec, 0)!;
  assert.equal(quick.childPid, 6);
  assert.deepEqual(quick.code, { cdhash: cd, signerType: 0, signingId: 'com.example.x', teamId: 'TEAM123456' });
  assert.deepEqual(plain(quick), plain(factsFromRecord(decodeRecord(rec, 0))));
});

test('XNU over-counted exec args: the fast path defers, the decoder keeps the strings present', () => {
  const good = encodeRecord({ type: 'header32', event: 23, sec: 1710072000, msec: 0 }, [
    execArgs(['ls', '-l']),
    { type: 'path', path: str('/bin/ls') },
    subject({ pid: 77 }),
    { type: 'return32', status: 0, value: 0 },
  ]);
  // Declared count 5 with 2 strings present (bsm-format.md §5.4).
  const bad = Buffer.from(good);
  bad.writeUInt32BE(5, 18 + 1);
  assert.equal(factsFromBytes(bad, 0), undefined);
  const exact = factsFromRecord(decodeRecord(bad, 0))!;
  assert.deepEqual(exact.argv, ['ls', '-l']);
  assert.equal(exact.argvTruncated, true);
  assert.deepEqual(exact.paths, ['/bin/ls']);
  assert.equal(exact.pid, 77);
});

test('unknown tokens and damaged records defer to the decoder', () => {
  const rec = encodeRecord({ type: 'header32', event: 2, sec: 1, msec: 0 }, [
    { type: 'unknown', id: 0xfe, data: Buffer.from([1, 2, 3]) },
    subject({ pid: 1 }),
    { type: 'return32', status: 0, value: 0 },
  ]);
  assert.equal(factsFromBytes(rec, 0), undefined);
  assert.equal(factsFromBytes(rec.subarray(0, 20), 0), undefined);
});

test('lifecycle event table: fork family, spawn, exec family, exit', () => {
  const kinds = (n: number) => lifecycleAction(n)?.kind;
  assert.deepEqual([1, 2, 25, 241, 353, 43043, 43197, 43190, 23, 43131, 43144, 43262, 72].map(kinds),
    ['exit', 'fork', 'fork', 'fork', 'fork', 'fork', 'fork', 'spawn', 'exec', 'exec', 'exec', 'exec', undefined]);
  assert.equal(lifecycleAction(43262, 'macos'), undefined, 'AUE_EXECVEAT is not in the macOS table');
});
