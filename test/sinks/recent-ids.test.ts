import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idKey, RecentIds } from '../../src/sinks/recent-ids.js';
import { idText, recordId, recordIdLanes } from '../../src/spool/record-id.js';

test('recent ids: the same answers as a Set with a ring of the last N, over random adds with repeats and evictions', () => {
  for (const size of [1, 7, 1000]) {
    const win = new RecentIds(size);
    const ring: string[] = [];
    const set = new Set<string>();
    let seed = size;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % (size * 3 + 5));
    for (let i = 0; i < 20_000; i++) {
      const n = rnd();
      // Half collector-style hex ids, half other strings.
      const id = n % 2 ? idText(n * 2654435761, n) : `other-${n}`;
      assert.equal(win.has(id), set.has(id), `step ${i}, size ${size}`);
      if (!set.has(id)) {
        win.add(id);
        ring.push(id);
        set.add(id);
        if (ring.length > size) set.delete(ring.shift()!);
      }
    }
  }
});

test('record ids: lanes and text agree; a hex id is its own key', () => {
  const bytes = Buffer.from('14000000120b0001000000010000000013b1050000001200', 'hex');
  const lanes = new Uint32Array(2);
  recordIdLanes(bytes, '20261124000000.not_terminated', 42, lanes);
  const id = recordId(bytes, '20261124000000.20261124010000', 42);
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(id, idText(lanes[0]!, lanes[1]!), 'the trail start time is the stable part of the name');
  const key = new Uint32Array(2);
  idKey(id, key);
  assert.deepEqual([...key], [...lanes]);
  assert.equal(idText(0, 0xffffffff), '00000000ffffffff');
});
