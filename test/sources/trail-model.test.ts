/**
 * The trail follower against the kernel model process (src/testing/kernel-model), which writes trails exactly as
 * auditd does: rotation by filesz, `current` briefly missing, moves between `dir:`s, crash recovery at restart,
 * expire-after. What the follower delivers is compared with the model's ground truth: every record written to the
 * trail, at its file and offset, exactly once, byte for byte.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { followTrail, type FollowTrailOptions, type TrailFollower, type TrailItem } from '../../src/sources/trail/follow.js';
import type { TrailCursor } from '../../src/sources/trail/cursor.js';
import { readGroundTruth, startKernelModel, type KernelModel, type TruthRecord } from '../../src/testing/kernel-model/index.js';

const T = 60_000;
const T0 = Date.UTC(2025, 4, 17, 9, 30, 0);

const opened = new Set<TrailFollower>();
const models = new Set<KernelModel>();
function follow(opts: FollowTrailOptions): TrailFollower {
  const f = followTrail(opts);
  opened.add(f);
  return f;
}
async function model(opts: Parameters<typeof startKernelModel>[0]): Promise<KernelModel> {
  const m = await startKernelModel(opts);
  models.add(m);
  return m;
}
afterEach(async () => {
  for (const f of opened) await f.close();
  opened.clear();
  for (const m of models) await m.kill().catch(() => undefined);
  models.clear();
});

interface Delivered {
  prefix: string;
  offset: number;
  bytes: Buffer;
}

function trailFiles(dirs: string[]): Array<{ dir: string; name: string }> {
  return dirs
    .flatMap((dir) => readdirSync(dir).filter((n) => /^\d{14}\./.test(n)).map((name) => ({ dir, name })))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The trail records of the ground truth, in commit order, as (prefix, offset, bytes) read from the final files. */
function expected(truth: TruthRecord[], dirs: string[]): Delivered[] {
  const byPrefix = new Map(trailFiles(dirs).map((f) => [f.name.slice(0, 15), readFileSync(join(f.dir, f.name))]));
  return truth
    .filter((r) => r.trail.fate === 'written')
    .map((r) => {
      const prefix = basename(r.trail.file!).slice(0, 15);
      const file = byPrefix.get(prefix);
      assert.ok(file, `the truth's file ${r.trail.file} is still there`);
      return { prefix, offset: r.trail.offset!, bytes: file.subarray(r.trail.offset!, r.trail.offset! + r.length) };
    });
}

