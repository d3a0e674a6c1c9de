// `collect --user NAME` opens the pipe as root, then drops privileges. A kernel model pipe's read blocks while the
// model is idle, and the drain's owner wakes it (EINTR) to stop: with what it opened together with the pipe, as a
// process signals its own thread on a real kernel whatever its credentials, not by opening the model's root-only
// control FIFO again. Here a child process (root: the tests run as root) opens the drain, becomes `nobody`, and stops it
// while the model is idle: the thread ends by itself and posts 'closed'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startKernelModel } from '../../src/testing/kernel-model/index.js';

const drainModule = new URL('../../src/collector/pipe-drain.ts', import.meta.url).href;

const child = `
import { PipeDrain } from ${JSON.stringify(drainModule)};
const messages = [];
const drain = new PipeDrain({ device: { kind: 'simulated', endpoint: process.argv[1] }, qlimit: 1024, onMessage: (m) => {
  messages.push(m.t);
  if (m.t === 'batch') drain.processed(m.kb);
} });
await drain.opened;
process.setgid(65534);
process.setuid(65534);
// the model is idle: the drain thread is blocked in read()
await new Promise((r) => setTimeout(r, 200));
const t0 = Date.now();
await drain.stop();
console.log(JSON.stringify({ uid: process.getuid(), messages, stopMs: Date.now() - t0 }));
`;

test('collect --user with a kernel model: the drain stops while the model is idle after privileges were dropped', async () => {
  const model = await startKernelModel({ seed: 9 });
  try {
    await model.generate(100); // before the open: not in the pipe; the model is idle from here on
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child, model.info.endpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    // the bug this guards against is a hang (a thread blocked in read() cannot even be terminated): bounded here
    const kill = setTimeout(() => p.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    clearTimeout(kill);
    assert.equal(code, 0, `the child hung or failed: ${err}`);
    const r = JSON.parse(out) as { uid: number; messages: string[]; stopMs: number };
    assert.equal(r.uid, 65534, 'privileges were dropped');
    assert.equal(r.messages[0], 'open');
    // without a working interrupt the thread is terminated after 5 s and never posts 'closed'
    assert.equal(r.messages.at(-1), 'closed', `the drain thread closed the pipe itself (${r.messages.join(', ')})`);
    assert.ok(r.stopMs < 5000, `stop() did not wait for the fallback (${r.stopMs} ms)`);
  } finally {
    await model.stop();
  }
});
