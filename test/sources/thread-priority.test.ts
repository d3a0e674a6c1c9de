// The drain thread's scheduling, checked where Linux shows it: the policy and real-time priority of each thread in
// /proc/<pid>/task/<tid>/stat (fields 41 and 40). These machines run the tests as root (CAP_SYS_NICE); the refusal
// is provoked by dropping that capability for a child process (setpriv).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collector } from '../../src/collector/collector.js';
import { formatReport } from '../../src/collector/accounting.js';
import { openPipeDrain } from '../../src/sources/pipe/index.js';
import { startKernelModel, type KernelModel } from '../../src/testing/kernel-model/index.js';

const SCHED_FIFO = 1;
const isRoot = process.getuid?.() === 0;

/** Threads of this process scheduled SCHED_FIFO, with their real-time priority. */
function fifoThreads(): Array<{ tid: number; rtPriority: number }> {
  const out: Array<{ tid: number; rtPriority: number }> = [];
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // fields after "(comm)" start at field 3
    const f = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
    if (Number(f[41 - 3]) === SCHED_FIFO) out.push({ tid: Number(tid), rtPriority: Number(f[40 - 3]) });
  }
  return out;
}

async function withModel(fn: (m: KernelModel) => Promise<void>): Promise<void> {
  const m = await startKernelModel({ seed: 77 });
  try {
    await fn(m);
  } finally {
    await m.stop();
  }
}

const priorityModule = fileURLToPath(new URL('../../src/sources/pipe/thread-priority.ts', import.meta.url));

/** Runs setThreadPriority(requested) on the main thread of a child process (optionally without CAP_SYS_NICE). */
function inChild(requested: string, dropCap: boolean): { outcome: { requested: string; applied: string; detail: string }; policy: number } {
  const code = `
    import { readFileSync } from 'node:fs';
    const { setThreadPriority } = await import(${JSON.stringify(priorityModule)});
    const outcome = setThreadPriority(${JSON.stringify(requested)});
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const policy = Number(stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ')[41 - 3]);
    console.log(JSON.stringify({ outcome, policy }));`;
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', code];
  const argv = dropCap ? ['setpriv', '--inh-caps=-sys_nice', '--bounding-set=-sys_nice', ...node] : node;
  return JSON.parse(execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }));
}

test('setThreadPriority: high is SCHED_FIFO 10 on the calling thread; normal leaves it alone', { skip: !isRoot && 'needs CAP_SYS_NICE (root)' }, () => {
  const high = inChild('high', false);
  assert.deepEqual(high.outcome, { requested: 'high', applied: 'high', detail: 'SCHED_FIFO 10' });
  assert.equal(high.policy, SCHED_FIFO);
  const normal = inChild('normal', false);
  assert.deepEqual(normal.outcome, { requested: 'normal', applied: 'normal', detail: 'as requested' });
  assert.equal(normal.policy, 0);
});

test('setThreadPriority: without the privilege the refusal is reported, not thrown, and the thread stays normal', () => {
  const r = inChild('high', true);
  assert.deepEqual(r.outcome, { requested: 'high', applied: 'normal', detail: 'sched_setscheduler: EPERM' });
  assert.equal(r.policy, 0);
});

test('openPipeDrain: the drain thread (and only it) runs SCHED_FIFO; drain.priority says so; priority normal opts out', { skip: !isRoot && 'needs CAP_SYS_NICE (root)' }, async () => {
  await withModel(async (model) => {
    assert.deepEqual(fifoThreads(), [], 'no real-time thread before');
    const drain = await openPipeDrain({ device: { endpoint: model.info.endpoint } });
    assert.deepEqual(drain.priority, { requested: 'high', applied: 'high', detail: 'SCHED_FIFO 10' });
    const fifo = fifoThreads();
    assert.equal(fifo.length, 1, 'one real-time thread: the drain');
    assert.equal(fifo[0]!.rtPriority, 10);
    assert.notEqual(fifo[0]!.tid, process.pid, 'not the main thread');
    await drain.close();
    assert.deepEqual(fifoThreads(), [], 'gone with the drain thread');

    const plain = await openPipeDrain({ device: { endpoint: model.info.endpoint }, priority: 'normal' });
    assert.deepEqual(plain.priority, { requested: 'normal', applied: 'normal', detail: 'as requested' });
    assert.deepEqual(fifoThreads(), []);
    await plain.close();
  });
});

test('collector: the pipe drain thread runs SCHED_FIFO by default; stats and the report show it; drainPriority normal opts out', { skip: !isRoot && 'needs CAP_SYS_NICE (root)' }, async () => {
  await withModel(async (model) => {
    const opts = { mode: 'pipe' as const, device: { kind: 'simulated' as const, endpoint: model.info.endpoint }, qlimit: 1024, sinks: [], log: () => undefined };
    const c = await Collector.start({ ...opts, spoolDir: mkdtempSync(join(tmpdir(), 'bsmkit-prio-')) });
    assert.deepEqual(c.stats().kernel.drainPriority, { requested: 'high', applied: 'high', detail: 'SCHED_FIFO 10' });
    assert.equal(fifoThreads().length, 1);
    await model.generate(2000);
    await c.settle({ quietMs: 200 });
    assert.match(formatReport(c.stats()), /drain thread: +high priority \(SCHED_FIFO 10\)/);
    await c.stop();
    assert.deepEqual(fifoThreads(), []);

    const logged: string[] = [];
    const n = await Collector.start({ ...opts, drainPriority: 'normal', spoolDir: mkdtempSync(join(tmpdir(), 'bsmkit-prio-')), log: (l) => logged.push(l) });
    assert.deepEqual(n.stats().kernel.drainPriority, { requested: 'normal', applied: 'normal', detail: 'as requested' });
    assert.deepEqual(fifoThreads(), []);
    await n.stop();
    assert.deepEqual(logged.filter((l) => /priority refused/.test(l)), [], 'asking for normal is not a refusal');
  });
});

test('bsmkit collect without the privilege: the refusal is logged and reported, and collection goes on', async () => {
  await withModel(async (model) => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const spool = mkdtempSync(join(tmpdir(), 'bsmkit-prio-cli-'));
    const child = spawn('setpriv', ['--inh-caps=-sys_nice', '--bounding-set=-sys_nice', process.execPath, '--import', 'tsx', main, 'collect', '--source', 'pipe', '--model', model.info.endpoint, '--spool', spool, '--sink', 'stdout:json', '--stats-interval', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let lines = 0;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => (lines += d.split('\n').length - 1));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    try {
      for (let i = 0; i < 100 && !err.includes('pipe mode'); i++) await sleep(100);
      assert.match(err, /pipe drain thread: high priority refused \(sched_setscheduler: EPERM\); it runs at normal priority/);
      await model.generate(500);
      for (let i = 0; i < 100 && lines < 500; i++) await sleep(50);
      assert.equal(lines, 500, 'every record delivered');
      child.kill('SIGTERM');
      assert.equal(await Promise.race([exited, sleep(5_000).then(() => 'no exit 5 s after SIGTERM')]), 0, err);
      assert.match(err, /drain thread: +normal priority \(sched_setscheduler: EPERM\)/);
      const metrics = execFileSync(process.execPath, ['--import', 'tsx', main, 'stats', '--spool', spool, '--prometheus'], { encoding: 'utf8' });
      assert.match(metrics, /\nbsmkit_drain_thread_high_priority 0\n/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
