/**
 * `bsmkit class|classes|events|pipe-masks` run as a user runs them: a child process on real files in a temp dir.
 * Includes the crash-safety proof for edits: SIGKILL while the editor holds a written temp file (test hook), and
 * SIGKILL at random moments around an edit; the files are always either the old or the new complete content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dataFile } from '../../src/catalog/paths.js';
import { PAUSE_ENV } from '../../src/catalog/atomic-file.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(repo, 'src', 'cli', 'main.ts');
const nodeArgs = ['--import', 'tsx', main];

function bsmkit(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [...nodeArgs, ...args], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function upstreamDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-cli-cat-'));
  copyFileSync(dataFile('openbsm', 'audit_class'), join(dir, 'audit_class'));
  copyFileSync(dataFile('openbsm', 'audit_event'), join(dir, 'audit_event'));
  return dir;
}

/** Event lines of the shipped OpenBSM table whose class list names `cls`, counted by number (independent parse). */
function upstreamEventsWithClass(cls: string): number {
  const nums = new Set<string>();
  const last = new Map<string, string>();
  for (const line of readFileSync(dataFile('openbsm', 'audit_event'), 'latin1').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    last.set(f[0]!, f[3]!);
  }
  for (const [n, c] of last) if (c.split(',').includes(cls)) nums.add(n);
  return nums.size;
}

test('classes and events list the tables; --class filters by class; --json is machine-readable', () => {
  const dir = upstreamDir();
  try {
    const c = bsmkit(['classes', '--dir', dir]);
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, new RegExp(`^# classes from ${join(dir, 'audit_class')}`));
    assert.match(c.stdout, /^0x40000000  ex\s+\d+  exec$/m);
    assert.match(c.stderr, /audit_event:\d+: warning: AUE_kadmind_auth: unknown class 'ua'/, 'diagnostics name file and line');
    const j = JSON.parse(bsmkit(['classes', '--builtin', '--platform', 'openbsm', '--json']).stdout);
    assert.equal(j.classes.length, 20);
    assert.equal(j.source, 'builtin:openbsm');

    const e = bsmkit(['events', '--dir', dir, '--class', 'ex', '--json']);
    assert.equal(e.status, 0, e.stderr);
    const ev = JSON.parse(e.stdout).events as Array<{ number: number; name: string }>;
    assert.equal(ev.length, upstreamEventsWithClass('ex'));
    assert.ok(ev.some((x) => x.name === 'AUE_EXECVE'));
    const text = bsmkit(['events', '--builtin', '--platform', 'macos', '--class', 'aa']).stdout;
    assert.match(text, /^44901  AUE_SESSION_START/m, 'macOS table on request');
    const bad = bsmkit(['events', '--builtin', '--class', 'nosuch']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /unknown audit class 'nosuch'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pipe-masks prints the LOCAL pipe masks for a class expression', () => {
  const r = bsmkit(['pipe-masks', '--builtin', '--platform', 'openbsm', 'lo,+ex,-fr']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^preselect_mode: 2 \(AUDITPIPE_PRESELECT_MODE_LOCAL\)$/m);
  assert.match(r.stdout, /^flags:\s+am_success=0x40001000 am_failure=0x00001001$/m);
  assert.match(r.stdout, /^naflags:\s+am_success=0x40001000 am_failure=0x00001001$/m);
  const j = JSON.parse(bsmkit(['pipe-masks', '--builtin', '--platform', 'openbsm', '--naflags', 'na', '--json', 'ex']).stdout);
  assert.deepEqual(j.flags, { success: 0x40000000, failure: 0x40000000 });
  assert.deepEqual(j.naflags, { success: 0x400, failure: 0x400 });
  const bad = bsmkit(['pipe-masks', '--builtin', 'ex,zz']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown audit class 'zz'/);
});

test('class add --dry-run prints a diff and changes nothing; add, then remove, restore the files', () => {
  const dir = upstreamDir();
  try {
    const classOrig = readFileSync(join(dir, 'audit_class'));
    const eventOrig = readFileSync(join(dir, 'audit_event'));
    chmodSync(join(dir, 'audit_event'), 0o640);
    const dry = bsmkit(['class', 'add', 'xn', '--dir', dir, '--mask', '0x00400000', '--events', 'AUE_EXECVE,AUE_FORK', '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /^\+0x00400000:xn:custom class xn$/m);
    assert.match(dry.stdout, /^\+23:AUE_EXECVE:execve\(2\):pc,ex,xn$/m);
    assert.match(dry.stdout, /^would add class xn 0x00400000: 2 event number\(s\), 2 file\(s\)$/m);
    assert.ok(readFileSync(join(dir, 'audit_event')).equals(eventOrig));
    assert.deepEqual(readdirSync(dir).sort(), ['audit_class', 'audit_event']);

    const add = bsmkit(['class', 'add', 'xn', '--dir', dir, '--events', 'AUE_EXECVE,AUE_FORK']);
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, /^added class xn 0x00008000: 2 event number\(s\), 2 file\(s\) replaced$/m);
    assert.equal(statSync(join(dir, 'audit_event')).mode & 0o777, 0o640, 'mode kept');
    assert.ok(readFileSync(join(dir, 'audit_event.bak')).equals(eventOrig), 'backup');
    const ev = JSON.parse(bsmkit(['events', '--dir', dir, '--class', 'xn', '--json']).stdout).events;
    assert.deepEqual(ev.map((e: { number: number }) => e.number), [2, 23]);

    const dup = bsmkit(['class', 'add', 'xn', '--dir', dir, '--events', 'AUE_EXIT']);
    assert.equal(dup.status, 2);
    assert.match(dup.stderr, /class 'xn' already exists .*\[BSMKIT_E_CLASS_EDIT\]/);
    const taken = bsmkit(['class', 'add', 'yy', '--dir', dir, '--mask', '0x00008000', '--events', 'AUE_EXIT']);
    assert.match(taken.stderr, /already used by class 'xn'/);
    const usage = bsmkit(['class', 'add', 'yy', '--dir', dir]);
    assert.equal(usage.status, 1);
    assert.match(usage.stderr, /needs --events/);

    const rm = bsmkit(['class', 'remove', 'xn', '--dir', dir, '--no-backup']);
    assert.equal(rm.status, 0, rm.stderr);
    assert.ok(readFileSync(join(dir, 'audit_class')).equals(classOrig));
    assert.ok(readFileSync(join(dir, 'audit_event')).equals(eventOrig));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts `bsmkit class add` and resolves once stderr contains `marker` (or the process ends). */
function startUntil(args: string[], env: NodeJS.ProcessEnv, marker: string) {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: repo, env: { ...process.env, ...env } });
  let err = '';
  const seen = new Promise<string>((resolve) => {
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes(marker)) resolve(err);
    });
    child.on('close', () => resolve(err));
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(signal ? -1 : code)));
  return { child, seen, exited };
}

