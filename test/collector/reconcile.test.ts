/**
 * The hybrid Reconciler driven directly (no collector, no kernel model): hand-built record streams on a clock the
 * test advances, checked record by record against the truth of a small audit subsystem (reconcile-sim.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reconciler } from '../../src/collector/reconcile.js';
import { FLAG_PIPE_ONLY, type SpoolAppend } from '../../src/spool/spool.js';
import { prng, rec, SESSION, Sim, TRAIL_FILE } from './reconcile-sim.js';

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);
const origins = (out: SpoolAppend[]): string[] => out.map((r) => (r.flags === FLAG_PIPE_ONLY ? 'pipeOnly' : r.origin === 'pipe' ? 'live' : r.origin));

test('no drops: every record live, delivered as soon as both copies are in, without marks or waiting', () => {
  const s = new Sim();
  s.commitMany(range(0, 200));
  s.readTrail(50);
  s.drainPipe(120, { mark: false });
  assert.equal(s.out.length, 50, 'matched up to what the trail has');
  s.readTrail();
  assert.equal(s.out.length, 120);
  s.drainPipe(Infinity, { mark: false });
  assert.equal(s.out.length, 200);
  assert.deepEqual(s.out.map((r) => r.sourceOffset), s.truth.map((t) => t.trailOffset));
  s.check();
  assert.deepEqual(s.rc.counts, { live: 200, recovered: 0, trail: 0, pipeOnly: 0 });
});

test('drops at the start, in the middle and at the end: recovered in trail order, before the next live record', () => {
  const s = new Sim();
  s.dropNext(rec(0));
  s.dropNext(rec(1));
  s.commitMany(range(2, 10));
  s.dropNext(rec(10));
  s.commitMany(range(11, 20));
  s.dropNext(rec(20));
  s.dropNext(rec(21));
  s.readTrail();
  s.drainPipe(Infinity, { mark: false });
  // dropped records ahead of a matched one are decided by the match; the two at the end wait for a mark
  assert.deepEqual(origins(s.out), ['recovered', 'recovered', ...Array(8).fill('live'), 'recovered', ...Array(9).fill('live')]);
  assert.equal(s.rc.trailBacklog, 2);
  s.settle();
  s.check();
  assert.deepEqual(s.rc.counts, { live: 17, recovered: 5, trail: 0, pipeOnly: 0 });
});

test('records at the end are not decided by a mark whose epoch or grace does not cover them', () => {
  const s = new Sim({ graceMs: 50 });
  s.commitMany(range(0, 5));
  s.dropNext(rec(5));
  s.drainPipe(); // mark for epoch 0: the trail record was not read yet
  s.readTrail();
  assert.equal(s.out.length, 5);
  s.rc.drained(1, s.now + 49); // covers the epoch, but too soon after the record was read
  s.rc.pump(s.now + 49);
  assert.equal(s.out.length, 5);
  s.rc.drained(0, s.now + 1000); // an older epoch: the record may have been read after the queue was looked at
  s.rc.pump(s.now + 1000);
  assert.equal(s.out.length, 5);
  s.rc.drained(1, s.now + 50);
  s.rc.pump(s.now + 50);
  assert.equal(s.out.length, 6);
  s.check();
});

test('a run of drops longer than the lookahead (3000 records), with the trail ahead of the pipe and behind it', () => {
  for (const trailFirst of [true, false]) {
    const s = new Sim();
    s.commitMany(range(0, 10));
    for (const id of range(10, 3010)) s.dropNext(rec(id));
    s.commitMany(range(3010, 3020));
    if (trailFirst) {
      s.readTrail();
      s.drainPipe(Infinity, { mark: false });
    } else {
      s.drainPipe(Infinity, { mark: false });
      while (s.trailUnread) s.readTrail(97);
    }
    assert.equal(s.out.length, 3020, `trailFirst=${trailFirst}`);
    s.check();
    assert.deepEqual(s.rc.counts, { live: 20, recovered: 3000, trail: 0, pipeOnly: 0 });
  }
});

test('a bounded pipe queue overflowing in bursts, the drain reading in small batches, the trail in other chunks', () => {
  const s = new Sim({ qlimit: 64 });
  let id = 0;
  for (let round = 0; round < 50; round++) {
    s.commitMany(range(id, id + 150));
    id += 150;
    s.drainPipe(40);
    s.readTrail(70);
    s.advance(7);
    s.drainPipe(40);
  }
  assert.ok(s.drops > 3000);
  s.settle();
  s.check();
  assert.equal(s.rc.counts.recovered, s.drops);
});

test('identical duplicates (same bytes) are matched in order, some dropped, some not', () => {
  const s = new Sim();
  const dup = rec(7);
  s.commit(dup);
  s.dropNext(dup);
  s.commit(rec(1));
  s.commit(dup);
  s.dropNext(dup);
  s.dropNext(dup);
  s.commit(dup);
  s.commit(rec(2));
  s.dropNext(dup);
  s.readTrail();
  s.drainPipe();
  s.settle();
  s.check();
  assert.deepEqual(s.rc.counts, { live: 5, recovered: 4, trail: 0, pipeOnly: 0 });
  // the live copies take the first unclaimed identical trail records
  // trail: D d A D d d D B d (lower case: dropped); the pipe's D A D D B take the first unclaimed identical copies
  assert.deepEqual(origins(s.out), ['live', 'recovered', 'live', 'live', 'live', 'recovered', 'recovered', 'live', 'recovered']);
});

test('identical duplicates with the trail behind the pipe: a later duplicate does not make a record pipe-only', () => {
  // trail: D A D ; the pipe dropped the first D and has A D. While the trail reader has read only the first D, the
  // pipe's D matches it, but A's own trail copy is simply not read yet.
  const s = new Sim();
  const d = rec(7);
  s.dropNext(d);
  s.commit(rec(1));
  s.commit(d);
  s.drainPipe();
  s.readTrail(1);
  s.advance(100);
  s.drainPipe();
  s.readTrail();
  s.settle();
  s.check();
  assert.deepEqual(s.rc.counts, { live: 2, recovered: 1, trail: 0, pipeOnly: 0 });
});

test('a later record found in the trail while a drop is unaccounted proves nothing alone; a second one further on does', () => {
  // trail: A P? q q2 y — P has no trail copy (write failure), y is dropped; the drop is counted with the batch, so
  // q's copy could be a dropped twin. q2's copy, further on, settles it.
  const s = new Sim();
  s.commit(rec(1));
  s.commit(rec(100), { trail: false });
  s.commit(rec(2));
  s.commit(rec(3));
  s.dropNext(rec(4));
  s.readTrail();
  s.drainPipe(Infinity, { mark: false });
  assert.deepEqual(origins(s.out), ['live', 'pipeOnly', 'live', 'live']);
  s.settle();
  s.check();
});

test('an unproven pipe-only record: the trail copy found for the next one is not resolved by a mark, and after pipeOnlyAfterMs it is kept even with the trail reader busy', () => {
  const s = new Sim({ pipeOnlyAfterMs: 3000 });
  s.commit(rec(1));
  s.commit(rec(100), { trail: false });
  s.commit(rec(2));
  s.dropNext(rec(3));
  s.readTrail();
  s.drainPipe(Infinity, { mark: false });
  assert.deepEqual(origins(s.out), ['live']);
  for (let k = 0; k < 29; k++) {
    s.advance(100);
    s.commit(rec(10 + k), { pipe: false });
    s.readTrail();
    s.drainPipe(); // marks: they cover rec(2)'s copy, which the waiting pipe record may own
  }
  assert.deepEqual(origins(s.out), ['live']);
  s.advance(100);
  s.rc.pump(s.now);
  assert.deepEqual(origins(s.out).slice(0, 3), ['live', 'pipeOnly', 'live']);
  s.settle();
  s.check();
});

test('pipe-only records before, between and after matched ones: recognised by the next matched pipe record', () => {
  const s = new Sim();
  s.commit(rec(100), { trail: false });
  s.commitMany(range(0, 5));
  s.commit(rec(101), { trail: false });
  s.commit(rec(102), { trail: false });
  s.commitMany(range(5, 10));
  s.commit(rec(103), { trail: false });
  s.commitMany(range(10, 12));
  s.readTrail();
  s.drainPipe(Infinity, { mark: false });
  // no time passed: each pipe-only record is placed exactly where it was in the pipe
  assert.deepEqual(origins(s.out), ['pipeOnly', ...Array(5).fill('live'), 'pipeOnly', 'pipeOnly', ...Array(5).fill('live'), 'pipeOnly', 'live', 'live']);
  const po = s.out.filter((r) => r.flags === FLAG_PIPE_ONLY);
  assert.ok(po.every((r) => r.sourceFile === SESSION && r.origin === 'pipe'));
  s.check();
});

test('a pipe-only record with nothing after it: kept after pipeOnlyAfterMs, only while the trail reader is idle', () => {
  const s = new Sim({ pipeOnlyAfterMs: 3000 });
  s.commitMany(range(0, 3));
  s.commit(rec(100), { trail: false });
  s.readTrail();
  s.drainPipe(Infinity, { mark: false });
  assert.equal(s.out.length, 3);
  s.advance(2999);
  s.rc.pump(s.now);
  assert.equal(s.out.length, 3, 'not before pipeOnlyAfterMs');
  // the trail reader keeps delivering (it may simply lag): no decision
  for (let k = 0; k < 10; k++) {
    s.advance(400);
    s.commit(rec(10 + k), { pipe: false });
    s.readTrail();
  }
  assert.equal(s.rc.counts.pipeOnly, 0);
  // held back by backpressure counts as busy too
  s.advance(600);
  s.rc.trailHeld(s.now);
  s.advance(499);
  s.rc.pump(s.now);
  assert.equal(s.rc.counts.pipeOnly, 0);
  s.advance(1);
  s.rc.pump(s.now);
  assert.equal(s.rc.counts.pipeOnly, 1);
  s.settle();
  s.check();
});

test('pipe-only: a trail write failure in the middle of drops, and runs of them', () => {
  const s = new Sim();
  s.commitMany(range(0, 3));
  s.dropNext(rec(3));
  s.commit(rec(100), { trail: false });
  s.dropNext(rec(4));
  s.commitMany(range(101, 110), { trail: false });
  s.commitMany(range(5, 8));
  s.readTrail();
  s.drainPipe();
  s.settle();
  s.check();
  assert.deepEqual(s.rc.counts, { live: 6, recovered: 2, trail: 0, pipeOnly: 10 });
});

test('a run of pipe-only records longer than the lookahead, then matched ones, with the trail records marked drained', () => {
  const s = new Sim();
  s.commitMany(range(0, 3));
  s.commitMany(range(10_000, 11_500), { trail: false });
  s.commitMany(range(3, 8));
  s.dropNext(rec(8));
  s.commitMany(range(9, 12));
  s.drainPipe();
  s.advance(10);
  s.readTrail();
  s.advance(100);
  s.drainPipe(); // the queue is empty after the trail was read: the mark covers every trail record
  s.settle();
  s.check();
  assert.deepEqual(s.rc.counts, { live: 11, recovered: 1, trail: 0, pipeOnly: 1500 });
});

test('records committed before the pipe was opened are trail, pipe drops are recovered (drop counter known)', () => {
  const s = new Sim({ pipeOpen: false, dropsKnown: true });
  s.commitMany(range(0, 20));
  s.pipeOpen = true;
  s.commitMany(range(20, 30));
  s.drainPipe();
  s.readTrail();
  s.dropNext(rec(30));
  s.commitMany(range(31, 40));
  s.dropNext(rec(40));
  s.drainPipe();
  s.readTrail();
  s.settle();
  s.check();
  assert.deepEqual(s.rc.counts, { live: 19, recovered: 2, trail: 20, pipeOnly: 0 });
});

/** 20 records committed before the pipe was opened, then 20 with it open of which it dropped 2; all read, settled. */
function preOpenThenDrops(dropsKnown: boolean): Sim {
  const s = new Sim({ pipeOpen: false, dropsKnown });
  s.commitMany(range(0, 20));
  s.pipeOpen = true;
  s.commitMany(range(20, 30));
  s.dropNext(rec(30));
  s.commitMany(range(31, 40));
  s.dropNext(rec(40));
  s.drainPipe();
  s.readTrail();
  s.settle();
  return s;
}

