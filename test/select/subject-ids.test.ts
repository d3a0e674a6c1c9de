/** -u -e -f -g -r -j (auditreduce.md §2, §7.3): every subject variant, process tokens, names, unknown names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { UsageError } from '../../src/errors.js';
import { parseReduceArgs } from '../../src/select/parse-args.js';
import { loadIdFile, parseIdFile } from '../../src/select/user-ids.js';
import { ctx, pick, rec, subject, type SubjectKind } from './trail.js';

const SUBJECTS: SubjectKind[] = ['subject32', 'subject32_ex', 'subject64', 'subject64_ex'];

test('each id option checks its own field of every subject variant', async () => {
  const ids = { auid: 501, euid: 0, egid: 20, ruid: 502, rgid: 80, pid: 998 };
  const items = SUBJECTS.map((k, i) => rec('header32', 23, i, [subject(k, ids)]));
  const none = [rec('header32', 23, 9, [])];
  const all = [0, 1, 2, 3];
  for (const [opt, val] of [['-u', '501'], ['-e', '0'], ['-f', '20'], ['-r', '502'], ['-g', '80'], ['-j', '998']]) {
    assert.deepEqual(await pick([opt!, val!], [...items, ...none]), all, `${opt} ${val}`);
    assert.deepEqual(await pick([opt!, '12345'], items), [], `${opt} other value`);
  }
  // Fields are not confused with each other.
  assert.deepEqual(await pick(['-u', '502'], items), []);
  assert.deepEqual(await pick(['-r', '501'], items), []);
  assert.deepEqual(await pick(['-g', '20'], items), []);
  // Upstream checks subject32 only (bug 1).
  assert.deepEqual(await pick(['--compat=openbsm', '-u', '501'], items), [0]);
  assert.deepEqual(await pick(['--compat=openbsm', '-j', '998'], items), [0]);
});

test('names resolve through passwd/group; -1 means unset (AU_DEFAUDITID); unknown names are usage errors', async () => {
  const items = [
    rec('header32', 1, 1, [subject('subject32', { auid: 501, egid: 20 })]),
    rec('header32', 1, 2, [subject('subject32_ex', { auid: 0xffffffff, egid: 0 })]),
  ];
  assert.deepEqual(await pick(['-u', 'alice'], items), [0]);
  assert.deepEqual(await pick(['-f', 'staff'], items), [0]);
  assert.deepEqual(await pick(['-f', 'wheel'], items), [1]);
  assert.deepEqual(await pick(['-u', '-1'], items), [1]);
  assert.deepEqual(await pick(['-u', '4294967295'], items), [1]);
  for (const [opt, kind] of [['-u', 'user'], ['-e', 'user'], ['-r', 'user'], ['-f', 'group'], ['-g', 'group']]) {
    assert.throws(() => parseReduceArgs([opt!, 'nosuch'], ctx), (e: unknown) => e instanceof UsageError && e.message === `${opt} nosuch: no such ${kind}`);
  }
  assert.throws(() => parseReduceArgs(['-u', '4294967296'], ctx), /out of range/);
  assert.throws(() => parseReduceArgs(['-j', 'abc'], ctx), /not a number/);
  // Upstream silently drops the filter (bug 4): everything is selected.
  assert.deepEqual(await pick(['--compat=openbsm', '-e', 'nosuch'], items), [0, 1]);
});

test('--passwd/--group files for offline trails; a named file must exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-ids-'));
  try {
    writeFileSync(join(dir, 'passwd'), '# c\n+nis\nzed:*:7001:7001::/:/bin/sh\nzed:*:9:9::/:/bin/sh\nbad:*:x:1::/:/\n');
    writeFileSync(join(dir, 'group'), 'ops:*:7100:zed\n');
    const a = parseReduceArgs(['--passwd', join(dir, 'passwd'), '--group', join(dir, 'group'), '-u', 'zed', '-g', 'ops']);
    assert.equal(a.select.auid, 7001, 'the first line of a name wins');
    assert.equal(a.select.rgid, 7100);
    assert.throws(() => parseReduceArgs(['--passwd', join(dir, 'none'), '-u', 'zed']), /cannot read/);
    assert.equal(loadIdFile(join(dir, 'none'), false).id('zed'), undefined, 'the host default may be absent');
    assert.equal(parseIdFile('bad:*:x:1::/:/\n').id('bad'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('process tokens: -o pid= on every variant; ids are checked on process tokens too (as upstream)', async () => {
  const items = (['process32', 'process32_ex', 'process64', 'process64_ex'] as const).map((k, i) =>
    rec('header32', 15, i, [subject('subject32', { auid: 501, pid: 10 }), subject(k, { auid: 0, pid: 8445 })]),
  );
  assert.deepEqual(await pick(['-o', 'pid=8445'], items), [0, 1, 2, 3]);
  assert.deepEqual(await pick(['-o', 'pid=10'], items), []);
  assert.deepEqual(await pick(['-j', '10'], items), [0, 1, 2, 3], '-j is the subject pid');
  assert.deepEqual(await pick(['--compat=openbsm', '-o', 'pid=8445'], items), [0], 'process32 only (bug 5)');
  // Every token of a checked kind must pass: the target's auid 0 rejects -u 501, upstream's rule kept.
  assert.deepEqual(await pick(['-u', '501'], items), []);
  assert.deepEqual(await pick(['-u', '501'], [rec('header32', 15, 9, [subject('subject64_ex', { auid: 501 })])]), [0]);
});
