/**
 * `bsmkit tail --pipe-endpoint` against a kernel model process: the audit pipe source (src/sources/pipe) behind the
 * CLI, compared with the model's ground truth (every record queued to the pipe printed once, in order; every
 * drop reported on stderr).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { readGroundTruth, startKernelModel, type KernelModel } from '../../src/testing/kernel-model/index.js';

const T = 60_000;
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(repo, 'src', 'cli', 'main.ts');

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

function tail(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, 'tail', ...args], { cwd: repo, env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.push(async () => void child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

async function model(seed: number): Promise<KernelModel> {
  const m = await startKernelModel({ seed, personality: 'freebsd' });
  cleanup.push(() => m.kill().catch(() => undefined));
  return m;
}

/** A wait loop's end: a little before the test's timeout, so a test that fails does not keep the file running. */
const deadline = (): number => Date.now() + T - 5_000;

/** Records reported lost on stderr. */
function reported(err: string): number {
  return [...err.matchAll(/^lost: the kernel dropped (\d+) records?/gm)].reduce((n, x) => n + Number(x[1]), 0);
}

/** Waits until the model saw the pipe opened and flushed (the end of the source's setup). */
async function pipeReady(m: KernelModel, t: ReturnType<typeof tail>): Promise<number> {
  for (const until = deadline(); Date.now() < until; ) {
    const ev = readGroundTruth(m.info.truthDir).events.find((e) => e.type === 'pipe-flush');
    if (ev) return Number(ev.pipe);
    assert.equal(t.child.exitCode, null, `tail exited early: ${t.err()}`);
    await sleep(20);
  }
  throw new Error(`the pipe was never opened: ${t.err()}`);
}

/**
 * Waits until the source reads: one record generated and printed, so a burst meets a source past its setup (drops
 * during the setup are reported too, docs/audit-pipe.md, but these tests are about drops in a running stream).
 */
async function sourceReading(m: KernelModel, t: ReturnType<typeof tail>): Promise<void> {
  await m.generate(1);
  for (const until = deadline(); Date.now() < until; ) {
    if (t.out().includes('\n')) return;
    assert.equal(t.child.exitCode, null, `tail exited early: ${t.err()}`);
    await sleep(20);
  }
  throw new Error(`the source printed nothing: ${t.err()}`);
}

test('--pipe-endpoint: every record the model queued to the pipe is printed once, in order', { timeout: T }, async () => {
  const m = await model(21);
  const t = tail(['--json', '--pipe-endpoint', m.info.endpoint]);
  const pipe = await pipeReady(m, t);
  await sourceReading(m, t);
  for (let i = 0; i < 6; i++) {
    await m.generate(300);
    await sleep(30);
  }
  await m.sync();
  const truth = readGroundTruth(m.info.truthDir).records;
  const queued = truth.filter((r) => r.pipes.some((p) => p.pipe === pipe && p.outcome === 'queued'));
  const dropped = truth.filter((r) => r.pipes.some((p) => p.pipe === pipe && (p.outcome === 'alloc' || p.outcome === 'qlimit'))).length;
  assert.ok(queued.length >= 1000, `records reached the pipe (${queued.length})`);
  const until = deadline();
  while ((t.out().split('\n').length - 1 < queued.length || reported(t.err()) < dropped) && t.child.exitCode === null && Date.now() < until) await sleep(20);
  t.child.kill('SIGTERM');
  assert.equal(await t.exited, dropped ? 2 : 0, t.err());
  const lines = t.out().trim().split('\n').map((l) => JSON.parse(l) as { header: { event: number; size: number } });
  assert.deepEqual(lines.map((l) => [l.header.event, l.header.size]), queued.map((r) => [r.event, r.length]));
  // A slow reader may lose records to a full queue (tail drop): each is reported, nothing else is on stderr.
  assert.equal(reported(t.err()), dropped);
  assert.equal(t.err().split('\n').filter((l) => l && !l.startsWith('lost: the kernel dropped')).length, 0, t.err());
});

test('--pipe-endpoint: records the kernel dropped (queue full) are reported as lost with their count', { timeout: T }, async () => {
  const m = await model(22);
  const t = tail(['--json', '--pipe-endpoint', m.info.endpoint]);
  const pipe = await pipeReady(m, t);
  await sourceReading(m, t);
  await m.setAllocFailRate(0.2); // the kernel's NOWAIT allocations fail: those records never reach the pipe
  await m.generate(2000);
  // The pipe reports a drop when a later read shows it; a model pipe read blocks while the queue is empty, so end
  // with one record that does reach the pipe (records dropped after the last read would show only at close).
  await m.setAllocFailRate(0);
  await m.generate(1);
  await m.sync();
  const truth = readGroundTruth(m.info.truthDir).records;
  const queued = truth.filter((r) => r.pipes.some((p) => p.pipe === pipe && p.outcome === 'queued')).length;
  const dropped = truth.filter((r) => r.pipes.some((p) => p.pipe === pipe && (p.outcome === 'alloc' || p.outcome === 'qlimit'))).length;
  assert.ok(dropped > 100, `the model dropped records (${dropped})`);
  const until = deadline();
  while ((t.out().split('\n').length - 1 < queued || reported(t.err()) < dropped) && t.child.exitCode === null && Date.now() < until) await sleep(20);
  t.child.kill('SIGTERM');
  assert.equal(await t.exited, 2, 'losses make exit status 2');
  assert.equal(t.out().trim().split('\n').length, queued);
  assert.equal(reported(t.err()), dropped);
});
