/**
 * The collector SIGKILLed at 20+ random points (start-up, mid-batch, mid-checkpoint) while the kernel model runs a
 * workload with pipe-overflowing bursts, restarted each time: the store ends up with every trail record exactly
 * once, in trail order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Framer } from '../../src/format/framer.js';
import { startKernelModel } from '../../src/testing/kernel-model/index.js';
import { readLines } from './helpers.js';

const child = fileURLToPath(new URL('./fixtures/collect-child.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function trailRecords(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).filter((x) => /^\d{14}\./.test(x)).sort()) {
    const fr = new Framer({ record: (b, _o, kind) => kind === 'record' && out.push(b.toString('hex')), diagnostic: () => undefined });
    fr.push(readFileSync(join(dir, n)));
  }
  return out;
}

function start(args: string[]): { proc: ChildProcess; exited: Promise<void>; stdout: () => string } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.resume();
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return { proc, exited, stdout: () => out };
}

test('SIGKILL at 20 random points and restart: nothing lost, nothing duplicated in the store', async () => {
  const model = await startKernelModel({ seed: 31, allocFailRate: 0.02 });
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-crash-'));
  const spool = join(dir, 'spool');
  const lines = join(dir, 'lines.ndjson');
  const trail = model.info.trailDirs[0]!;
  const args = [model.info.endpoint, trail, spool, lines];
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  try {
    const work = model.run([
      { type: 'steady', rate: 3000, seconds: 7 },
      { type: 'sleep-wake', count: 5000 },
      { type: 'steady', rate: 3000, seconds: 7 },
      { type: 'sleep-wake', count: 5000 },
      { type: 'steady', rate: 3000, seconds: 7 },
      { type: 'sleep-wake', count: 5000 },
      { type: 'steady', rate: 3000, seconds: 7 },
    ]);
    let kills = 0;
    let killedAfterReady = 0;
    while (kills < 20) {
      const c = start(args);
      await sleep(300 + rand() * 2500);
      if (c.stdout().includes('ready')) killedAfterReady++;
      c.proc.kill('SIGKILL');
      await c.exited;
      kills++;
    }
    assert.ok(killedAfterReady >= 10, `only ${killedAfterReady} kills after start-up`);
    const last = start(args);
    await work;
    await model.sync();
    // let the last collector catch up: the spool and the store stop growing, nothing awaits reconciliation
    let prev = '';
    for (let quiet = 0; quiet < 8; ) {
      await sleep(250);
      const st = existsSync(join(spool, 'state.json')) ? JSON.parse(readFileSync(join(spool, 'state.json'), 'utf8')) : undefined;
      const key = st ? `${st.spool.lastSeq}/${st.sinks[0]?.checkpoint}/${st.backlog.trailRecords}/${st.backlog.pipeRecords}` : '';
      const idle = st && st.backlog.trailRecords === 0 && st.backlog.pipeRecords === 0 && st.sinks[0]?.lag === 0;
      quiet = key === prev && idle ? quiet + 1 : 0;
      prev = key;
    }
    last.proc.kill('SIGTERM');
    await last.exited;
    const fin = JSON.parse(last.stdout().trim().split('\n').pop()!) as { records: { total: number; recovered: number } };
    const stored = readLines(lines);
    const expected = trailRecords(trail);
    assert.ok(expected.length > 50_000);
    assert.equal(stored.length, expected.length, 'every trail record stored, none twice');
    assert.deepEqual(stored.map((r) => r.hex), expected);
    assert.deepEqual(stored.map((r) => r.seq), stored.map((_, i) => i + 1));
    assert.equal(new Set(stored.map((r) => r.id)).size, stored.length);
    assert.equal(fin.records.total, stored.length);
    assert.ok(stored.some((r) => r.origin === 'recovered') && stored.some((r) => r.origin === 'pipe'));
  } finally {
    await model.stop();
  }
});
