import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReorderBuffer } from '../../src/activity/reorder-buffer.js';

interface Item { time: number; id: string }
const it = (time: number, id = String(time)): Item => ({ time, id });

function feed(bound: number, items: Item[], jump?: number): { out: string[]; buf: ReorderBuffer<Item>; releasedBeforeFlush: number } {
  const out: string[] = [];
  const buf = new ReorderBuffer<Item>(bound, jump);
  for (const x of items) buf.push(x, (y) => out.push(y.id));
  const releasedBeforeFlush = out.length;
  buf.flush((y) => out.push(y.id));
  return { out, buf, releasedBeforeFlush };
}

test('in-order input passes through in order, held only for the bound', () => {
  const { out, buf, releasedBeforeFlush } = feed(100, [it(0), it(50), it(100), it(150), it(300)]);
  assert.deepEqual(out, ['0', '50', '100', '150', '300']);
  assert.equal(releasedBeforeFlush, 4, 'everything at least 100 ms older than 300 was released before the end');
  assert.equal(buf.late, 0);
});

test('items out of order within the bound come out sorted; equal times keep arrival order', () => {
  const { out, buf } = feed(1000, [it(500, 'exec'), it(600, 'open'), it(100, 'fork'), it(600, 'open2'), it(550, 'x')]);
  assert.deepEqual(out, ['fork', 'exec', 'x', 'open', 'open2']);
  assert.equal(buf.late, 0);
});

test('an item older than one already released is late: released at once and counted', () => {
  // Beyond the bound but still newer than everything released: it can be put in order, so it is not late.
  const { out, buf } = feed(100, [it(0, 'a'), it(500, 'b'), it(50, 'slow'), it(520, 'c')]);
  assert.deepEqual(out, ['a', 'slow', 'b', 'c']);
  assert.equal(buf.late, 0);
  const r = feed(100, [it(0, 'a'), it(300, 'b'), it(700, 'c'), it(200, 'late')]);
  assert.deepEqual(r.out, ['a', 'b', 'late', 'c']);
  assert.equal(r.buf.late, 1);
});

test('a step back larger than the jump threshold restarts the window instead of making everything late', () => {
  const items = [it(1_000_000, 'a'), it(1_000_500, 'b'), it(0, 'c'), it(100, 'd'), it(2000, 'e')];
  const { out, buf } = feed(1000, items, 60_000);
  assert.deepEqual(out, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(buf.jumps, 1);
  assert.equal(buf.late, 0);
});

test('memory: held items never exceed one bound of time, and compaction keeps the array small', () => {
  const buf = new ReorderBuffer<Item>(10);
  let maxHeld = 0;
  let n = 0;
  for (let i = 0; i < 100_000; i++) {
    buf.push(it(i), () => n++);
    maxHeld = Math.max(maxHeld, buf.size);
  }
  assert.ok(maxHeld <= 11, `held ${maxHeld}`);
  buf.flush(() => n++);
  assert.equal(n, 100_000);
  assert.equal(buf.size, 0);
});

test('random shuffles within the bound always come out sorted', () => {
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let round = 0; round < 50; round++) {
    const items: Item[] = [];
    for (let i = 0; i < 500; i++) items.push(it(i * 10 + Math.floor(rnd() * 400) - 200, String(i)));
    // Arrival jitter of at most ±200 ms with a 500 ms bound: nothing is late.
    const out: Item[] = [];
    const buf = new ReorderBuffer<Item>(500);
    for (const x of items) buf.push(x, (y) => out.push(y));
    buf.flush((y) => out.push(y));
    assert.equal(buf.late, 0);
    for (let i = 1; i < out.length; i++) assert.ok(out[i - 1].time <= out[i].time, `round ${round} at ${i}`);
  }
});

test('advance: moves the clock and releases what is due without holding anything; refuses late times', () => {
  const out: string[] = [];
  const buf = new ReorderBuffer<Item>(100);
  buf.push(it(0, 'a'), (y) => out.push(y.id));
  buf.push(it(50, 'b'), (y) => out.push(y.id));
  assert.equal(buf.advance(120, (y) => out.push(y.id)), true);
  assert.deepEqual(out, ['a'], 'a (0) is due at 100, b (50) is not yet');
  assert.equal(buf.size, 1);
  assert.equal(buf.advance(-10, (y) => out.push(y.id)), false, 'older than a released item');
  assert.equal(buf.advance(60, (y) => out.push(y.id)), true, 'in the window: fine, nothing changes');
  assert.deepEqual(out, ['a']);
});
