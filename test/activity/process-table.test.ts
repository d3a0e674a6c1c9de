/**
 * Process reconstruction on records built with the encoder, with the expected tables and events written out by
 * hand. Every scenario runs through both paths: raw bytes (factsFromRange) and decoded records (factsFromRecord).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessTracker, type TrackerOptions } from '../../src/activity/tracker.js';
import type { ProcessEvent, ProcessInfo } from '../../src/activity/types.js';
import {
  AUE_PDFORK, AUE_VFORK, T0, decoded, exec, exit, fork, other, spawn, trail, type Rec, type Who,
} from './build.js';

const PATHS = ['bytes', 'decoded'] as const;

function run(recs: Rec[], path: (typeof PATHS)[number], opts: TrackerOptions = {}): { t: ProcessTracker; events: ProcessEvent[] } {
  const events: ProcessEvent[] = [];
  const t = new ProcessTracker({ ...opts, onEvent: (e) => events.push(e) });
  if (path === 'bytes') {
    const input = t.input('t.bsm');
    input.push(trail(recs));
    input.end();
  } else {
    for (const r of decoded(recs)) t.push(r, 't.bsm');
  }
  t.end();
  return { t, events };
}

/** The columns a human checks in a process table. */
function row(p: ProcessInfo) {
  return {
    pid: p.pid,
    ppid: p.ppid,
    exe: p.image?.executable,
    argv: p.image?.argv,
    euid: p.cred.euid,
    reconstructed: p.reconstructed,
    launchedBy: p.launchedBy,
  };
}

function ev(e: ProcessEvent) {
  return {
    kind: e.kind,
    type: e.launchType,
    action: e.action,
    pid: e.process.pid,
    ppid: e.process.ppid,
    success: e.success,
    exe: (e.attempted ?? e.process.image)?.executable,
  };
}

const launchd: Who = { pid: 1 };
const root = (pid: number): Who => ({ pid });
const alice = (pid: number): Who => ({ pid, auid: 501, euid: 501, egid: 20, ruid: 501, rgid: 20, sid: 100001, addr: '192.0.2.7' });