test('SIGKILL while a temp file is written but not yet renamed: old content stays whole; next run cleans up', async () => {
  for (const target of ['audit_class', 'audit_event']) {
    const dir = upstreamDir();
    try {
      const classOrig = readFileSync(join(dir, 'audit_class'));
      const eventOrig = readFileSync(join(dir, 'audit_event'));
      const run = startUntil(['class', 'add', 'xn', '--dir', dir, '--events', 'AUE_EXECVE'], { [PAUSE_ENV]: target }, 'paused before rename');
      const err = await run.seen;
      assert.match(err, /paused before rename .*\.tmp/, err);
      const temps = readdirSync(dir).filter((n) => n.endsWith('.tmp'));
      assert.equal(temps.length, 1, 'the new content sits in a temp file');
      assert.ok(readFileSync(join(dir, temps[0]!)).length > 0);
      run.child.kill('SIGKILL');
      assert.equal(await run.exited, -1);
      if (target === 'audit_class') {
        // Killed before the first rename: both files untouched.
        assert.ok(readFileSync(join(dir, 'audit_class')).equals(classOrig));
      } else {
        // audit_class was already replaced (the class exists, unused): a state libbsm reads fine.
        assert.match(readFileSync(join(dir, 'audit_class'), 'utf8'), /^0x00008000:xn:custom class xn$/m);
      }
      assert.ok(readFileSync(join(dir, 'audit_event')).equals(eventOrig), 'audit_event is the old, complete file');
      // The next edit takes over the dead editor's lock and removes its temp file.
      const next = target === 'audit_class'
        ? bsmkit(['class', 'add', 'xn', '--dir', dir, '--events', 'AUE_EXECVE'])
        : bsmkit(['class', 'remove', 'xn', '--dir', dir]);
      assert.equal(next.status, 0, next.stderr);
      assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.includes('lock')), []);
      if (target === 'audit_event') assert.ok(readFileSync(join(dir, 'audit_class')).equals(classOrig));
      else assert.match(readFileSync(join(dir, 'audit_event'), 'utf8'), /^23:AUE_EXECVE:execve\(2\):pc,ex,xn$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('SIGKILL at random moments around an edit: each file is always the old or the new complete content', async () => {
  // The new contents, from one uninterrupted run.
  const ref = upstreamDir();
  const args = (dir: string) => ['class', 'add', 'xn', '--dir', dir, '--events', 'AUE_EXECVE,AUE_FORK,AUE_VFORK'];
  const t0 = Date.now();
  assert.equal(bsmkit(args(ref)).status, 0);
  const full = Date.now() - t0;
  const newClass = readFileSync(join(ref, 'audit_class'));
  const newEvent = readFileSync(join(ref, 'audit_event'));
  rmSync(ref, { recursive: true, force: true });
  const oldClass = readFileSync(dataFile('openbsm', 'audit_class'));
  const oldEvent = readFileSync(dataFile('openbsm', 'audit_event'));

  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const dir = upstreamDir();
    try {
      const run = startUntil(args(dir), {}, '\u0000never');
      // Delays spread over the second half of a run, where the edit happens (startup comes first).
      const delay = Math.floor(full * (0.5 + Math.random() * 0.6));
      await new Promise((r) => setTimeout(r, delay));
      run.child.kill('SIGKILL');
      await run.exited;
      const c = readFileSync(join(dir, 'audit_class'));
      const e = readFileSync(join(dir, 'audit_event'));
      const cs = c.equals(oldClass) ? 'old' : c.equals(newClass) ? 'new' : 'BROKEN';
      const es = e.equals(oldEvent) ? 'old' : e.equals(newEvent) ? 'new' : 'BROKEN';
      assert.notEqual(cs, 'BROKEN', `audit_class after a kill at ${delay} ms`);
      assert.notEqual(es, 'BROKEN', `audit_event after a kill at ${delay} ms`);
      assert.ok(!(cs === 'old' && es === 'new'), 'audit_event never uses a class audit_class lacks');
      for (const bak of ['audit_class.bak', 'audit_event.bak']) {
        try {
          const b = readFileSync(join(dir, bak));
          assert.ok(b.equals(bak.startsWith('audit_class') ? oldClass : oldEvent), `${bak} is complete`);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      seen.add(`${cs}/${es}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Which states were hit depends on timing; every one of them was checked above.
  assert.ok(seen.size >= 1);
});
