/**
 * bsmkit collect settings, checked before anything starts: every wrong value in a config file or a flag is a usage
 * error naming the file or flag, the setting and the value; relative paths in a config file are the file's.
 * Run in-process (main() with captured stdio): each of these cases stops before a spool or device is opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { main } from '../../src/cli/main.js';
import { readConfigFile, sinkNames } from '../../src/collector/config.js';
import { capture } from './capture.js';

const dir = mkdtempSync(join(tmpdir(), 'bsmkit-collect-settings-'));
const trail = join(dir, 'trail');
mkdirSync(trail);
const spool = join(dir, 'spool');
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

async function bsmkit(args: string[]): Promise<{ status: number; stderr: string }> {
  const c = capture();
  const status = await main(args, c.io);
  return { status, stderr: c.stderr() };
}

test('config file: wrong types and values are usage errors naming the file, the setting and the value', async () => {
  const cfg = join(dir, 'bad.json');
  const cases: Array<[unknown, RegExp]> = [
    [{ qlimit: -3 }, /'qlimit' must be a whole number of records \(at least 1\) or "max", got -3/],
    [{ qlimit: 1.5 }, /'qlimit' must be .*got 1\.5/],
    [{ qlimit: '1024' }, /'qlimit' must be .*got "1024"/],
    [{ metricsPort: 70000 }, /'metricsPort' must be a port number from 1 to 65535, got 70000/],
    [{ spoolMaxBytes: 0 }, /'spoolMaxBytes' must be a whole number of bytes/],
    [{ from: 'middle' }, /'from' must be "start" or "end", got "middle"/],
    [{ spool: '' }, /'spool' must be a non-empty string/],
    [{ trailDirs: [] }, /'trailDirs' must be a non-empty list of directories/],
    [{ sinks: [] }, /'sinks' must be a non-empty list of sinks/],
    [{ sinks: [{ type: 'duckdb', path: 5 }] }, /sinks\[0\]: 'path' must be a non-empty path, got 5/],
    [{ sinks: [{ type: 'stdout', format: 'xml' }] }, /sinks\[0\]: 'format' must be "praudit" or "json", got "xml"/],
    [{ sinks: [{ type: 'ndjson', dir: 'out' }, { type: 'ndjson', dir: 'o', maxbytes: 5 }] }, /sinks\[1\]: unknown setting 'maxbytes' for the ndjson sink/],
    [{ sinks: [{ type: 'ndjson', dir: 'out', maxAgeSec: '1h' }] }, /sinks\[0\]: 'maxAgeSec' must be a non-negative number/],
    [{ sinks: [{ type: 'toString' }] }, /sinks\[0\]: unknown sink type "toString"/],
  ];
  for (const [content, want] of cases) {
    writeFileSync(cfg, JSON.stringify(content));
    assert.throws(() => readConfigFile(cfg), (e: Error) => new RegExp(`^${esc(cfg)}: `).test(e.message) && want.test(e.message), JSON.stringify(content));
  }
  // through the command: exit status 1, the message on stderr, nothing started
  writeFileSync(cfg, JSON.stringify({ source: 'trail', trailDirs: [trail], spool, sinks: [{ type: 'duckdb', path: 5 }] }));
  const r = await bsmkit(['collect', '--config', cfg]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^bsmkit collect: ${esc(cfg)}: sinks\\[0\\]: 'path' must be a non-empty path, got 5\\n$`));
  assert.equal(existsSync(spool), false);
  // a directory, not a file
  assert.match((await bsmkit(['collect', '--config', dir])).stderr, new RegExp(`${esc(dir)}: is a directory`));
});

test('config file: relative paths are taken from the file\'s directory, not the current one', async () => {
  const sub = join(dir, 'etc');
  mkdirSync(sub, { recursive: true });
  const cfg = join(sub, 'collect.json');
  writeFileSync(cfg, JSON.stringify({ source: 'trail', spool: 'spool', trailDirs: ['../trail', '/abs/trail'], modelEndpoint: 'model', sinks: [{ type: 'duckdb', path: 'store.duckdb' }, { type: 'ndjson', dir: 'out', maxBytes: 0 }, { type: 'stdout' }] }));
  const c = readConfigFile(cfg);
  assert.equal(c.spool, join(sub, 'spool'));
  assert.deepEqual(c.trailDirs, [trail, '/abs/trail']);
  assert.equal(c.modelEndpoint, join(sub, 'model'));
  assert.deepEqual(c.sinks, [{ type: 'duckdb', path: join(sub, 'store.duckdb') }, { type: 'ndjson', dir: join(sub, 'out'), maxBytes: 0 }, { type: 'stdout', format: 'praudit' }]);
  // end to end: a trail directory missing relative to the file is named by its full path and by the setting
  writeFileSync(cfg, JSON.stringify({ source: 'trail', spool: 'spool', trailDirs: ['no-such-trail'] }));
  const r = await bsmkit(['collect', '--config', cfg]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`trail directory ${esc(join(sub, 'no-such-trail'))} \\(${esc(cfg)}: trailDirs\\) does not exist`));
});

test('flags: bad numbers, ports, queue limits and sink specs are usage errors naming the flag and the value', async () => {
  const base = ['collect', '--source', 'trail', '--trail-dir', trail, '--spool', spool, '--sink', `ndjson:${join(dir, 'out')}`];
  const cases: Array<[string[], RegExp]> = [
    [['--metrics-port', '70000'], /--metrics-port needs a port number from 1 to 65535, got '70000'/],
    [['--metrics-port', '0'], /--metrics-port needs a port number .*got '0'/],
    [['--metrics-port', '80.5'], /--metrics-port needs a port number .*got '80\.5'/],
    [['--qlimit', '1.5'], /--qlimit needs a whole number of records \(at least 1\) or max, got '1\.5'/],
    [['--qlimit', '0'], /--qlimit needs .*got '0'/],
    [['--qlimit', ''], /--qlimit needs .*got ''/],
    [['--spool-max', '0'], /--spool-max needs a whole number of bytes \(at least 1\), got '0'/],
    [['--spool-max', '1GB'], /--spool-max needs .*got '1GB'/],
    [['--stats-interval=-1'], /--stats-interval needs a number of seconds .*got '-1'/],
    [['--source', 'both'], /--source must be trail, pipe or hybrid, got 'both'/],
    [['--from', 'middle'], /--from must be start or end, got 'middle'/],
    [['--sink', 'duckdb:'], /--sink duckdb:PATH needs a path after the colon/],
    [['--sink', 'stdout:xml'], /--sink stdout:xml: the stdout format is json or praudit/],
    [['--sink', 'kafka:x'], /--sink 'kafka:x': unknown sink 'kafka'/],
    [['--sink', `ndjson:${join(dir, 'out')}`], /the ndjson sink .*out is given twice/],
    [['--sink', 'stdout', '--sink', 'stdout:json'], /only one stdout sink can be given/],
  ];
  for (const [extra, want] of cases) {
    const r = await bsmkit([...base, ...extra]);
    assert.equal(r.status, 1, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, extra.join(' '));
  }
  assert.equal(existsSync(spool), false, 'nothing was started');
});

test('a missing trail directory stops start-up, naming it and where it came from', async () => {
  const missing = join(dir, 'no-trail');
  const r = await bsmkit(['collect', '--source', 'trail', '--trail-dir', trail, '--trail-dir', missing, '--spool', spool]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`trail directory ${esc(missing)} \\(--trail-dir\\) does not exist; trail mode reads the trail there`));
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  assert.match((await bsmkit(['collect', '--source', 'hybrid', '--trail-dir', file, '--spool', spool])).stderr, /a-file \(--trail-dir\) is not a directory/);
  assert.equal(existsSync(spool), false);
});

test('--user with an unknown user is refused before anything starts (as root)', async (t) => {
  const r = await bsmkit(['collect', '--source', 'trail', '--trail-dir', join(dir, 'no-trail'), '--spool', spool, '--user', 'no-such-user-bsmkit']);
  assert.equal(r.status, 1);
  // the trail directory is checked first; with it present, the user is
  assert.match(r.stderr, /no-trail \(--trail-dir\) does not exist/);
  const r2 = await bsmkit(['collect', '--source', 'trail', '--trail-dir', trail, '--spool', spool, '--metrics-port', '1', '--user', 'no-such-user-bsmkit']);
  if (process.getuid?.() === 0) {
    assert.equal(r2.status, 1);
    assert.equal(r2.stderr, "bsmkit collect: --user: no such user 'no-such-user-bsmkit'\n");
    assert.equal(existsSync(spool), false);
  } else {
    t.diagnostic('not root: --user only logs that privileges stay');
    assert.match(r2.stderr, /--user no-such-user-bsmkit: not running as root/);
  }
});

test('stats: a state file that is not a collector\'s is an error naming it, not a crash', async () => {
  const sp = join(dir, 'odd-spool');
  mkdirSync(sp);
  const state = join(sp, 'state.json');
  for (const [content, want] of [
    ['{"pid":1}', /not a collector state file \(no 'status'\)/],
    ['{}', /not a collector state file \(no 'pid'\)/],
    ['[1,2]', /not a collector state file \(not a JSON object\)/],
    ['xx', /not a collector state file \(not valid JSON: /],
  ] as const) {
    writeFileSync(state, content);
    for (const fmt of [[], ['--json'], ['--prometheus']]) {
      const r = await bsmkit(['stats', '--spool', sp, ...fmt]);
      assert.equal(r.status, 2, `${content} ${fmt.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^bsmkit stats: ${esc(state)}: `));
      assert.match(r.stderr, want);
      assert.match(r.stderr, /\[BSMKIT_E_STATE\]\n$/);
    }
  }
  const never = await bsmkit(['stats', '--spool', join(dir, 'never-started')]);
  assert.equal(never.status, 2);
  assert.match(never.stderr, /never-started\/state\.json: no collector state here/);
});

test('errors found later still name their setting: a --select or config select that does not compile, a metrics port in use', async () => {
  const cfg = join(dir, 'select.json');
  writeFileSync(cfg, JSON.stringify({ source: 'trail', trailDirs: [trail], select: '-m AUE_NO_SUCH' }));
  const r = await bsmkit(['collect', '--config', cfg, '--spool', spool]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `bsmkit collect: ${cfg}: select "-m AUE_NO_SUCH": -m AUE_NO_SUCH: no such event\n`);
  const f = await bsmkit(['collect', '--source', 'trail', '--trail-dir', trail, '--spool', spool, '--select=-Q']);
  assert.equal(f.stderr, 'bsmkit collect: --select "-Q": unknown option -Q\n');
  assert.equal(existsSync(spool), false);

  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as AddressInfo).port;
  try {
    const m = await bsmkit(['collect', '--source', 'trail', '--trail-dir', trail, '--spool', spool, '--sink', `ndjson:${join(dir, 'out')}`, '--stats-interval', '0', '--metrics-port', String(port)]);
    assert.equal(m.status, 2, m.stderr);
    assert.match(m.stderr, new RegExp(`metrics on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE.* \\(--metrics-port: choose a free port\\) \\[BSMKIT_E_METRICS\\]\\n$`));
    assert.equal(existsSync(join(spool, 'collect.lock')), false, 'a failed start leaves the spool unlocked');
  } finally {
    busy.close();
  }
});

test('sink names key their checkpoints: the type for a single sink of a type, TYPE:TARGET for several', () => {
  assert.deepEqual(sinkNames([{ type: 'duckdb' }, { type: 'ndjson', dir: '/a' }]), ['duckdb', 'ndjson']);
  assert.deepEqual(sinkNames([{ type: 'ndjson', dir: '/a' }, { type: 'ndjson', dir: '/b' }, { type: 'duckdb', path: '/s.duckdb' }]), ['ndjson:/a', 'ndjson:/b', 'duckdb']);
  assert.deepEqual(sinkNames([{ type: 'duckdb' }, { type: 'duckdb', path: '/s.duckdb' }]), ['duckdb:(default store)', 'duckdb:/s.duckdb']);
  assert.throws(() => sinkNames([{ type: 'duckdb', path: '/s' }, { type: 'duckdb', path: '/s' }]), /the duckdb sink \/s is given twice/);
});
