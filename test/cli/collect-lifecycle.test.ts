/**
 * bsmkit collect as a running service: one collector per spool, signals during start-up and shutdown, restarts.
 * Real child processes, a real kernel model; waits are for log lines, never for fixed times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKernelModel } from '../../src/testing/kernel-model/index.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Running {
  child: ChildProcess;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function collect(args: string[], stdout: 'pipe' | 'ignore' = 'ignore'): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'collect', ...args], { stdio: ['ignore', stdout, 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, err: () => err, exited };
}

/** Waits until the collector's stderr matches `re` (or it exits, or 30 s pass: then the assertion shows stderr). */
async function waitFor(c: Running, re: RegExp): Promise<void> {
  let gone = false;
  void c.exited.then(() => (gone = true));
  for (let i = 0; i < 300 && !re.test(c.err()) && !gone; i++) await sleep(100);
  assert.match(c.err(), re);
}

test('one collector per spool: a second is refused naming the first; a stale lock is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-collect-lock-'));
  const trail = join(dir, 'trail');
  mkdirSync(trail);
  const spool = join(dir, 'spool');
  const args = ['--source', 'trail', '--trail-dir', trail, '--spool', spool, '--stats-interval', '0', '--sink', `ndjson:${join(dir, 'out')}`];
  const first = collect(args);
  try {
    await waitFor(first, /trail mode, spool .*, sinks ndjson/);
    const second = spawnSync(process.execPath, ['--import', 'tsx', main, 'collect', ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(second.status, 2, second.stderr);
    assert.equal(
      second.stderr,
      `bsmkit collect: spool ${spool} is in use by another bsmkit collect (pid ${first.child.pid}, ${join(spool, 'collect.lock')}): stop it, or give this collector its own --spool [BSMKIT_E_SPOOL_BUSY]\n`,
    );
    first.child.kill('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null }, first.err());
    assert.equal(existsSync(join(spool, 'collect.lock')), false, 'the lock goes with its collector');
  } finally {
    first.child.kill('SIGKILL');
  }
  // A collector killed without its shutdown leaves its lock: the next one takes it over.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(join(spool, 'collect.lock'), `${dead.stdout}\n`);
  const next = collect(args);
  try {
    await waitFor(next, /trail mode, spool/);
    assert.equal(readFileSync(join(spool, 'collect.lock'), 'utf8'), `${next.child.pid}\n`);
    next.child.kill('SIGINT');
    assert.deepEqual(await next.exited, { code: 0, signal: null }, next.err());
  } finally {
    next.child.kill('SIGKILL');
  }
  // After a reboot or a crash the lock's pid may be another, living process: not a collector, so stale too.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  writeFileSync(join(spool, 'collect.lock'), `${other.pid}\n`);
  const third = collect(args);
  try {
    await waitFor(third, /trail mode, spool/);
    assert.equal(readFileSync(join(spool, 'collect.lock'), 'utf8'), `${third.child.pid}\n`);
    third.child.kill('SIGTERM');
    assert.deepEqual(await third.exited, { code: 0, signal: null }, third.err());
  } finally {
    third.child.kill('SIGKILL');
    other.kill('SIGKILL');
  }
});

test('a signal during start-up stops the collector cleanly once it has started', async () => {
  const model = await startKernelModel({ seed: 12 });
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-collect-startsig-'));
  const spool = join(dir, 'spool');
  // A stopped model answers no device call: the collector stays in start-up (its main thread waits in the pipe's
  // open) until the model continues. The signal is taken by the process at once and handled after the open.
  process.kill(model.info.pid, 'SIGSTOP');
  const c = collect(['--source', 'hybrid', '--model', model.info.endpoint, ...model.info.trailDirs.flatMap((d) => ['--trail-dir', d]), '--spool', spool, '--stats-interval', '0', '--sink', `ndjson:${join(dir, 'out')}`]);
  try {
    await waitFor(c, /starting, source hybrid, spool /);
    c.child.kill('SIGTERM');
    await sleep(200);
    process.kill(model.info.pid, 'SIGCONT');
    assert.deepEqual(await c.exited, { code: 0, signal: null }, c.err());
    assert.match(c.err(), /SIGTERM: shutting down\n[\s\S]*bsmkit collect \(hybrid\) — stopped/);
    const state = JSON.parse(readFileSync(join(spool, 'state.json'), 'utf8')) as { status: string };
    assert.equal(state.status, 'stopped');
  } finally {
    process.kill(model.info.pid, 'SIGCONT');
    c.child.kill('SIGKILL');
    await model.stop();
  }
});

test('a second signal while the shutdown waits for a stuck sink exits at once; the restart delivers everything', async () => {
  const model = await startKernelModel({ seed: 13 });
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-collect-twice-'));
  const spool = join(dir, 'spool');
  const args = ['--source', 'trail', ...model.info.trailDirs.flatMap((d) => ['--trail-dir', d]), '--spool', spool, '--stats-interval', '0.2', '--sink', 'stdout:json'];
  try {
    await model.generate(3000);
    await model.sync();
    // stdout is a pipe nobody reads: the stdout sink blocks once the pipe is full, and so does a clean shutdown
    const c = collect(args, 'pipe');
    try {
      await waitFor(c, /collect trail: total=3001 /);
      c.child.kill('SIGTERM');
      await waitFor(c, /SIGTERM: shutting down/);
      c.child.kill('SIGTERM');
      assert.deepEqual(await c.exited, { code: 143, signal: null }, c.err());
      assert.match(c.err(), /second SIGTERM: exiting now without waiting for the sinks; the spool keeps what was spooled/);
      assert.equal(existsSync(join(spool, 'collect.lock')), false);
    } finally {
      c.child.kill('SIGKILL');
    }
    // the restart resumes from the spool: the sink gets the rest (at least once), the counts are unchanged
    const again = collect(args, 'pipe');
    let out = '';
    again.child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await waitFor(again, /collect trail: total=3001 .*stdout:lag=0\b/);
      again.child.kill('SIGINT');
      assert.deepEqual(await again.exited, { code: 0, signal: null }, again.err());
      const seqs = out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);
      assert.equal(seqs.at(-1), 3001);
      const state = JSON.parse(readFileSync(join(spool, 'state.json'), 'utf8')) as { records: { total: number; trail: number }; sinks: Array<{ checkpoint: number }> };
      assert.equal(state.records.total, 3001);
      assert.equal(state.records.trail, 3001);
      assert.equal(state.sinks[0]!.checkpoint, 3001);
    } finally {
      again.child.kill('SIGKILL');
    }
  } finally {
    await model.stop();
  }
});

