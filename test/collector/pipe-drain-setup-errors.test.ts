// A pipe that cannot be opened or set up is reported once, through PipeDrain.opened, with one "audit pipe setup: "
// prefix, and with a hint that names the right flag for each command; `bsmkit collect` prints it once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipeDrain } from '../../src/collector/pipe-drain.js';
import type { DrainMessage, PipeDeviceSpec } from '../../src/collector/pipe-drain-protocol.js';
import { BsmkitError } from '../../src/errors.js';
import { startKernelModel } from '../../src/testing/kernel-model/index.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** The error `opened` rejects with, and the messages posted meanwhile. */
async function failedSetup(device: PipeDeviceSpec, qlimit?: number): Promise<{ err: BsmkitError; messages: DrainMessage[] }> {
  const messages: DrainMessage[] = [];
  const drain = new PipeDrain({ device, qlimit, onMessage: (m) => messages.push(m) });
  const err = await drain.opened.then(
    () => assert.fail('the setup succeeded'),
    (e: unknown) => e,
  );
  await new Promise((r) => setImmediate(r));
  assert.ok(err instanceof BsmkitError, String(err));
  return { err, messages };
}

test('a model endpoint with no model: one error, one prefix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-nomodel-'));
  const { err, messages } = await failedSetup({ kind: 'simulated', endpoint: dir });
  assert.equal(err.code, 'BSMKIT_E_PIPE');
  assert.equal(err.message, `audit pipe setup: open ${dir}: cannot create the pipe's FIFOs: device not configured (ENXIO)`);
  assert.deepEqual(messages, [], 'not posted as an error message as well');
});

test('a setup ioctl refused: one prefix, the step and its errno', async () => {
  const model = await startKernelModel({ personality: 'freebsd', seed: 3 });
  try {
    const { err, messages } = await failedSetup({ kind: 'simulated', endpoint: model.info.endpoint }, 5000);
    assert.equal(err.code, 'BSMKIT_E_PIPE_SETUP');
    assert.equal(err.message, 'audit pipe setup: AUDITPIPE_SET_QLIMIT 5000: invalid argument (EINVAL)');
    assert.deepEqual(messages, []);
  } finally {
    await model.stop();
  }
});

test('no audit pipe on this system: its own code, and the flags of both commands that read a model', async () => {
  const { err, messages } = await failedSetup({ kind: 'native', path: '/dev/auditpipe' });
  assert.equal(err.code, 'BSMKIT_E_UNSUPPORTED_PLATFORM');
  assert.equal(
    err.message,
    `audit pipe setup: /dev/auditpipe: the BSM audit pipe exists only on macOS and FreeBSD, not on ${process.platform}; on other systems read trail files, or a kernel model's simulated pipe (bsmkit simulate prints its endpoint DIR: collect --model DIR, tail --pipe-endpoint DIR)`,
  );
  assert.deepEqual(messages, []);
});

test('bsmkit collect prints a setup error once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-collect-setup-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'collect', '--source', 'pipe', '--model', dir, '--spool', join(dir, 'spool'), '--stats-interval', '0'], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.includes('audit pipe setup'));
  assert.equal(lines.length, 1, r.stderr);
  assert.equal((lines[0]!.match(/audit pipe setup: /g) ?? []).length, 1, lines[0]);
  assert.match(lines[0]!, /open .*: cannot create the pipe's FIFOs: device not configured \(ENXIO\)/);
});
