/** bsmkit collect as a child process: config file + flag override, SIGTERM report, bsmkit stats, Prometheus text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get } from 'node:http';
import { readGroundTruth, startKernelModel } from '../../src/testing/kernel-model/index.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fetchText = (port: number): Promise<string> =>
  new Promise((resolve, reject) => get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
    let s = '';
    res.setEncoding('utf8').on('data', (d: string) => (s += d)).on('end', () => resolve(s));
  }).on('error', reject));

test('collect: config file, flags override it; SIGTERM gives the final report; stats reads the state; metrics on 127.0.0.1', async () => {
  const model = await startKernelModel({ seed: 4 });
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-cli-collect-'));
  const spool = join(dir, 'spool');
  const cfg = join(dir, 'collect.json');
  // the config asks for pipe mode and a normal-priority drain thread; the flags override both
  writeFileSync(cfg, JSON.stringify({ source: 'pipe', drainPriority: 'normal', spool, trailDirs: model.info.trailDirs, modelEndpoint: model.info.endpoint, sinks: [{ type: 'ndjson', dir: join(dir, 'out') }], statsIntervalSec: 0.5 }));
  const port = 20000 + (process.pid % 20000);
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'collect', '--config', cfg, '--source', 'hybrid', '--drain-priority', 'high', '--metrics-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    for (let i = 0; i < 100 && !err.includes('hybrid mode'); i++) await sleep(100);
    assert.match(err, /bsmkit collect: hybrid mode, spool .*, sinks ndjson, metrics on 127\.0\.0\.1:\d+/);
    await model.generate(3000);
    for (let i = 0; i < 50 && !/total=3\d{3}/.test(err); i++) await sleep(100);
    assert.match(err, /collect hybrid: total=\d+ live=\d+ recovered=\d+/);
    const metrics = await fetchText(port);
    assert.match(metrics, /# TYPE bsmkit_records_total counter\nbsmkit_records_total\{origin="live"\} \d+/);
    assert.match(metrics, /bsmkit_sink_lag_records\{sink="ndjson"\} \d+/);
    assert.match(metrics, new RegExp(`# TYPE bsmkit_drain_thread_high_priority gauge\nbsmkit_drain_thread_high_priority ${process.getuid?.() === 0 ? 1 : 0}\n`));
    const running = execFileSync(process.execPath, ['--import', 'tsx', main, 'stats', '--spool', spool], { encoding: 'utf8' });
    assert.match(running, /bsmkit collect \(hybrid\) — running, pid \d+/);
    child.kill('SIGTERM');
    // a clean stop ends the process at once (a leftover 10 s shutdown timer used to keep it alive)
    assert.equal(await Promise.race([exited, sleep(5_000).then(() => 'no exit 5 s after SIGTERM')]), 0, err);
    assert.match(err, /SIGTERM: shutting down/);
    assert.match(err, /bsmkit collect \(hybrid\) — stopped[\s\S]*records spooled: +3001[\s\S]*records lost: +0/);
    // root (these machines): real-time; elsewhere the refusal is reported and the drain runs at normal priority
    assert.match(err, process.getuid?.() === 0 ? /drain thread: +high priority \(SCHED_FIFO 10\)/ : /drain thread: +normal priority \(sched_setscheduler: EPERM\)/);
    const stopped = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', main, 'stats', '--spool', spool, '--json'], { encoding: 'utf8' })) as { status: string; records: { total: number } };
    assert.equal(stopped.status, 'stopped');
    assert.equal(stopped.records.total, 3001);
    for (const n of readdirSync(spool)) assert.equal(statSync(join(spool, n)).mode & 0o777, 0o600, n);
    const lines = readdirSync(join(dir, 'out')).map((n) => readFileSync(join(dir, 'out', n), 'utf8')).join('').trim().split('\n');
    assert.equal(lines.length, 3001);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await model.stop();
  }
});

test('collect: a bad config file is a usage error naming the file and the setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-cli-collect-'));
  const cfg = join(dir, 'bad.json');
  writeFileSync(cfg, JSON.stringify({ source: 'hybrid', spoool: '/x' }));
  let out = '';
  try {
    execFileSync(process.execPath, ['--import', 'tsx', main, 'collect', '--config', cfg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = String((e as { stderr: string }).stderr);
  }
  assert.match(out, new RegExp(`${cfg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: unknown setting 'spoool'`));
  writeFileSync(cfg, JSON.stringify({ drainPriority: 'urgent' }));
  try {
    execFileSync(process.execPath, ['--import', 'tsx', main, 'collect', '--config', cfg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    out = '';
  } catch (e) {
    out = String((e as { stderr: string }).stderr);
  }
  assert.match(out, /bad\.json: 'drainPriority' must be "high" or "normal"/);
  try {
    execFileSync(process.execPath, ['--import', 'tsx', main, 'collect', '--drain-priority', 'urgent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    out = '';
  } catch (e) {
    out = String((e as { stderr: string }).stderr);
  }
  assert.match(out, /--drain-priority must be high or normal/);
});

test('collect --select: the sinks get only the records matching reduce options; the spool keeps them all', async () => {
  const model = await startKernelModel({ seed: 9 });
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-cli-select-'));
  const spool = join(dir, 'spool');
  try {
    await model.generate(3000);
    await model.sync();
    const written = readGroundTruth(model.info.truthDir).records.filter((r) => r.trail.fate === 'written');
    const execs = written.filter((r) => r.event === 23 && !r.failed).length;
    assert.ok(execs > 50, `the workload has successful execve records (${execs})`);
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'collect', '--source', 'trail', '--spool', spool, '--stats-interval', '0.2',
      ...model.info.trailDirs.flatMap((d) => ['--trail-dir', d]), '--sink', `ndjson:${join(dir, 'out')}`, '--select=-m AUE_EXECVE -c +ex'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !new RegExp(`total=${written.length} `).test(err); i++) await sleep(100);
    child.kill('SIGTERM');
    // a clean stop ends the process at once (a leftover 10 s shutdown timer used to keep it alive)
    assert.equal(await Promise.race([exited, sleep(5_000).then(() => 'no exit 5 s after SIGTERM')]), 0, err);
    assert.match(err, new RegExp(`records spooled: +${written.length}\\b`));
    const lines = readdirSync(join(dir, 'out')).map((n) => readFileSync(join(dir, 'out', n), 'utf8')).join('').trim().split('\n');
    const events = lines.map((l) => (JSON.parse(l) as { header: { event: number } }).header.event);
    assert.equal(events.length, execs);
    assert.ok(events.every((e) => e === 23));
  } finally {
    await model.stop();
  }
});

test('collect --select with a file or an unknown event is a usage error', () => {
  const bad = (sel: string): string => {
    try {
      execFileSync(process.execPath, ['--import', 'tsx', main, 'collect', '--source', 'trail', `--select=${sel}`], { encoding: 'utf8', stdio: 'pipe' });
      return 'exit 0';
    } catch (e) {
      const x = e as { status: number; stderr: string };
      return `exit ${x.status}: ${x.stderr}`;
    }
  };
  assert.match(bad('-m AUE_NO_SUCH_EVENT'), /^exit 1: .*AUE_NO_SUCH_EVENT/s);
  assert.match(bad('-c ex /var/audit/current'), /^exit 1: .*not files/s);
});

test('collect: the example configuration in contrib/ is valid', async () => {
  const { readConfigFile } = await import('../../src/collector/config.js');
  const cfg = readConfigFile(fileURLToPath(new URL('../../contrib/collect.json.example', import.meta.url)));
  assert.equal(cfg.drainPriority, 'high');
  assert.equal(cfg.source, 'hybrid');
  assert.deepEqual(Object.keys(cfg).sort(), ['device', 'drainPriority', 'from', 'metricsPort', 'qlimit', 'sinks', 'source', 'spool', 'spoolMaxBytes', 'statsIntervalSec', 'trailDirs', 'user']);
});