test('drops counted before the first match: the totals are right, not which unclaimed record was which', () => {
  // The drop counter says how many, not where: counted before the trail reaches the first pipe record, it is spent
  // on the records committed before the pipe was opened (a drop's position would need the drain's drop gaps).
  const s = preOpenThenDrops(true);
  s.check({ originsAsCounts: true });
  assert.deepEqual(s.rc.counts, { live: 19, recovered: 2, trail: 20, pipeOnly: 0 });
  assert.deepEqual(origins(s.out).slice(0, 3), ['recovered', 'recovered', 'trail']);
});

test('only records committed before the pipe was opened, the pipe idle: trail once the drain has marked it empty', () => {
  for (const dropsKnown of [true, false]) {
    const s = new Sim({ pipeOpen: false, dropsKnown });
    s.commitMany(range(0, 50));
    s.pipeOpen = true;
    s.readTrail();
    assert.equal(s.out.length, 0, 'undecided without a mark');
    s.advance(60);
    s.drainPipe();
    assert.equal(s.out.length, 50);
    s.check();
    assert.deepEqual(s.rc.counts, { live: 0, recovered: 0, trail: 50, pipeOnly: 0 });
  }
});

test('without the drop counter: unclaimed records after the first match are recovered, before it trail', () => {
  const s = preOpenThenDrops(false);
  s.check();
  assert.deepEqual(s.rc.counts, { live: 19, recovered: 2, trail: 20, pipeOnly: 0 });
});

