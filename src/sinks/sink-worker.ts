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
// One call at a time, in arrival order (the sink's own contract); a sink with maxInFlight above 1 is given its
// writes as they come (it orders them itself, and that is what lets it work on one while another commits).
let chain: Promise<unknown> = Promise.resolve();

async function run(s: Sink, req: SinkRequest): Promise<number | undefined> {
  if (req.op === 'write' && !req.seqs && !req.ids && s.writeRaw) await s.writeRaw(req.raw);
  else if (req.op === 'write') {
    const records = materialize(req.raw);
    if (req.seqs) for (let i = 0; i < records.length; i++) records[i]!.seq = req.seqs[i]!;
    if (req.ids) for (let i = 0; i < records.length; i++) records[i]!.id = req.ids[i]!;
    await s.write(records);
  } else if (req.op === 'open') await s.open();
  else if (req.op === 'lastSeq') return s.lastSeq ? s.lastSeq() : undefined;
  else await s.close();
  return undefined;
}

function answer(req: SinkRequest, p: Promise<number | undefined>): Promise<void> {
  return p.then(
    (value) => port.postMessage({ id: req.id, ok: true, value } satisfies SinkReply),
    (err: unknown) => port.postMessage({ id: req.id, ok: false, message: (err as Error).message, code: (err as { code?: string }).code } satisfies SinkReply),
  );
}

port.on('message', (req: SinkRequest) => {
  chain = chain.then(async () => {
    let s: Sink;
    try {
      s = await sink;
    } catch (err) {
      return answer(req, Promise.reject(err));
    }
    const p = run(s, req);
    if (req.op === 'write' && (s.maxInFlight ?? 1) > 1) void answer(req, p);
    else await answer(req, p);
  });
});
