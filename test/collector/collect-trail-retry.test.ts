/**
 * The trail reader fails (a trail file it may not read) and reads on once the cause is gone, without a restart and
 * without losing or repeating a record. The collector runs as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH
 * (setpriv), so a file of mode 000 is unreadable to it; tests on these machines run as root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRecord } from '../sources/trail-writer.js';

const root = process.getuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('trail mode: a trail file the collector may not read is reported, and read once it may, every record once', { skip: !root && 'needs root (to drop CAP_DAC_OVERRIDE)' }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'bsmkit-trail-retry-'));
  const trail = join(base, 'trail');
  mkdirSync(trail);
  const file = (from: number, to: number): Buffer => Buffer.concat(Array.from({ length: to - from }, (_, i) => makeRecord(from + i)));
  writeFileSync(join(trail, '20261125000000.20261125000100'), file(0, 50));
  const locked = join(trail, '20261125000100.20261125000200');
  writeFileSync(locked, file(50, 120));
  chmodSync(locked, 0);
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const caps = '-dac_override,-dac_read_search';
  const child = spawn('setpriv', [`--inh-caps=${caps}`, `--bounding-set=${caps}`, process.execPath, '--import', 'tsx', main, 'collect', '--source', 'trail', '--trail-dir', trail, '--spool', join(base, 'spool'), '--sink', 'stdout:json', '--stats-interval', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines = (): string[] => out.split('\n').filter(Boolean);
  try {
    for (let i = 0; i < 200 && !/trail: .*reading on from/.test(err); i++) await sleep(50);
    assert.match(err, /trail: .*20261125000100\.20261125000200: permission denied.*; reading on from .* in 1 s/);
    assert.ok(lines().length <= 50, 'nothing of the locked file yet');
    chmodSync(locked, 0o600);
    for (let i = 0; i < 200 && lines().length < 120; i++) await sleep(50);
    child.kill('SIGTERM');
    assert.equal(await Promise.race([exited, sleep(10_000).then(() => 'no exit 10 s after SIGTERM')]), 0, err);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const texts = lines().map((l) => /rec (\d+) /.exec(l)?.[1]).map(Number);
  assert.deepEqual(texts, Array.from({ length: 120 }, (_, i) => i), 'every record once, in order');
});