test('a pipe drop counter raised before the batch that follows the drop: the budget follows it', () => {
  // the pipe has records 0..9, then the kernel drops 10..14; the counter comes with the next batch (15..19)
  const s = new Sim();
  s.commitMany(range(0, 10));
  s.drainPipe(Infinity, { mark: false });
  for (const id of range(10, 15)) s.dropNext(rec(id));
  s.commitMany(range(15, 20));
  s.readTrail();
  assert.equal(s.out.length, 10);
  s.drainPipe(Infinity, { mark: false });
  assert.equal(s.out.length, 20);
  s.check();
});

test('records the collector set aside (spool paused) come back from the trail as recovered', () => {
  const s = new Sim();
  s.commitMany(range(0, 100));
  s.drainPipe(30, { mark: false });
  s.drainPipe(40, { discard: true, mark: false });
  s.drainPipe(Infinity, { mark: false });
  s.readTrail();
  assert.equal(s.out.length, 100);
  s.check();
  assert.deepEqual(s.rc.counts, { live: 60, recovered: 40, trail: 0, pipeOnly: 0 });
});

test('bounded backlog: the pipe far ahead of a lagging trail reader (the collector lets pipe records go past 32,768)', () => {
  const CAP = 32_768;
  const s = new Sim();
  s.commitMany(range(0, 40_000));
  // batches as the collector takes them: pushed while the backlog is within the cap, else set aside; the trail
  // reader keeps delivering, slowly
  let maxBacklog = 0;
  while (s.queued) {
    s.drainPipe(1000, { discard: s.rc.pipeBacklog > CAP, mark: false });
    maxBacklog = Math.max(maxBacklog, s.rc.pipeBacklog);
    s.advance(400);
    s.readTrail(10);
  }
  assert.ok(maxBacklog > CAP && maxBacklog <= CAP + 1000, `backlog ${maxBacklog}`);
  assert.equal(s.rc.counts.pipeOnly, 0, 'a lagging trail reader is not taken for a missing trail copy');
  while (s.trailUnread) {
    s.advance(5);
    s.readTrail(512);
  }
  s.settle();
  s.check();
  assert.ok(s.rc.counts.recovered > 0 && s.rc.counts.live > CAP);
});

