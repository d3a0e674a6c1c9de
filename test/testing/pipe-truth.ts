/**
 * Shared by the pipe source tests: a consumer that collects a source's items in the background, and the ground
 * truth of one model pipe (what was queued, in order, and where each drop run sits in the stream).
 */
import assert from 'node:assert/strict';
import { readGroundTruth, type GroundTruth, type KernelModel } from '../../src/testing/kernel-model/index.js';
import type { PipeItem, PipeLossReport, PipeSource } from '../../src/sources/pipe/index.js';

export interface Collected {
  items: PipeItem[];
  records: Buffer[];
  losses: PipeLossReport[];
  done: Promise<void>;
  error: unknown;
}

/** Iterates the source on this thread, copying record bytes; `done` settles when the iteration ends. */
export function collect(src: PipeSource): Collected {
  const c: Collected = { items: [], records: [], losses: [], done: Promise.resolve(), error: undefined };
  c.done = (async () => {
    try {
      for await (const it of src) {
        c.items.push(it);
        if (it.type === 'record') c.records.push(Buffer.from(it.bytes));
        else if (it.type === 'loss') c.losses.push(it.loss as PipeLossReport);
      }
    } catch (err) {
      c.error = err;
    }
  })();
  return c;
}

export async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface PipeTruth {
  pipe: number;
  queued: Array<{ seq: number; length: number }>;
  drops: Array<{ recordIndex: number; offset: number; records: number }>;
  dropsByReason: { qlimit: number; alloc: number };
  notSelected: number;
  truth: GroundTruth;
}

/** The model's ground truth for the single pipe opened in this model (after model.sync()). */
export async function pipeTruth(model: KernelModel): Promise<PipeTruth> {
  await model.sync();
  const truth = readGroundTruth(model.info.truthDir);
  const opens = truth.events.filter((e) => e.type === 'pipe-open');
  assert.equal(opens.length, 1, 'one pipe opened');
  const pipe = Number(opens[0]!.pipe);
  const flushed = new Set<number>();
  // records before the last FLUSH are not in the stream (dropped or discarded)
  let streamFrom = 0;
  for (const e of truth.events) {
    if (e.type !== 'pipe-flush' || e.pipe !== pipe) continue;
    for (const s of e.seqs as number[]) flushed.add(s);
    if (e.reason !== 'close') streamFrom = Number(e.nextSeq);
  }
  const out: PipeTruth = { pipe, queued: [], drops: [], dropsByReason: { qlimit: 0, alloc: 0 }, notSelected: 0, truth };
  let bytes = 0;
  for (const r of truth.records) {
    const o = r.pipes.find((p) => p.pipe === pipe);
    if (!o || r.seq < streamFrom) continue;
    if (o.outcome === 'queued') {
      if (flushed.has(r.seq)) continue;
      out.queued.push({ seq: r.seq, length: r.length });
      bytes += r.length;
    } else if (o.outcome === 'not-selected') {
      out.notSelected++;
    } else {
      out.dropsByReason[o.outcome]++;
      const last = out.drops[out.drops.length - 1];
      if (last && last.recordIndex === out.queued.length) last.records++;
      else out.drops.push({ recordIndex: out.queued.length, offset: bytes, records: 1 });
    }
  }
  return out;
}
