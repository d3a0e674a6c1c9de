/**
 * The reduce pipeline (auditreduce.md §7.1, §7.2): damage affects only its own record (no sticky error), junk is
 * skipped with a diagnostic, inputs are merged in time order (or concatenated), file tokens pass only without a
 * selection, and chunk boundaries anywhere give the same result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRecord } from '../../src/format/encode/index.js';
import { compileSelection } from '../../src/select/compile.js';
import { parseReduceArgs } from '../../src/select/parse-args.js';
import { runReduce } from '../../src/select/reduce-run.js';
import type { Diagnostic } from '../../src/format/types.js';
import { ctx, path, pick, rec, reduceItems, ret, subject, trail } from './trail.js';

/** A trail of n execve records whose record k has a path token claiming more bytes than the record holds. */
function withBadToken(n: number, k: number): { bytes: Buffer; offsets: number[]; badAt: number } {
  const items = Array.from({ length: n }, (_, i) => rec('header32', 23, 1000 + i, [subject('subject32', { auid: 501 }), path(`/bin/p${i}`), ret(0)]));
  const t = trail(items);
  // header32 is 18 bytes, subject32 37: the path token starts at 55; its u16 length follows the id.
  const badAt = t.offsets[k]! + 55;
  assert.equal(t.bytes[badAt], 0x23);
  t.bytes.writeUInt16BE(0x4000, badAt + 1);
  return { ...t, badAt };
}

async function runBytes(argv: string[], bytes: Buffer, chunk = 64) {
  const args = parseReduceArgs(argv, ctx);
  const sel = compileSelection(args.select);
  const offsets: number[] = [];
  const diagnostics: Diagnostic[] = [];
  const stats = await runReduce(
    [{ name: 't', async *open() { for (let p = 0; p < bytes.length; p += chunk) yield bytes.subarray(p, p + chunk); } }],
    sel,
    (_c, off) => {
      offsets.push(off);
    },
    { coalesce: false, keepErrors: args.keepErrors, onDiagnostic: (_n, d) => diagnostics.push(d) },
  );
  return { offsets, diagnostics, stats };
}

test('a bad token in record k of n: n − 1 records, the error at that offset; openbsm mode keeps k − 1', async () => {
  const n = 39;
  const k = 35;
  const t = withBadToken(n, k);
  const r = await runBytes([], t.bytes);
  assert.deepEqual(r.offsets, t.offsets.filter((_, i) => i !== k));
  assert.ok(r.diagnostics.some((d) => d.severity === 'error' && d.offset === t.badAt), JSON.stringify(r.diagnostics));
  assert.equal(r.stats.damaged, 1);
  assert.equal(r.stats.records, n);
  const m = await runBytes(['-m', '23', '-u', '501'], t.bytes);
  assert.equal(m.offsets.length, n - 1, 'with options too');
  const compat = await runBytes(['--compat=openbsm'], t.bytes);
  assert.equal(compat.offsets.length, k, 'upstream: sticky error after the bad record (bug 2)');
  // -v never emits the damaged record; --keep-errors judges it on what decoded.
  const inv = await runBytes(['-v', '-m', '2'], t.bytes);
  assert.equal(inv.offsets.length, n - 1);
  const keep = await runBytes(['-v', '-m', '2', '--keep-errors'], t.bytes);
  assert.deepEqual(keep.offsets, t.offsets);
});

test('junk between records: both neighbours delivered, junk reported with its offset; openbsm stops there', async () => {
  const a = encodeRecord({ type: 'header32', event: 23, sec: 1, msec: 0 }, [path('/a')]);
  const b = encodeRecord({ type: 'header64', event: 23, sec: 2n, msec: 0n }, [path('/b')]);
  const junk = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]);
  const bytes = Buffer.concat([a, junk, b, a]);
  for (const chunk of [1, 7, 64, 4096]) {
    const r = await runBytes([], bytes, chunk);
    assert.deepEqual(r.offsets, [0, a.length + junk.length, a.length + junk.length + b.length], `chunk ${chunk}`);
    assert.ok(r.diagnostics.some((d) => d.code === 'BSM_E_JUNK' && d.offset === a.length), `chunk ${chunk}`);
    assert.equal(r.stats.skippedBytes, junk.length);
  }
  const compat = await runBytes(['--compat=openbsm'], bytes);
  assert.deepEqual(compat.offsets, [0], 'bug 13');
  assert.equal(compat.stats.stoppedInputs, 1);
});

test('a truncated last record is reported, everything before it delivered', async () => {
  const t = trail([rec('header32', 1, 1, [path('/x')]), rec('header32', 1, 2, [path('/y')])]);
  const cut = t.bytes.subarray(0, t.bytes.length - 5);
  const r = await runBytes([], cut, 10);
  assert.deepEqual(r.offsets, [0]);
  assert.ok(r.diagnostics.some((d) => d.severity === 'error' && d.offset === t.offsets[1]));
});