test('bounded backlog: the trail far ahead of a stalled pipe drain (the collector holds the trail reader)', () => {
  const CAP = 32_768;
  const s = new Sim({ qlimit: 1024 });
  s.commitMany(range(0, 60_000));
  // the drain is stalled: no batches, no marks; the follower reads until the backlog passes the cap, then waits
  while (s.trailUnread && s.rc.trailBacklog <= CAP) s.readTrail(512);
  for (let k = 0; k < 20; k++) {
    s.advance(1000);
    s.rc.trailHeld(s.now);
    s.rc.pump(s.now);
  }
  assert.equal(s.out.length, 0, 'nothing decided without the pipe');
  assert.ok(s.rc.trailBacklog > CAP);
  // the drain comes back: what it had queued is live, the rest (dropped at qlimit) recovered
  while (s.queued || s.trailUnread) {
    s.drainPipe(256);
    s.advance(5);
    if (s.rc.trailBacklog <= CAP) s.readTrail(512);
    else s.rc.trailHeld(s.now);
  }
  s.settle();
  s.check();
  assert.deepEqual(s.rc.counts, { live: 1024, recovered: 60_000 - 1024, trail: 0, pipeOnly: 0 });
});

test('finish(): the pipe read to empty after the last trail read; everything left is decided', () => {
  const s = new Sim();
  s.commitMany(range(0, 5));
  s.commit(rec(100), { trail: false });
  s.dropNext(rec(5));
  s.commit(rec(101), { trail: false });
  s.readTrail();
  s.drainPipe(Infinity, { mark: false });
  assert.equal(s.out.length, 5);
  assert.equal(s.rc.finish(), 3);
  s.check();
  assert.deepEqual(s.rc.counts, { live: 5, recovered: 1, trail: 0, pipeOnly: 2 });
  assert.equal(s.rc.finish(), 0, 'a second finish has nothing left');
});

