// The kernel model's own speed: records generated, routed by preselection, written to the trail as auditd would
// and logged to the ground truth, through the model's control channel (KernelModel.generate), no pipe open.
// Target: >= 1M records/s, so the model can outrun any reader. The model's files go to /dev/shm when it exists
// (the model is a test tool; its trail speed is not what is measured).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from '../dist-path.mjs';

export const description = 'kernel model: generate + trail + ground truth, 3M records (timedRecordsPerSec: after warm-up)';

const WARMUP = 300_000;
const COUNT = 3_000_000;

export default async function modelGenerate() {
  const { startKernelModel } = await import(dist('testing/kernel-model/index.js'));
  const endpoint = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bsmkit-bench-model-'));
  const model = await startKernelModel({ endpoint, seed: 42 });
  try {
    await model.generate(WARMUP);
    const before = (await model.summary()).counters;
    const t0 = performance.now();
    await model.generate(COUNT);
    const secs = (performance.now() - t0) / 1000;
    const after = (await model.summary()).counters;
    return {
      bytes: after.trailBytes - before.trailBytes,
      records: after.generated - before.generated,
      timedRecordsPerSec: Math.round((after.generated - before.generated) / secs),
    };
  } finally {
    await model.stop();
    rmSync(endpoint, { recursive: true, force: true });
  }
}
