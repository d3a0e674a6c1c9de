/** The worker thread of a WorkerSink (worker-sink.ts): builds the sink and runs its calls in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { materialize } from '../spool/raw-batch.js';
import type { Sink } from './sink.js';
import type { SinkReply, SinkRequest, WorkerSinkSpec } from './worker-sink.js';

const spec = workerData as WorkerSinkSpec;
const port = parentPort!;

async function create(): Promise<Sink> {
  if (spec.kind === 'duckdb') {
    const { DuckDbSink } = await import('./duckdb-sink.js');
    return new DuckDbSink(spec.options);
  }
  const { NdjsonFileSink } = await import('./ndjson-file-sink.js');
  return new NdjsonFileSink(spec.options);
}

const sink = create();
// One call at a time, in arrival order (the sink's own contract).
let chain: Promise<unknown> = Promise.resolve();

port.on('message', (req: SinkRequest) => {
  chain = chain.then(async () => {
    let reply: SinkReply;
    try {
      const s = await sink;
      let value: number | undefined;
      if (req.op === 'write' && !req.seqs && !req.ids && s.writeRaw) await s.writeRaw(req.raw);
      else if (req.op === 'write') {
        const records = materialize(req.raw);
        if (req.seqs) for (let i = 0; i < records.length; i++) records[i]!.seq = req.seqs[i]!;
        if (req.ids) for (let i = 0; i < records.length; i++) records[i]!.id = req.ids[i]!;
        await s.write(records);
      } else if (req.op === 'open') await s.open();
      else if (req.op === 'lastSeq') value = s.lastSeq ? await s.lastSeq() : undefined;
      else await s.close();
      reply = { id: req.id, ok: true, value };
    } catch (err) {
      reply = { id: req.id, ok: false, message: (err as Error).message, code: (err as { code?: string }).code };
    }
    port.postMessage(reply);
  });
});
