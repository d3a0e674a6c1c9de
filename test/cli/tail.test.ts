/**
 * `bsmkit tail` as a child process, against trails written like auditd writes them (test/sources/trail-writer.ts):
 * one-shot reads, following with rotations, restarts from a cursor file (nothing lost, nothing twice), damage on
 * stderr with its offset, usage and access errors.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeAuditd, makeRecord } from '../sources/trail-writer.js';

const T = 30_000;
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(repo, 'src', 'cli', 'main.ts');
const env = { ...process.env, TZ: 'UTC' };

function tmpDirs(n: number): string[] {
  const root = mkdtempSync(join(tmpdir(), 'bsmkit-tail-cli-'));
  return Array.from({ length: n }, (_, i) => {
    const d = join(root, 'd' + i);
    mkdirSync(d);
    return d;
  });
}

function tailSync(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', main, 'tail', ...args], { cwd: repo, env, encoding: 'utf8', timeout: T });
}

/** The `rec N` sequence numbers in praudit text or NDJSON output, in order. */
function seqs(out: string): number[] {
  return [...out.matchAll(/rec (\d+) /g)].map((m) => Number(m[1]));
}

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

/** A following `bsmkit tail`; `waitFor(n)` resolves once n records were printed. */
function tailChild(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'tail', ...args], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  let waiter: (() => void) | undefined;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    waiter?.();
  });
  child.stderr.on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    out: () => out,
    err: () => err,
    async waitFor(n: number): Promise<void> {
      while (seqs(out).length < n) {
        await new Promise<void>((resolve) => {
          waiter = resolve;
          void exited.then(() => resolve());
        });
        if (child.exitCode !== null) break;
      }
      waiter = undefined;
      assert.ok(seqs(out).length >= n, `tail printed ${seqs(out).length} of ${n} records; stderr: ${err}`);
    },
    /** SIGTERM: tail stops reading, prints what it has, stores the cursor and exits. */
    async stop(): Promise<number | null> {
      child.kill('SIGTERM');
      const code = await exited;
      children.delete(child);
      return code;
    },
  };
}

test('--no-follow prints every file of several dirs in name order, as praudit text and as NDJSON', { timeout: T }, async () => {
  const dirs = tmpDirs(2);
  const d = new FakeAuditd(dirs);
  d.start();
  for (let i = 0; i < 12; i++) {
    d.write(makeRecord(i));
    if (i % 4 === 3) await d.rotate({ nextDir: true });
  }
  const text = tailSync(['--no-follow', ...dirs]);
  assert.equal(text.status, 0, text.stderr);
  assert.deepEqual(seqs(text.stdout), [...Array(12).keys()]);
  assert.match(text.stdout, /^header,\d+,11,login - local,0,/m);
  assert.match(text.stdout, /^trailer,\d+$/m);
  const json = tailSync(['--no-follow', '--json', ...dirs]);
  assert.equal(json.status, 0, json.stderr);
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { header: { event: number }; tokens: Array<{ text?: string }> });
  assert.equal(lines.length, 12);
  assert.deepEqual(lines.map((l) => Number(/rec (\d+)/.exec(l.tokens[0]!.text!)![1])), [...Array(12).keys()]);
  assert.equal(lines[0]!.header.event, 6152);
  // -l: one record per line
  const oneLine = tailSync(['--no-follow', '-l', ...dirs]);
  assert.equal(oneLine.stdout.trim().split('\n').length, 12);
});

test('following with a cursor file: stopped and restarted three times while auditd rotates, nothing lost or printed twice', { timeout: T }, async () => {
  const dirs = tmpDirs(2);
  const cursorFile = join(dirname(dirs[0]!), 'cursor.json');
  const d = new FakeAuditd(dirs);
  d.start();
  let n = 0;
  const writeSome = async (k: number) => {
    for (let i = 0; i < k; i++, n++) {
      const r = makeRecord(n, 40 + (n % 50) * 7);
      if (n % 9 === 4) {
        d.write(r.subarray(0, 20)); // half a record: tail must wait for the rest
        await sleep(2);
        d.write(r.subarray(20));
      } else d.write(r);
      if (n % 17 === 16) await d.rotate({ nextDir: n % 2 === 0 });
    }
  };
  await writeSome(30); // before the first start: --from-start prints them
  const printed: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t = tailChild(['--json', '--from-start', '--cursor-file', cursorFile, '--poll', '20', ...dirs]);
    await writeSome(40);
    await t.waitFor(run === 0 ? 70 : 40);
    assert.equal(await t.stop(), 0, t.err());
    printed.push(...seqs(t.out()));
    const cursor = JSON.parse(readFileSync(cursorFile, 'utf8')) as { source: string; file: string; offset: number };
    assert.equal(cursor.source, 'trail');
    await writeSome(25); // written while tail is not running
  }
  d.stop();
  const last = tailSync(['--no-follow', '--json', '--cursor-file', cursorFile, ...dirs]);
  assert.equal(last.status, 0, last.stderr);
  printed.push(...seqs(last.stdout));
  assert.deepEqual(printed, [...Array(n).keys()]);
});

