/** The `bsmkit` entry point as a user runs it: help, unknown commands, and a reader that goes away early. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const realistic = fileURLToPath(new URL('../../../shared/conformance/generated/realistic.bsm', import.meta.url));

test('help lists every command; an unknown command is a usage error', () => {
  const help = spawnSync(process.execPath, ['--import', 'tsx', main, 'help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const cmd of ['print', 'reduce', 'tail', 'simulate']) assert.match(help.stdout, new RegExp(`^  ${cmd} `, 'm'));
  const bad = spawnSync(process.execPath, ['--import', 'tsx', main, 'nonesuch'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown command 'nonesuch'/);
});

test('output piped into a reader that exits early (| head -1) ends quietly with status 0', () => {
  // a shell pipeline, as users write it; pipefail exposes bsmkit's own status
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" --import tsx "${main}" print -n "${realistic}" "${realistic}" "${realistic}" | head -1`], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout.split('\n').length, 2);
});