test('odd input does not throw: empty records, hash collisions on equal length, a clock that goes back', () => {
  const out: SpoolAppend[] = [];
  const rc = new Reconciler({ pipeSession: SESSION }, (r) => out.push(r));
  rc.pushTrail(Buffer.alloc(0), TRAIL_FILE, 0, 1, 100);
  rc.pushPipe(Buffer.alloc(0), 0, 100);
  assert.equal(rc.pump(50), 1);
  assert.deepEqual(origins(out), ['live']);
  rc.drained(-5, 0);
  rc.setKernelDrops(-1);
  rc.discardedPipe(0);
  assert.equal(rc.pump(Number.NaN), 0);
  assert.equal(rc.finish(), 0);
});

/**
 * One random schedule: the kernel commits records in bursts (some dropped, some without a trail copy, some identical
 * twins of a record a few before), the drain and the trail reader take them in random-sized steps, time passes.
 */
function randomRun(seed: number, opts: { preOpen: boolean; pipeOnlyRate: number; twinRate: number }): Sim {
  const r = prng(seed);
  const s = new Sim({ qlimit: 8 + Math.floor(r() * 64), pipeOpen: !opts.preOpen, dropsKnown: true });
  let id = 0;
  let preOpen = Math.floor(r() * 30);
  const recent: Buffer[] = [];
  for (let step = 0; step < 400; step++) {
    const x = r();
    if (x < 0.5) {
      for (let k = Math.floor(r() * 20); k > 0; k--) {
        // (a twin of a record without a trail copy, or one without a copy itself, cannot be told from the other)
        const twin = recent.length > 0 && r() < opts.twinRate;
        const bytes = twin ? recent[recent.length - 1 - Math.floor(r() * Math.min(5, recent.length))]! : rec(1000 + id++);
        const y = r();
        if (y < opts.pipeOnlyRate && !twin) s.commit(bytes, { trail: false });
        else {
          recent.push(bytes);
          if (y < opts.pipeOnlyRate + 0.02) s.dropNext(bytes);
          else s.commit(bytes);
        }
      }
      if (!s.pipeOpen && --preOpen <= 0) s.pipeOpen = true;
    } else if (x < 0.7) s.drainPipe(1 + Math.floor(r() * 30));
    else if (x < 0.9) s.readTrail(1 + Math.floor(r() * 30));
    else s.advance(Math.floor(r() * 80));
  }
  s.pipeOpen = true;
  s.settle();
  return s;
}