test('--user drops root\'s supplementary groups too (initgroups), not only the uid and gid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-collect-user-'));
  chmodSync(dir, 0o777); // the sink's directory is created after the drop
  const trail = join(dir, 'trail');
  mkdirSync(trail, { mode: 0o755 });
  // the collector starts with supplementary groups 4 and 27 (its main thread only: workers may not set them)
  const pre = "data:text/javascript,import { isMainThread } from 'node:worker_threads'; if (isMainThread && process.getuid() === 0) process.setgroups([4, 27]);";
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', pre, main, 'collect', '--source', 'trail', '--trail-dir', trail, '--spool', join(dir, 'spool'), '--stats-interval', '0', '--sink', `ndjson:${join(dir, 'out')}`, '--user', 'nobody'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const c: Running = { child, err: () => err, exited: exited.then((code) => ({ code, signal: null })) };
  try {
    if (process.getuid?.() === 0 && existsSync('/proc/self/status')) {
      await waitFor(c, /running as nobody \(uid (\d+), gid (\d+)\)/);
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const groups = /^Groups:\s*(.*)$/m.exec(status)![1]!.trim().split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
      const want = spawnSync('id', ['-G', 'nobody'], { encoding: 'utf8' }).stdout.trim().split(/\s+/).map(Number).sort((a, b) => a - b);
      assert.deepEqual(groups, want);
    } else {
      await waitFor(c, /--user nobody: not running as root, privileges unchanged/);
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  } finally {
    child.kill('SIGKILL');
  }
});

test('SIGHUP (the terminal closed) stops the collector cleanly, with its final report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-collect-hup-'));
  const trail = join(dir, 'trail');
  mkdirSync(trail);
  const spool = join(dir, 'spool');
  const c = collect(['--source', 'trail', '--trail-dir', trail, '--spool', spool, '--stats-interval', '0', '--sink', `ndjson:${join(dir, 'out')}`]);
  try {
    await waitFor(c, /trail mode, spool .*, sinks ndjson/);
    c.child.kill('SIGHUP');
    assert.deepEqual(await c.exited, { code: 0, signal: null }, c.err());
    assert.match(c.err(), /SIGHUP: shutting down\n[\s\S]*bsmkit collect \(trail\) — stopped/);
    assert.equal(existsSync(join(spool, 'collect.lock')), false);
  } finally {
    c.child.kill('SIGKILL');
  }
});
