/** -m and -c (auditreduce.md §2, §7.3): names and numbers, event 0, outcome-aware classes, return32 and return64. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { parseReduceArgs } from '../../src/select/parse-args.js';
import { ctx, pick, rec, ret, path, subject } from './trail.js';

const AUE_EXECVE = 23;
const AUE_FORK = 2;
const AUE_OPEN_R = 72;

test('-m: number or AUE_ name, repeatable (OR), every header variant, event 0 by number', async () => {
  const items = [
    rec('header32', AUE_EXECVE, 1),
    rec('header64', AUE_EXECVE, 2),
    rec('header32_ex', AUE_FORK, 3),
    rec('header64_ex', 0, 4),
    rec('header32', 0, 5),
  ];
  assert.deepEqual(await pick(['-m', 'AUE_EXECVE'], items), [0, 1]);
  assert.deepEqual(await pick(['-m', '23', '-m', 'AUE_FORK'], items), [0, 1, 2]);
  assert.deepEqual(await pick(['-m0'], items), [3, 4], 'event 0 is selectable by number');
  assert.deepEqual(await pick(['-m', 'AUE_NULL'], items), [3, 4]);
  assert.deepEqual(await pick(['--compat=openbsm', '-m', '23'], items), [0], 'upstream: header32 only (bug 1)');
  assert.throws(() => parseReduceArgs(['--compat=openbsm', '-m', '0'], ctx), /^UsageError: Incorrect event name$|Incorrect event name/);
});

test('-m: unknown names and bad numbers are usage errors naming the value', () => {
  assert.throws(() => parseReduceArgs(['-m', 'AUE_NOPE'], ctx), (e: unknown) => e instanceof UsageError && e.message === '-m AUE_NOPE: no such event');
  assert.throws(() => parseReduceArgs(['-m', '70000'], ctx), /out of range/);
  assert.throws(() => parseReduceArgs(['-m', 'aue_execve'], ctx), /no such event/, 'names are case-sensitive, as in audit_event');
});

test('-c: outcome from return32 and return64; both sides on the header; no return token: header only', async () => {
  const items = [
    rec('header32', AUE_EXECVE, 1, [ret(0)]),
    rec('header32', AUE_EXECVE, 2, [ret(13)]),
    rec('header64', AUE_EXECVE, 3, [ret(0, 'return64')]),
    rec('header32', AUE_EXECVE, 4, [ret(2, 'return64')]),
    rec('header32', AUE_EXECVE, 5, []),
    rec('header32', AUE_FORK, 6, [ret(0)]),
  ];
  assert.deepEqual(await pick(['-c', 'ex'], items), [0, 1, 2, 3, 4]);
  assert.deepEqual(await pick(['-c', '+ex'], items), [0, 2, 4]);
  assert.deepEqual(await pick(['-c', '-ex'], items), [1, 3, 4]);
  assert.deepEqual(await pick(['-c', 'ex,^-ex'], items), [0, 2, 4]);
  assert.deepEqual(await pick(['-c', 'pc,^ex'], items), [0, 1, 2, 3, 4, 5], 'execve is pc,ex: the pc bit still matches');
  assert.deepEqual(await pick(['-c', 'all,^pc,^ex'], items), []);
  // Upstream: return64 is never checked, so a failed exec with return64 passes +ex (bug 10), and header64 fails.
  assert.deepEqual(await pick(['--compat=openbsm', '-c', '+ex'], items), [0, 3, 4]);
});

test('-c: class of duplicate event numbers from the last audit_event line; class 0 never selected', async () => {
  const items = [rec('header32', 6171, 1), rec('header64', 6171, 2), rec('header32', 0, 3), rec('header32', 6214, 4)];
  assert.deepEqual(await pick(['-c', 'ad'], items), [0, 1]);
  assert.deepEqual(await pick(['-c', 'lo'], items), []);
  assert.deepEqual(await pick(['-c', 'all'], items), [0, 1], 'AUE_NULL (no) and kadmind (unknown class ua) are class 0');
});

test('-c: unknown class is a usage error; combined with -m and failure-only masks', async () => {
  assert.throws(() => parseReduceArgs(['-c', 'ex,zz'], ctx), (e: unknown) => e instanceof UsageError && /-c ex,zz: unknown audit class 'zz'/.test(e.message));
  assert.throws(() => parseReduceArgs(['--compat=openbsm', '-c', 'zz'], ctx), /Incorrect class/);
  const items = [
    rec('header32', AUE_OPEN_R, 1, [path('/etc/passwd'), ret(0)]),
    rec('header32', AUE_OPEN_R, 2, [path('/etc/shadow'), ret(13)]),
    rec('header32_ex', AUE_OPEN_R, 3, [subject('subject32_ex'), path('/etc/shadow'), ret(13)]),
  ];
  assert.deepEqual(await pick(['-m', 'AUE_OPEN_R', '-c', '-fr'], items), [1, 2]);
  assert.deepEqual(await pick(['--compat=openbsm', '-m', 'AUE_OPEN_R', '-c', '-fr'], items), [1]);
});