test('following starts at the end by default and prints records as they are written', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const d = new FakeAuditd([dir!]);
  d.start();
  for (let i = 0; i < 5; i++) d.write(makeRecord(i));
  const cursorFile = join(dirname(dir!), 'c.json');
  const t = tailChild(['--poll', '20', '--cursor-file', cursorFile, dir!]);
  // The cursor file appears once tail has positioned itself (no --from-*: at the end of the active file).
  for (const until = Date.now() + 30_000; !existsSync(cursorFile) && Date.now() < until; ) await sleep(20);
  assert.equal((JSON.parse(readFileSync(cursorFile, 'utf8')) as { offset: number }).offset, 5 * makeRecord(0).length);
  for (let i = 5; i < 8; i++) d.write(makeRecord(i));
  await d.rotate();
  for (let i = 8; i < 10; i++) d.write(makeRecord(i));
  await t.waitFor(5);
  assert.equal(await t.stop(), 0);
  assert.deepEqual(seqs(t.out()), [5, 6, 7, 8, 9]);
});

test('damage in a finished file: stderr names the file and offset, intact records are printed, exit status 2', { timeout: T }, () => {
  const [dir] = tmpDirs(1);
  const a = makeRecord(0);
  const b = makeRecord(1);
  const name = '20260101000000.20260101000100';
  writeFileSync(join(dir!, name), Buffer.concat([a, Buffer.from('junk!'), b, makeRecord(2).subarray(0, 30)]));
  const r = tailSync(['--no-follow', dir!]);
  assert.equal(r.status, 2);
  assert.deepEqual(seqs(r.stdout), [0, 1]);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.equal(lines[0], `${join(dir!, name)}: offset ${a.length}: skipped 5 bytes that do not start a record [BSM_E_JUNK]`);
  assert.match(lines[1]!, new RegExp(`^${join(dir!, name)}: offset ${a.length + 5 + b.length}: incomplete record .*\\[BSM_E_TRUNCATED\\]$`));
});

test('a file that expired before it was read is reported as lost on stderr (exit status 2)', { timeout: T }, async () => {
  const [dir] = tmpDirs(1);
  const cursorFile = join(dirname(dir!), 'c.json');
  const d = new FakeAuditd([dir!]);
  d.start();
  d.write(makeRecord(0));
  assert.equal(tailSync(['--no-follow', '--cursor-file', cursorFile, dir!]).status, 0);
  for (let k = 1; k < 4; k++) {
    await d.rotate();
    d.write(makeRecord(k));
  }
  d.expire(0); // every terminated file, including the one the cursor is in
  const r = tailSync(['--no-follow', '--cursor-file', cursorFile, dir!]);
  assert.equal(r.status, 2);
  assert.deepEqual(seqs(r.stdout), [3]);
  // The cursor's file was last seen active: its end (and whatever followed it) is known only from the next file.
  assert.equal(r.stderr, 'lost: 20260101000000.not_terminated from offset 41 was removed before it was read (its end is unknown: records up to 20260101000003 may be lost)\n');
});

test('usage and access errors', { timeout: T }, () => {
  let r = tailSync(['--from-start', '--from-end', '/tmp']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--from-start and --from-end cannot be used together/);
  r = tailSync(['--pipe', '--cursor-file', '/tmp/x']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /a pipe has no files, position or end/);
  r = tailSync(['--json', '-x', '/tmp']);
  assert.equal(r.status, 1);
  r = tailSync(['--no-follow', '/nonexistent/bsmkit-audit']);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /\/nonexistent\/bsmkit-audit: no such trail directory/);
  const [dir] = tmpDirs(1);
  const bad = join(dir!, 'c.json');
  writeFileSync(bad, '{"source":"pipe"}\n');
  r = tailSync(['--no-follow', '--cursor-file', bad, dir!]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /not a trail cursor/);
  r = tailSync(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--cursor-file FILE/);
});