for (const path of PATHS) {
  test(`exec chain: sh → env → python3 keeps the pid, the parent and the earlier images (${path})`, () => {
    const recs = [
      fork(T0, launchd, 100),
      exec(T0 + 10, root(100), { argv: ['sh', '-c', 'env python3 x.py'], path: '/bin/sh' }),
      exec(T0 + 20, root(100), { argv: ['env', 'python3', 'x.py'], path: '/usr/bin/env' }),
      exec(T0 + 30, root(100), { argv: ['python3', 'x.py'], path: '/usr/bin/python3' }),
    ];
    const { t, events } = run(recs, path);
    assert.deepEqual(events.map(ev), [
      { kind: 'launch', type: 'fork', action: 'fork', pid: 100, ppid: 1, success: true, exe: undefined },
      { kind: 'launch', type: 'exec', action: 'execve', pid: 100, ppid: 1, success: true, exe: '/bin/sh' },
      { kind: 'launch', type: 'exec', action: 'execve', pid: 100, ppid: 1, success: true, exe: '/usr/bin/env' },
      { kind: 'launch', type: 'exec', action: 'execve', pid: 100, ppid: 1, success: true, exe: '/usr/bin/python3' },
    ]);
    assert.deepEqual(t.live().map(row), [
      { pid: 1, ppid: undefined, exe: undefined, argv: undefined, euid: 0, reconstructed: true, launchedBy: undefined },
      { pid: 100, ppid: 1, exe: '/usr/bin/python3', argv: ['python3', 'x.py'], euid: 0, reconstructed: false, launchedBy: 'fork' },
    ]);
    const p = t.table.get(100)!;
    assert.deepEqual(p.previous.map((i) => i.executable), ['/bin/sh', '/usr/bin/env']);
    assert.equal(events[3].previousImage?.executable, '/usr/bin/env');
    assert.equal(events[3].parent?.pid, 1);
    assert.equal(p.start, T0);
    // Every event of the one process carries the same entity id.
    assert.equal(new Set(events.map((e) => e.process.entityId)).size, 1);
    assert.equal(t.stats.missForkSubject, 1); // launchd itself: seen only as a subject
  });

  test(`fork storm: vfork/pdfork/fork children, each exits; only the parent stays (${path})`, () => {
    const parent = alice(500);
    const recs: Rec[] = [
      fork(T0, parent, 601),
      fork(T0 + 1, parent, 602, { event: AUE_VFORK }),
      fork(T0 + 2, parent, 603, { event: AUE_PDFORK }),
      exit(T0 + 3, alice(602), 0),
      exit(T0 + 4, alice(601), 256),
      exit(T0 + 5, alice(603), 9),
    ];
    const { t, events } = run(recs, path);
    assert.deepEqual(events.map((e) => [e.kind, e.action, e.process.pid, e.process.ppid, e.process.exit?.status]), [
      ['launch', 'fork', 601, 500, undefined],
      ['launch', 'vfork', 602, 500, undefined],
      ['launch', 'pdfork', 603, 500, undefined],
      ['terminate', 'exit', 602, 500, 0],
      ['terminate', 'exit', 601, 500, 256],
      ['terminate', 'exit', 603, 500, 9],
    ]);
    assert.deepEqual(t.live().map(row), [
      { pid: 500, ppid: undefined, exe: undefined, argv: undefined, euid: 501, reconstructed: true, launchedBy: undefined },
    ]);
    // Children inherit the parent's credentials at fork.
    assert.equal(events[0].process.cred.auid, 501);
    assert.equal(events[0].process.cred.terminal.addr, '192.0.2.7');
    assert.equal(t.table.size, 1);
  });

  test(`a large fork storm leaves memory bounded by the live processes (${path})`, () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 3000; i++) {
      const pid = 1000 + (i % 500); // pids are reused after their exit
      recs.push(fork(T0 + i * 100, root(2), pid), exec(T0 + i * 100 + 1, root(pid), { argv: ['true'], path: '/usr/bin/true' }), exit(T0 + i * 100 + 2, root(pid)));
    }
    const { t, events } = run(recs, path, { tombstoneMs: 10_000 });
    assert.equal(events.length, 9000);
    assert.equal(t.table.size, 1); // pid 2
    assert.equal(t.stats.pidReused, 0);
    // Tombstones last 10 s of record time: 100 exits at most (one per 100 ms).
    assert.ok(t.table.tombstones <= 101, `tombstones ${t.table.tombstones}`);
    assert.equal(t.held, 0);
  });

  test(`pid reuse: a launch naming a live pid ends the old process (inferred); after an exit, a new entity (${path})`, () => {
    const recs = [
      fork(T0, root(50), 200),
      exec(T0 + 1, root(200), { argv: ['old'], path: '/bin/old' }),
      // the exit of the first 200 was lost
      fork(T0 + 5000, root(50), 200),
      exec(T0 + 5001, root(200), { argv: ['new'], path: '/bin/new' }),
      exit(T0 + 6000, root(200), 0),
      fork(T0 + 7000, root(50), 200),
    ];
    const { t, events } = run(recs, path);
    assert.deepEqual(events.map((e) => [e.kind, e.action, e.process.pid, e.inferred ?? false, (e.process.image)?.executable]), [
      ['launch', 'fork', 200, false, undefined],
      ['launch', 'execve', 200, false, '/bin/old'],
      ['terminate', 'pid-reused', 200, true, '/bin/old'],
      ['launch', 'fork', 200, false, undefined],
      ['launch', 'execve', 200, false, '/bin/new'],
      ['terminate', 'exit', 200, false, '/bin/new'],
      ['launch', 'fork', 200, false, undefined],
    ]);
    const ids = [events[0], events[3], events[6]].map((e) => e.process.entityId);
    assert.equal(new Set(ids).size, 3, 'three holders of pid 200, three entity ids');
    assert.equal(events[2].process.entityId, ids[0]);
    assert.equal(t.stats.pidReused, 1);
    assert.deepEqual(t.live().map((p) => [p.pid, p.entityId]), [[50, t.table.get(50)!.entityId], [200, ids[2]]]);
  });

  test(`orphans: the child outlives its parent and keeps its ppid (${path})`, () => {
    const recs = [
      fork(T0, root(10), 20),
      fork(T0 + 1, root(20), 30),
      exit(T0 + 2, root(20), 0),
      exec(T0 + 3, root(30), { argv: ['daemon'], path: '/usr/sbin/daemon' }),
    ];
    const { t, events } = run(recs, path);
    assert.equal(events[3].kind, 'launch');
    assert.equal(events[3].process.ppid, 20);
    assert.equal(events[3].parent, undefined, 'the parent exited: no live parent object');
    assert.deepEqual(t.live().map(row), [
      { pid: 10, ppid: undefined, exe: undefined, argv: undefined, euid: 0, reconstructed: true, launchedBy: undefined },
      { pid: 30, ppid: 20, exe: '/usr/sbin/daemon', argv: ['daemon'], euid: 0, reconstructed: false, launchedBy: 'fork' },
    ]);
  });

  test(`failed exec and failed fork change nothing and are reported as failures (${path})`, () => {
    const recs = [
      fork(T0, root(1), 446),
      exec(T0 + 3, root(446), { argv: ['periodic', 'hourly'], path: '/usr/libexec/periodic', status: 2 }),
      fork(T0 + 4, root(446), 0, { status: 35 }),
      exec(T0 + 5, root(446), { argv: ['ls'], path: '/bin/ls' }),
    ];
    const { t, events } = run(recs, path);
    assert.deepEqual(events.map(ev), [
      { kind: 'launch', type: 'fork', action: 'fork', pid: 446, ppid: 1, success: true, exe: undefined },
      { kind: 'launch', type: 'exec', action: 'execve', pid: 446, ppid: 1, success: false, exe: '/usr/libexec/periodic' },
      { kind: 'launch', type: 'fork', action: 'fork', pid: 446, ppid: 1, success: false, exe: undefined },
      { kind: 'launch', type: 'exec', action: 'execve', pid: 446, ppid: 1, success: true, exe: '/bin/ls' },
    ]);
    assert.equal(events[1].status, 2);
    assert.equal(events[1].process.image, undefined, 'the failed exec did not replace the image');
    assert.equal(events[3].previousImage, undefined, 'the failed exec is not an earlier image');
    assert.deepEqual(t.live().map((p) => p.pid), [1, 446]);
    const quiet = run(recs, path, { failures: false });
    assert.deepEqual(quiet.events.map((e) => e.success), [true, true]);
  });

  test(`exec without fork and processes first seen mid-life are reconstructed with an unknown parent (${path})`, () => {
    const recs = [
      other(T0, alice(300)),
      exec(T0 + 1, root(301), { argv: ['sshd'], path: '/usr/sbin/sshd' }),
      exit(T0 + 2, root(302), 1),
    ];
    const { t, events } = run(recs, path);
    assert.deepEqual(t.live().map(row), [
      { pid: 300, ppid: undefined, exe: undefined, argv: undefined, euid: 501, reconstructed: true, launchedBy: undefined },
      { pid: 301, ppid: undefined, exe: '/usr/sbin/sshd', argv: ['sshd'], euid: 0, reconstructed: true, launchedBy: undefined },
    ]);
    assert.deepEqual(events.map((e) => [e.kind, e.process.pid, e.process.reconstructed, e.process.ppid]), [
      ['launch', 301, true, undefined],
      ['terminate', 302, true, undefined],
    ]);
    assert.equal(t.stats.missForkSubject, 1);
    assert.equal(t.stats.missExecSubject, 1);
    assert.equal(t.stats.missExitSubject, 1);
  });

  test(`records out of order within the bound are applied in time order (${path})`, () => {
    // File order: the child's exec and open reach the trail before the parent's fork (stamped earlier).
    const recs = [
      exec(T0 + 300, root(700), { argv: ['make'], path: '/usr/bin/make' }),
      other(T0 + 400, root(700)),
      fork(T0 + 100, root(600), 700),
      exit(T0 + 900, root(700), 0),
    ];
    const { t, events } = run(recs, path, { reorderMs: 1000 });
    assert.deepEqual(events.map(ev), [
      { kind: 'launch', type: 'fork', action: 'fork', pid: 700, ppid: 600, success: true, exe: undefined },
      { kind: 'launch', type: 'exec', action: 'execve', pid: 700, ppid: 600, success: true, exe: '/usr/bin/make' },
      { kind: 'terminate', type: undefined, action: 'exit', pid: 700, ppid: 600, success: true, exe: '/usr/bin/make' },
    ]);
    assert.equal(t.stats.lateRecords, 0);
    assert.equal(t.stats.missExecSubject, 0);
    assert.deepEqual(t.live().map((p) => p.pid), [600]);
  });

  test(`records out of order beyond the bound: a late fork adopts its early-seen child, late records never resurrect or end a successor (${path})`, () => {
    const recs = [
      exec(T0 + 100, root(700), { argv: ['make'], path: '/usr/bin/make' }), // reconstructed: no fork yet
      other(T0 + 5000, root(800)),
      fork(T0 + 50, root(600), 700), // 4.95 s late: beyond the 1 s bound
      fork(T0 + 6000, root(600), 900),
      exit(T0 + 6100, root(900), 0),
      other(T0 + 9000, root(600)),
      other(T0 + 6050, root(900)), // late record of the exited 900
      fork(T0 + 9500, root(600), 901),
      exit(T0 + 9400, root(901), 3), // late by 100 ms: within the bound, sorted before the fork → exit of an unknown 901
    ];
    const { t, events } = run(recs, path, { reorderMs: 1000 });
    assert.equal(t.stats.lateRecords, 2);
    const p700 = t.table.get(700)!;
    assert.equal(p700.ppid, 600);
    assert.equal(p700.reconstructed, false);
    assert.equal(p700.image?.executable, '/usr/bin/make', 'the exec seen first stays the image');
    assert.equal(t.table.get(900), undefined, 'the late record of 900 did not resurrect it');
    assert.equal(t.stats.staleRecords, 1);
    assert.deepEqual(t.live().map((p) => [p.pid, p.ppid, p.reconstructed]), [
      [600, undefined, true], [700, 600, false], [800, undefined, true], [901, 600, false],
    ]);
    const kinds = events.map((e) => `${e.kind}:${e.action}:${e.process.pid}`);
    assert.deepEqual(kinds, [
      'launch:execve:700', 'launch:fork:700', 'launch:fork:900', 'terminate:exit:900', 'terminate:exit:901', 'launch:fork:901',
    ]);
  });

  test(`a late exit of an earlier holder does not end the live successor (${path})`, () => {
    const recs = [
      fork(T0, root(1), 42),
      fork(T0 + 10_000, root(1), 42), // first 42's exit lost: inferred end
      other(T0 + 12_000, root(1)), // releases the second fork from the reorder buffer
      exit(T0 + 5000, root(42), 0), // then the first 42's exit arrives 7 s late: older than the live 42's start
    ];
    const { t, events } = run(recs, path, { reorderMs: 1000 });
    assert.deepEqual(events.map((e) => `${e.kind}:${e.action}`), ['launch:fork', 'terminate:pid-reused', 'launch:fork']);
    assert.equal(t.table.get(42)?.start, T0 + 10_000);
    assert.equal(t.stats.staleRecords, 1);
  });

  test(`posix_spawn with exec env, attributes, cdhash data token and identity token (${path})`, () => {
    const cd = '9003b5ecb83f531df993b3a68d34cde808b38381';
    const recs = [
      spawn(T0, alice(400), 401, {
        argv: ['/usr/sbin/airportd', '-x'],
        env: ['HOME=/var/root', 'LANG=C'],
        path: '/usr/libexec/airportd',
        attr: { mode: 0o100755, uid: 0, gid: 0, fsid: 16777220, nodeid: 1077n, dev: 0 },
        cdhash: cd,
        identity: { signingId: 'com.apple.airport.airportd', teamId: '', cdhash: cd, signerType: 1 },
      }),
      exec(T0 + 10, alice(401), { event: 43131, path: '/usr/bin/true', identity: { signingId: 'com.apple.true', teamId: 'ABCDE12345', cdhash: cd } }),
    ];
    const { t, events } = run(recs, path);
    const s = events[0];
    assert.equal(s.launchType, 'spawn');
    assert.equal(s.action, 'posix_spawn');
    assert.equal(s.process.pid, 401);
    assert.equal(s.process.ppid, 400);
    assert.deepEqual(s.process.image, {
      paths: ['/usr/libexec/airportd'],
      executable: '/usr/libexec/airportd',
      argv: ['/usr/sbin/airportd', '-x'],
      env: ['HOME=/var/root', 'LANG=C'],
      file: { mode: 0o100755, uid: 0, gid: 0, fsid: 16777220, inode: 1077, dev: 0 },
      code: { cdhash: cd, signerType: 1, signingId: 'com.apple.airport.airportd', teamId: '' },
      time: T0,
    });
    const m = events[1];
    assert.equal(m.action, 'mac_execve');
    assert.equal(m.process.image?.argv, undefined, 'mac_execve records carry no exec args');
    assert.deepEqual(m.process.image?.code, { signerType: 0, signingId: 'com.apple.true', teamId: 'ABCDE12345', cdhash: cd });
    assert.equal(t.table.get(401)?.previous.length, 1);
  });

  test(`--at: the table as it was at a time (${path})`, () => {
    const recs = [
      fork(T0, root(1), 10),
      fork(T0 + 1000, root(1), 11),
      exit(T0 + 2000, root(10), 0),
      exit(T0 + 3000, root(11), 0),
    ];
    const at = (until: number) => run(recs, path, { until }).t.live().map((p) => p.pid);
    assert.deepEqual(at(T0 - 1), []);
    assert.deepEqual(at(T0 + 1500), [1, 10, 11]);
    assert.deepEqual(at(T0 + 2500), [1, 11]);
    assert.deepEqual(at(T0 + 3000), [1]);
  });
}

test('maxProcesses evicts the least recently seen tenth (lost exits cannot grow the table without end)', () => {
  const recs: Rec[] = [];
  for (let i = 0; i < 100; i++) recs.push(other(T0 + i, root(1000 + i)));
  const { t } = run(recs, 'bytes', { maxProcesses: 50 });
  assert.ok(t.table.size <= 50);
  assert.ok(t.stats.evicted >= 50);
  assert.equal(t.table.get(1000), undefined, 'the oldest went first');
  assert.ok(t.table.get(1099));
});
