/** -a -b -d -A (auditreduce.md §2, §7.3): every header variant, inclusive -b, local time with DST, --utc, ISO. */
process.env.TZ = 'America/New_York';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { parseReduceArgs } from '../../src/select/parse-args.js';
import { parseDayArg, parseTimeArg } from '../../src/select/time-arg.js';
import { ctx, pick, rec, type HeaderKind } from './trail.js';

const KINDS: HeaderKind[] = ['header32', 'header32_ex', 'header64', 'header64_ex'];
// 2024-07-01 16:00:00 UTC = 12:00 EDT (UTC-4), = 11:00 EST.
const NOON_EDT = Date.UTC(2024, 6, 1, 16, 0, 0) / 1000;

test('time arguments: local time with DST, UTC, standard-time (openbsm), ISO 8601 with offset', () => {
  assert.equal(parseTimeArg('-a', '20240701120000', 'local'), NOON_EDT);
  assert.equal(parseTimeArg('-a', '20240701120000', 'utc'), NOON_EDT - 4 * 3600);
  assert.equal(parseTimeArg('-a', '20240701120000', 'local-no-dst'), NOON_EDT + 3600, 'mktime with tm_isdst = 0');
  assert.equal(parseTimeArg('-a', '20240115120000', 'local'), parseTimeArg('-a', '20240115120000', 'local-no-dst'), 'no DST in January');
  assert.equal(parseTimeArg('-a', '2024070112', 'local'), NOON_EDT, 'HH only');
  assert.equal(parseTimeArg('-a', '2024-07-01T16:00:00Z', 'local'), NOON_EDT);
  assert.equal(parseTimeArg('-a', '2024-07-01T12:00:00-04:00', 'utc'), NOON_EDT);
  assert.deepEqual(parseDayArg('20240701', 'utc'), { after: NOON_EDT - 16 * 3600, before: NOON_EDT + 8 * 3600 - 1 });
  for (const bad of ['2024070', '20241301', '20240701250000', 'yesterday', '2024-07-01T12:00:00']) {
    assert.throws(() => parseTimeArg('-a', bad, 'local'), UsageError, bad);
  }
});

test('-a and -b are inclusive and apply to every header variant', async () => {
  for (const k of KINDS) {
    const items = [rec(k, 23, NOON_EDT - 1), rec(k, 23, NOON_EDT), rec(k, 23, NOON_EDT + 1)];
    assert.deepEqual(await pick(['-a', '20240701120000'], items), [1, 2], k);
    assert.deepEqual(await pick(['-b', '20240701120000'], items), [0, 1], k);
    assert.deepEqual(await pick(['-a', '20240701120000', '-b', '20240701120000'], items), [1], k);
  }
});

test('openbsm mode checks time on header32 only, in standard time (bugs 1 and 8)', async () => {
  const items = KINDS.map((k) => rec(k, 23, NOON_EDT + 1800));
  assert.deepEqual(await pick(['-a', '20240701120000'], items), [0, 1, 2, 3]);
  assert.deepEqual(await pick(['--compat=openbsm', '-a', '20240701113000'], items), [0]);
  // 12:30 EDT is 11:30 EST: upstream reads "12:00" as 13:00 EDT and misses it.
  assert.deepEqual(await pick(['--compat=openbsm', '-a', '20240701120000'], items), []);
});

test('-d covers 00:00:00 to 23:59:59 local; --utc switches the zone', async () => {
  const midnightUtc = Date.UTC(2024, 6, 2, 0, 0, 0) / 1000; // 20:00 EDT on July 1
  const items = [rec('header32', 1, midnightUtc - 1), rec('header64', 1, midnightUtc), rec('header32_ex', 1, midnightUtc + 4 * 3600)];
  assert.deepEqual(await pick(['-d', '20240701'], items), [0, 1]);
  assert.deepEqual(await pick(['-d', '20240701', '--utc'], items), [0]);
  assert.deepEqual(await pick(['-d', '20240702', '--utc'], items), [1, 2]);
});

test('-A selects every header variant and file tokens; usage errors for -a twice, -d with -a', async () => {
  const items = [...KINDS.map((k) => rec(k, 23, 1000)), { file: 1000 }];
  assert.deepEqual(await pick(['-A'], items), [0, 1, 2, 3, 4]);
  assert.deepEqual(await pick(['-A', '-a', '20300101'], items), [0, 1, 2, 3, 4], '-A overrides -a');
  assert.deepEqual(await pick(['--compat=openbsm', '-A'], items), [0], 'upstream: only header32 checks -A (bug 16)');
  assert.throws(() => parseReduceArgs(['-a', '20240101', '-a', '20240102'], ctx), /-a given twice/);
  assert.throws(() => parseReduceArgs(['-d', '20240101', '-a', '20240102'], ctx), /exclusive/);
  assert.throws(() => parseReduceArgs(['-a', '20240101', '-d', '20240102'], ctx), /exclusive/);
});
