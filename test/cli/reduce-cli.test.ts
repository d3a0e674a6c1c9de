/**
 * `bsmkit reduce` as a user runs it: child processes, real files, real pipes (`reduce … | print`), several
 * inputs merged, NDJSON and text output, exit statuses, a reader that goes away (EPIPE).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { decodeAll } from '../../src/format/read-file.js';
import { encodeRecord, ipv4, str } from '../../src/format/encode/index.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(repo, 'src', 'cli', 'main.ts');
const corpus = join(repo, '..', 'shared', 'conformance');
const realistic = join(corpus, 'generated', 'realistic.bsm');
const env = { ...process.env, TZ: 'UTC' };

function bsmkit(args: string[], input?: Buffer) {
  return spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repo, env, input, maxBuffer: 1 << 28 });
}

/** `bsmkit A… | bsmkit B…` through a real pipe between two processes. */
function pipeline(a: string[], b: string[]): Promise<{ out: Buffer; err: string; statusA: number | null; statusB: number | null }> {
  return new Promise((resolve) => {
    const pa = spawn(process.execPath, ['--import', 'tsx', main, ...a], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const pb = spawn(process.execPath, ['--import', 'tsx', main, ...b], { cwd: repo, env, stdio: [pa.stdout, 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    pb.stdout.on('data', (c: Buffer) => out.push(c));
    pa.stderr.on('data', (c: Buffer) => (err += c));
    pb.stderr.on('data', (c: Buffer) => (err += c));
    let statusA: number | null = null;
    let doneA = false;
    let doneB: number | null | undefined;
    const finish = () => {
      if (doneA && doneB !== undefined) resolve({ out: Buffer.concat(out), err, statusA, statusB: doneB });
    };
    pa.on('exit', (code) => {
      statusA = code;
      doneA = true;
      finish();
    });
    pb.on('close', (code) => {
      doneB = code;
      finish();
    });
  });
}

const execveCount = (): number =>
  decodeAll(readFileSync(realistic)).records.filter((r) => r.header?.event === 23).length;

test('reduce -m AUE_EXECVE trail | print: the selected records, printed by a second process', async () => {
  const r = await pipeline(['reduce', '--platform', 'openbsm', '-m', 'AUE_EXECVE', realistic], ['print', '--platform', 'freebsd', '-n']);
  assert.equal(r.statusA, 0, r.err);
  assert.equal(r.statusB, 0, r.err);
  const headers = r.out.toString('latin1').split('\n').filter((l) => l.startsWith('header,'));
  assert.equal(headers.length, execveCount());
  assert.ok(headers.every((h) => h.split(',')[3] === 'execve(2)'), headers[0]);
});

test('--json gives one NDJSON object per selected record; --print the praudit text of the same records', () => {
  const bin = bsmkit(['reduce', '--platform', 'openbsm', '-c', 'lo', realistic]);
  assert.equal(bin.status, 0, bin.stderr.toString());
  const n = decodeAll(bin.stdout).records.length;
  assert.ok(n > 0);
  const json = bsmkit(['reduce', '--platform', 'openbsm', '-c', 'lo', '--json', realistic]);
  assert.equal(json.status, 0, json.stderr.toString());
  const lines = json.stdout.toString('utf8').trim().split('\n');
  assert.equal(lines.length, n);
  for (const l of lines) assert.equal(typeof JSON.parse(l), 'object');
  const text = bsmkit(['reduce', '--platform', 'openbsm', '-c', 'lo', '--print', realistic]);
  const printed = bsmkit(['print', '--platform', 'freebsd'], bin.stdout);
  assert.equal(text.status, 0, text.stderr.toString());
  assert.equal(text.stdout.toString('latin1'), printed.stdout.toString('latin1'));
});

test('several files are merged in time order; --concat keeps them one after the other; --stats counts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-reduce-cli-'));
  try {
    const mk = (sec: number, p: string) => encodeRecord({ type: 'header32', event: 72, sec, msec: 0 }, [{ type: 'path', path: str(p) }, { type: 'return32', status: 0, value: 3 }]);
    const a = [mk(100, '/a1'), mk(300, '/a2'), mk(500, '/a3')];
    const b = [mk(200, '/b1'), mk(400, '/b2')];
    writeFileSync(join(dir, 'a.bsm'), Buffer.concat(a));
    writeFileSync(join(dir, 'b.bsm'), Buffer.concat(b));
    const merged = bsmkit(['reduce', '--stats', join(dir, 'a.bsm'), join(dir, 'b.bsm')]);
    assert.equal(merged.status, 0, merged.stderr.toString());
    assert.ok(merged.stdout.equals(Buffer.concat([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!])));
    assert.match(merged.stderr.toString(), /^records: 5 read, 5 selected, 0 not selected, 0 damaged$/m);
    const concat = bsmkit(['reduce', '--concat', join(dir, 'a.bsm'), join(dir, 'b.bsm')]);
    assert.ok(concat.stdout.equals(Buffer.concat([...a, ...b])));
    const sel = bsmkit(['reduce', '-o', 'file=^/b', '-a', '19700101000321', '--utc', join(dir, 'b.bsm'), join(dir, 'a.bsm')]);
    assert.ok(sel.stdout.equals(b[1]!));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-o sock= and -u on extended subjects work from the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-reduce-cli-'));
  try {
    const subj = { type: 'subject32_ex' as const, auid: 501, euid: 501, egid: 20, ruid: 501, rgid: 20, pid: 77, sid: 77, port: 0, addrType: 16, addr: Buffer.alloc(16, 1) };
    const conn = encodeRecord({ type: 'header32_ex', event: 32, addrType: 4, addr: ipv4('10.0.0.1'), sec: 5, msec: 0 }, [
      subj,
      { type: 'sockinet32', family: 2, port: 443, addr: ipv4('93.184.216.34') },
      { type: 'return32', status: 0, value: 0 },
    ]);
    const other = encodeRecord({ type: 'header32', event: 32, sec: 6, msec: 0 }, [{ type: 'sockinet32', family: 2, port: 80, addr: ipv4('10.9.9.9') }]);
    writeFileSync(join(dir, 't.bsm'), Buffer.concat([conn, other]));
    const s = bsmkit(['reduce', '-o', 'sock=93.184.216.34:443', join(dir, 't.bsm')]);
    assert.equal(s.status, 0, s.stderr.toString());
    assert.ok(s.stdout.equals(conn));
    const u = bsmkit(['reduce', '-u', '501', join(dir, 't.bsm')]);
    assert.ok(u.stdout.equals(conn));
    const compat = bsmkit(['reduce', '--compat=openbsm', '-o', 'sock=93.184.216.34:443', join(dir, 't.bsm')]);
    assert.equal(compat.status, 0);
    assert.equal(compat.stdout.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exit statuses: usage error 1 (64 in openbsm mode), unreadable input 2, damage 2 with the rest selected', () => {
  const u = bsmkit(['reduce', '-m', 'AUE_NOPE', realistic]);
  assert.equal(u.status, 1);
  assert.match(u.stderr.toString(), /^bsmkit reduce: -m AUE_NOPE: no such event$/m);
  assert.equal(u.stdout.length, 0);
  const c = bsmkit(['reduce', '--compat=openbsm', '-c', 'nosuch', realistic]);
  assert.equal(c.status, 64);
  assert.match(c.stderr.toString(), /^Incorrect class\nUsage: auditreduce/);
  const missing = bsmkit(['reduce', '/nonexistent/trail.bsm']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr.toString(), /\/nonexistent\/trail\.bsm: .*ENOENT/);
  const dmg = bsmkit(['reduce', join(corpus, 'generated', 'malformed', 'cut_mid_token.bsm')]);
  assert.equal(dmg.status, 2);
  assert.match(dmg.stderr.toString(), /cut_mid_token\.bsm: offset \d+: .*\[BSM_E_/);
  assert.ok(decodeAll(dmg.stdout).records.every((r) => r.intact));
});

test('a reader that goes away early (| head -c) ends reduce quietly', async () => {
  const r = spawnSync('sh', ['-c', `"${process.execPath}" --import tsx "${main}" reduce "${realistic}" | head -c 100 | wc -c`], { cwd: repo, env });
  assert.equal(r.stdout.toString().trim(), '100');
  assert.equal(r.stderr.toString(), '', 'no EPIPE trace');
});
