import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelinedWrites } from '../../src/sinks/pipelined-writes.js';
import { BsmkitError } from '../../src/errors.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('pipelined writes: the next prepare overlaps the store before it; stores run in call order', async () => {
  const w = new PipelinedWrites('test sink');
  const log: string[] = [];
  const write = (n: number): Promise<number> =>
    w.run(
      () => {
        log.push(`prepare ${n}`);
        return n;
      },
      async (p, started) => {
        log.push(`store ${p} starts`);
        started();
        await tick();
        log.push(`store ${p} ends`);
        return p * 10;
      },
    );
  assert.deepEqual(await Promise.all([write(1), write(2), write(3)]), [10, 20, 30]);
  assert.deepEqual(log, ['prepare 1', 'store 1 starts', 'prepare 2', 'store 1 ends', 'store 2 starts', 'prepare 3', 'store 2 ends', 'store 3 starts', 'store 3 ends']);
});

test('pipelined writes: a failed store fails the writes handed over before the failure was known; later ones run', async () => {
  const w = new PipelinedWrites('test sink');
  const stored: number[] = [];
  const write = (n: number, fail = false): Promise<void> =>
    w.run(
      () => n,
      async (p, started) => {
        started();
        await tick();
        if (fail) throw new Error(`disk full at ${p}`);
        stored.push(p);
      },
    );
  const a = write(1);
  const b = write(2, true);
  const c = write(3);
  const d = write(4);
  await a;
  await assert.rejects(b, /disk full at 2/);
  await assert.rejects(c, (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_SINK_WRITE' && /test sink: batch not stored: an earlier batch failed \(disk full at 2\)/.test(e.message));
  await assert.rejects(d, /an earlier batch failed/);
  // the retry, handed over after the failure
  await Promise.all([write(2), write(3), write(4)]);
  assert.deepEqual(stored, [1, 2, 3, 4]);
});

test('pipelined writes: a failed prepare fails it and the writes handed over with it, not the ones before', async () => {
  const w = new PipelinedWrites('test sink');
  const stored: number[] = [];
  const write = (n: number, fail = false): Promise<void> =>
    w.run(
      () => {
        if (fail) throw new Error(`cannot render ${n}`);
        return n;
      },
      async (p, started) => {
        started();
        await tick();
        stored.push(p);
      },
    );
  const a = write(1);
  const b = write(2, true);
  const c = write(3);
  await a;
  await assert.rejects(b, /cannot render 2/);
  await assert.rejects(c, /an earlier batch failed/);
  await w.idle();
  assert.deepEqual(stored, [1]);
});