function assertSame(got: Delivered[], want: Delivered[]): void {
  assert.equal(got.length, want.length, `delivered ${got.length} records, the model wrote ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    assert.equal(`${g.prefix}@${g.offset}`, `${w.prefix}@${w.offset}`, `record ${i}: position`);
    assert.ok(g.bytes.equals(w.bytes), `record ${i} (${w.prefix}@${w.offset}): bytes differ`);
  }
}

/**
 * Consumes a follower until the `end` of the file with prefix `last`, which is known only once the writer has
 * stopped: call `finish(last)` then. The end may already have passed by then, which closes the follower.
 */
function consume(f: TrailFollower, sink: Delivered[], other: TrailItem[], states?: Set<string>) {
  const ended = new Map<string, string>(); // prefix → the file's name at its end
  let last: string | undefined;
  const done = (async () => {
    for await (const it of f) {
      if (it.type === 'record') {
        sink.push({ prefix: it.meta.file.slice(0, 15), offset: it.offset, bytes: Buffer.from(it.bytes) });
        states?.add(it.meta.state);
      } else if (it.type !== 'file') other.push(it);
      if (it.type === 'file' && it.phase === 'end') ended.set(it.meta.file.slice(0, 15), it.meta.file);
      if (last !== undefined && ended.has(last)) return;
    }
  })();
  return {
    /** Names of the files read to their end, by prefix. */
    ended,
    async finish(lastPrefix: string): Promise<void> {
      last = lastPrefix;
      if (ended.has(last)) await f.close();
      await done;
      assert.ok(ended.has(last), `the follower read ${last} to its end`);
    },
  };
}

test('kernel model: rotation by filesz across two dirs with `current` gaps; every trail record delivered once, byte-exact', { timeout: T }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'bsmkit-trail-model-'));
  const dirs = [join(root, 'a'), join(root, 'b')];
  const m = await model({ endpoint: join(root, 'ep'), trailDirs: dirs, filesz: 24 * 1024, symlinkGapMs: 15, startTime: T0, clock: 'manual', seed: 5 });
  const f = follow({ dirs, pollIntervalMs: 20, currentLinks: [m.info.currentLink] });
  const got: Delivered[] = [];
  const other: TrailItem[] = [];
  const consumer = consume(f, got, other);
  for (let i = 0; i < 40; i++) {
    await m.generate(150 + (i % 5) * 60);
    await m.advanceClock(1000);
    if (i % 7 === 3) await m.rotate({ nextDir: true });
    if (i % 4 === 0) await new Promise((r) => setTimeout(r, 5)); // let the follower catch up sometimes, not always
  }
  await m.stop();
  const files = trailFiles(dirs);
  assert.ok(files.length >= 10, `the model rotated (${files.length} files)`);
  assert.ok(files.every((x) => /^\d{14}\.\d{14}$/.test(x.name)), 'every file terminated');
  await consumer.finish(files.at(-1)!.name.slice(0, 15));
  assert.deepEqual(other, [], 'no damage, no loss');
  assertSame(got, expected(readGroundTruth(m.info.truthDir).records, dirs));
});

test('kernel model: restarts from saved cursors while the model writes and rotates; nothing lost or twice', { timeout: T }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'bsmkit-trail-model-'));
  const dirs = [join(root, 'trail')];
  const m = await model({ endpoint: join(root, 'ep'), trailDirs: dirs, filesz: 16 * 1024, symlinkGapMs: 5, startTime: T0, clock: 'manual', seed: 9 });
  let last: string | undefined;
  const got: Delivered[] = [];
  let cursor: TrailCursor | undefined;
  let sessions = 0;
  let session: TrailFollower | undefined;
  // The end of the last file may pass before the writer has stopped and named it: then end the waiting session.
  const finished = () => last !== undefined && cursor?.done === true && cursor.file.slice(0, 15) === last;
  const stopIfDone = () => {
    if (finished()) void session?.close();
  };
  const writer = (async () => {
    for (let i = 0; i < 30; i++) {
      await m.generate(200);
      await m.advanceClock(1000);
    }
    await m.stop();
    last = trailFiles(dirs).at(-1)!.name.slice(0, 15);
    stopIfDone();
  })();
  for (let done = false; !done && !finished(); ) {
    sessions++;
    const f = follow({ dirs, from: cursor ?? 'start', pollIntervalMs: 10, currentLinks: [m.info.currentLink] });
    session = f;
    let n = 0;
    const take = 50 + ((sessions * 37) % 400);
    for await (const it of f) {
      assert.ok(it.type === 'record' || it.type === 'file', `unexpected ${it.type}`);
      if (it.type === 'record') got.push({ prefix: it.meta.file.slice(0, 15), offset: it.offset, bytes: Buffer.from(it.bytes) });
      cursor = JSON.parse(JSON.stringify(it.cursor)) as TrailCursor; // as a cursor file stores it
      if (it.type === 'file' && it.phase === 'end' && it.meta.file.slice(0, 15) === last) {
        done = true;
        break;
      }
      if (++n >= take) break;
    }
    await f.close();
    opened.delete(f);
  }
  await writer;
  assert.ok(sessions >= 5, `restarted ${sessions} times`);
  assertSame(got, expected(readGroundTruth(m.info.truthDir).records, dirs));
});

test('kernel model: killed mid-file, restarted: the file is followed through its rename to *.crash_recovery', { timeout: T }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'bsmkit-trail-model-'));
  const dirs = [join(root, 'trail')];
  const m1 = await model({ endpoint: join(root, 'ep1'), trailDirs: dirs, startTime: T0, clock: 'manual', seed: 1 });
  const f = follow({ dirs, pollIntervalMs: 20 });
  const got: Delivered[] = [];
  const other: TrailItem[] = [];
  const states = new Set<string>();
  const consumer = consume(f, got, other, states);
  await m1.generate(700);
  await m1.sync();
  await new Promise((r) => setTimeout(r, 50)); // the follower is reading the active file
  await m1.kill();
  const truth1 = readGroundTruth(m1.info.truthDir).records;
  const m2 = await model({ endpoint: join(root, 'ep2'), trailDirs: dirs, startTime: T0 + 3_600_000, clock: 'manual', seed: 2 });
  await m2.generate(500);
  await m2.stop();
  const files = trailFiles(dirs).map((x) => x.name);
  assert.equal(files.length, 2);
  assert.match(files[0]!, /\.crash_recovery$/);
  await consumer.finish(files[1]!.slice(0, 15));
  assert.deepEqual(other, [], 'a crash between records leaves no damage');
  assert.ok(states.has('not_terminated'), 'records were read while the file was active');
  assert.equal(consumer.ended.get(files[0]!.slice(0, 15)), files[0], 'the file was finished under its crash_recovery name');
  assertSame(got, expected([...truth1, ...readGroundTruth(m2.info.truthDir).records], dirs));
});

test('kernel model: expire-after while the consumer stalls: held files survive, files it could not hold are reported with their time range', { timeout: T }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'bsmkit-trail-model-'));
  const dirs = [join(root, 'trail')];
  const m = await model({ endpoint: join(root, 'ep'), trailDirs: dirs, expireAfter: { bytes: 60_000 }, startTime: T0, clock: 'manual', seed: 4 });
  await m.generate(200);
  // Two followers take their first item, then their consumers stall. One may hold a single file open, the other
  // the default number: while stalled, both keep discovering (and opening what they may) in the background.
  const one = follow({ dirs, pollIntervalMs: 10, maxOpenFiles: 1 });
  const many = follow({ dirs, pollIntervalMs: 10 });
  const its = [one[Symbol.asyncIterator](), many[Symbol.asyncIterator]()];
  const firsts = await Promise.all(its.map(async (it) => (await it.next()).value as TrailItem));
  for (const x of firsts) assert.ok(x.type === 'file' && x.phase === 'open');
  for (let i = 0; i < 10; i++) {
    await m.advanceClock(1000);
    assert.equal(await m.rotate(), true);
    await m.generate(200);
    await new Promise((r) => setTimeout(r, 40)); // a background scan sees each new file while it is active
  }
  await m.stop();
  const truth = readGroundTruth(m.info.truthDir);
  const expired = truth.events.filter((e) => e.type === 'expire').map((e) => basename(String(e.path)));
  assert.ok(expired.length >= 3, `the model expired files (${expired.length})`);
  assert.equal(expired[0]!.slice(0, 15), firsts[0]!.type === 'file' ? firsts[0].meta.file.slice(0, 15) : '', 'the first file expired too');
  const last = trailFiles(dirs).at(-1)!.name.slice(0, 15);
  const drain = async (it: AsyncIterator<TrailItem>): Promise<TrailItem[]> => {
    const items: TrailItem[] = [];
    for (;;) {
      const r = await it.next();
      assert.equal(r.done, false);
      const v = r.value as TrailItem;
      items.push(v.type === 'record' ? { ...v, bytes: Buffer.from(v.bytes) } : v);
      if (v.type === 'file' && v.phase === 'end' && v.meta.file.slice(0, 15) === last) return items;
    }
  };
  const positions = (items: TrailItem[]) => items.filter((x) => x.type === 'record').map((x) => (x.type === 'record' ? `${x.meta.file.slice(0, 15)}@${x.offset}` : ''));
  const truthPositions = (skip: Set<string>) =>
    truth.records
      .filter((r) => r.trail.fate === 'written' && !skip.has(basename(r.trail.file!).slice(0, 15)))
      .map((r) => `${basename(r.trail.file!).slice(0, 15)}@${r.trail.offset}`);

  // Holding every file: nothing is lost although most files were unlinked before they were read.
  const all = await drain(its[1]!);
  assert.deepEqual(all.filter((x) => x.type !== 'record' && x.type !== 'file'), []);
  assert.deepEqual(positions(all), truthPositions(new Set()));

  // Holding one file: the first (held) is read completely; every other expired file is a certain, named loss.
  const items = await drain(its[0]!);
  const losses = items.filter((x) => x.type === 'loss').map((x) => (x.type === 'loss' ? x.loss : undefined)!);
  assert.deepEqual(losses.map((l) => l.file), expired.slice(1));
  for (const l of losses) {
    assert.equal(l.reason, 'expired');
    assert.equal(l.certain, true);
    assert.ok(l.start!.getTime() < l.end!.getTime());
  }
  assert.deepEqual(items.filter((x) => x.type === 'diagnostic'), []);
  assert.deepEqual(positions(items), truthPositions(new Set(expired.slice(1).map((n) => n.slice(0, 15)))));
});