test('randomised schedules (fixed seeds): drops, pipe-only records and near identical twins, every record once, in order, with its origin', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const s = randomRun(seed, { preOpen: false, pipeOnlyRate: 0.05, twinRate: 0.01 });
    try {
      s.check();
    } catch (err) {
      (err as Error).message = `seed ${seed}: ${(err as Error).message}`;
      throw err;
    }
  }
});

test('randomised schedules (fixed seeds): records from before the pipe was opened, and drops: every record once, in order, counts right', () => {
  // which unclaimed records are trail and which recovered follows the drop counter's timing (see above)
  for (let seed = 1; seed <= 60; seed++) {
    const s = randomRun(seed, { preOpen: true, pipeOnlyRate: 0, twinRate: 0.01 });
    try {
      s.check({ originsAsCounts: true });
    } catch (err) {
      (err as Error).message = `seed ${seed}: ${(err as Error).message}`;
      throw err;
    }
  }
});

test('flushPipe (shutdown, trail read to its end): waiting pipe records with no trail copy are kept as pipe-only at once; unclaimed trail records keep waiting', () => {
  const s = new Sim({ pipeOnlyAfterMs: 600_000 });
  s.commitMany(range(0, 10));
  s.commitMany(range(10, 13), { trail: false }); // the trail failed to write the last three
  s.dropNext(rec(13)); // and the pipe dropped one the trail has
  s.readTrail();
  s.drainPipe(Infinity, { mark: false });
  s.advance(10);
  s.rc.pump(s.now);
  assert.equal(s.out.length, 10, 'without a later pipe record or the timeout, nothing decides them');
  assert.equal(s.rc.pipeBacklog, 3);
  assert.equal(s.rc.flushPipe(s.now), 3);
  assert.deepEqual(origins(s.out).slice(10), ['pipeOnly', 'pipeOnly', 'pipeOnly']);
  assert.deepEqual(s.out.slice(10).map((r) => r.sourceFile), [SESSION, SESSION, SESSION]);
  assert.equal(s.rc.trailBacklog, 1, 'the dropped record waits for a mark (or is read again by the next run)');
  // a pipe record whose copy is among the waiting trail records is still matched, not taken as pipe-only
  const t = new Sim({ pipeOnlyAfterMs: 600_000 });
  t.commitMany(range(0, 4));
  t.readTrail();
  t.drainPipe(2, { mark: false });
  t.commitMany(range(4, 6), { trail: false });
  t.drainPipe(Infinity, { mark: false });
  t.rc.flushPipe(t.now);
  t.check();
  assert.deepEqual(origins(t.out), ['live', 'live', 'live', 'live', 'pipeOnly', 'pipeOnly']);
});