test('several inputs are merged by header time (sec, msec); ties by input order; --concat keeps file order', async () => {
  const in0 = [rec('header32', 1, 10, [], 0), rec('header32', 2, 20, [], 500), rec('header32', 3, 30, [], 0)];
  const in1 = [rec('header64', 4, 5, []), rec('header32_ex', 5, 20, [], 100), rec('header64_ex', 6, 20, [], 500), rec('header32', 7, 40, [])];
  const in2 = [{ file: 15 }, rec('header32', 8, 25, [])];
  const merged = await reduceItems([], [in0, in1, in2]);
  // indices: in0 = 0..2, in1 = 3..6, in2 = 7..8
  assert.deepEqual(merged.picked, [3, 0, 7, 4, 1, 5, 8, 2, 6], '(20 s, 500 ms) in input 0 before the same time in input 1');
  const concat = await reduceItems(['--concat'], [in0, in1, in2]);
  assert.deepEqual(concat.picked, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const sel = await reduceItems(['-m', '2', '-m', '6', '-m', '4'], [in0, in1, in2]);
  assert.deepEqual(sel.picked, [3, 1, 5], 'selection then merge');
  assert.equal(sel.stats.records, 8);
  assert.equal(sel.stats.selected, 3);
  assert.throws(() => parseReduceArgs(['--merge', '--concat'], ctx), /exclusive/);
  assert.throws(() => parseReduceArgs(['--compat=openbsm', '--merge'], ctx), /not available/);
  assert.equal(parseReduceArgs(['--compat=openbsm'], ctx).merge, false);
});

test('merged binary output is batched but byte-identical to the records in time order', async () => {
  const in0 = Array.from({ length: 300 }, (_, i) => rec('header32', 23, 2 * i, [path(`/a/${i}`)]));
  const in1 = Array.from({ length: 300 }, (_, i) => rec('header32', 23, 2 * i + 1, [path(`/b/${i}`)]));
  const args = parseReduceArgs([], ctx);
  const t0 = trail(in0);
  const t1 = trail(in1);
  const writes: Buffer[] = [];
  await runReduce(
    [t0, t1].map((t, i) => ({ name: String(i), async *open() { for (let p = 0; p < t.bytes.length; p += 1000) yield t.bytes.subarray(p, p + 1000); } })),
    compileSelection(args.select),
    (c) => {
      writes.push(Buffer.from(c));
    },
    { merge: true, batch: true },
  );
  const expected = Buffer.concat(in0.flatMap((_, i) => [
    t0.bytes.subarray(t0.offsets[i]!, t0.offsets[i + 1] ?? t0.bytes.length),
    t1.bytes.subarray(t1.offsets[i]!, t1.offsets[i + 1] ?? t1.bytes.length),
  ]));
  assert.ok(Buffer.concat(writes).equals(expected));
  assert.ok(writes.length < 10, `few writes (${writes.length})`);
});

test('standalone file tokens: passed without selection options and with -A, dropped otherwise', async () => {
  const items = [{ file: 1 }, rec('header32', 23, 2, []), { file: 3 }];
  assert.deepEqual(await pick([], items), [0, 1, 2]);
  assert.deepEqual(await pick(['-A'], items), [0, 1, 2]);
  assert.deepEqual(await pick(['-m', '23'], items), [1]);
  assert.deepEqual(await pick(['--compat=openbsm', '-m', '23'], items), [1]);
});

test('argument handling: getopt clustering, options after files, --, long options', () => {
  const a = parseReduceArgs(['-vm23', 'f1', '-u', '0', '--', '-f2'], ctx);
  assert.equal(a.select.invert, true);
  assert.deepEqual(a.select.events, [23]);
  assert.equal(a.select.auid, 0);
  assert.deepEqual(a.files, ['f1', '-f2']);
  assert.equal(parseReduceArgs(['--json'], ctx).output, 'json');
  assert.equal(parseReduceArgs(['--print'], ctx).output, 'print');
  assert.throws(() => parseReduceArgs(['--json', '--print'], ctx), /exclusive/);
  assert.throws(() => parseReduceArgs(['-x'], ctx), /unknown option -x/);
  assert.throws(() => parseReduceArgs(['--nope'], ctx), /unknown option --nope/);
  assert.throws(() => parseReduceArgs(['-m'], ctx), /needs a value/);
  assert.throws(() => parseReduceArgs(['--compat=gnu'], ctx), /only compatibility mode/);
  assert.throws(() => parseReduceArgs(['--platform', 'windows'], ctx), /expected openbsm or macos/);
});
