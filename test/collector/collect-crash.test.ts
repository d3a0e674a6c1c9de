/**
 * The collector SIGKILLed at 20+ random points (start-up, mid-batch, mid-checkpoint) while the kernel model runs a
 * workload with pipe-overflowing bursts, restarted each time: the store ends up with every trail record exactly
 * once, in trail order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { startKernelModel } from '../../src/testing/kernel-model/index.js';
import { readLines, trailRecords } from './helpers.js';

const child = fileURLToPath(new URL('./fixtures/collect-child.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
    const expected = trailRecords([trail]);
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

test('bsmkit collect into DuckDB (the sink on its worker thread) SIGKILLed at 8 random points: the store has every trail record once', async () => {
  const model = await startKernelModel({ seed: 77, allocFailRate: 0.02 });
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-crash-db-'));
  const db = join(dir, 'store.duckdb');
  const trail = model.info.trailDirs[0]!;
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const args = [main, 'collect', '--source', 'hybrid', '--model', model.info.endpoint, '--trail-dir', trail, '--spool', join(dir, 'spool'), '--sink', `duckdb:${db}`, '--qlimit', '1024', '--stats-interval', '0'];
  const run = (): { proc: ChildProcess; exited: Promise<void>; stderr: () => string } => {
    const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    return { proc, exited: new Promise<void>((r) => proc.once('exit', () => r())), stderr: () => err };
  };
  let seed = 4242;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  try {
    const work = model.run([
      { type: 'steady', rate: 4000, seconds: 6 },
      { type: 'sleep-wake', count: 20_000 },
      { type: 'steady', rate: 4000, seconds: 6 },
    ]);
    for (let kills = 0; kills < 8; kills++) {
      const c = run();
      await sleep(1500 + rand() * 2500);
      c.proc.kill('SIGKILL');
      await c.exited;
    }
    await work;
    await model.sync();
    const last = run();
    // Caught up once the store holds as many records as the trail.
    const expected = trailRecords([trail]);
    const count = async (): Promise<number> => {
      // The collector holds the store: read it through a copy of the files DuckDB has synced.
      const copy = join(dir, 'peek.duckdb');
      copyFileSync(db, copy);
      if (existsSync(db + '.wal')) copyFileSync(db + '.wal', copy + '.wal');
      let inst: DuckDBInstance | undefined;
      try {
        inst = await DuckDBInstance.create(copy);
        const c = await inst.connect();
        const n = Number((await c.runAndReadAll('SELECT count(*) FROM records')).getRows()[0]![0]);
        c.closeSync();
        return n;
      } catch {
        return 0; // copied mid-write: look again
      } finally {
        inst?.closeSync();
      }
    };
    for (let i = 0; i < 120 && (await count()) < expected.length; i++) await sleep(500);
    last.proc.kill('SIGTERM');
    await last.exited;
    const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
    let rows: Record<string, unknown>[];
    try {
      const c = await inst.connect();
      rows = (await c.runAndReadAll('SELECT seq, id, origin, raw FROM records ORDER BY seq')).getRowObjectsJS() as Record<string, unknown>[];
      c.closeSync();
    } finally {
      inst.closeSync();
    }
    assert.ok(expected.length > 40_000, `${expected.length} trail records`);
    assert.equal(rows.length, expected.length, 'every trail record stored, none twice');
    assert.deepEqual(rows.map((r) => Buffer.from(r.raw as Uint8Array).toString('hex')), expected, 'in trail order');
    assert.deepEqual(rows.map((r) => Number(r.seq)), rows.map((_, i) => i + 1));
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
    assert.ok(rows.some((r) => r.origin === 'recovered') && rows.some((r) => r.origin === 'pipe'));
  } finally {
    await model.stop();
  }
});
