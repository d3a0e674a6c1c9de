import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerSink } from '../../src/sinks/worker-sink.js';
import { DuckDbSink } from '../../src/sinks/duckdb-sink.js';
import { NdjsonFileSink } from '../../src/sinks/ndjson-file-sink.js';
import { STORE_ROW_GROUP } from '../../src/sinks/store-schema.js';
import { Spool } from '../../src/spool/spool.js';
import { concatRaw, materialize, packRecords } from '../../src/spool/raw-batch.js';
import { recordId } from '../../src/spool/record-id.js';
import { BsmkitError } from '../../src/errors.js';
import { collectedFrom, REALISTIC, storeRows, tempDir } from './helpers.js';

const rows = storeRows;

/** realistic.bsm spooled with mixed origins and two source names. */
function spoolRealistic(dir: string): { spool: Spool; n: number; first: number } {
  const recs = collectedFrom(REALISTIC);
  const spool = Spool.open({ dir, segmentBytes: 16 << 10 });
  recs.forEach((r, i) => {
    spool.append({ bytes: r.bytes, origin: i % 5 === 0 ? 'recovered' : i % 2 ? 'pipe' : 'trail', sourceFile: i % 3 ? '20261124000000.not_terminated' : 'pipe:x', sourceOffset: r.sourceOffset, flags: i % 7 === 0 ? 1 : 0 });
    if (i % 50 === 49) spool.flush(); // a segment ends only at a flush
  });
  spool.flush();
  return { spool, n: recs.length, first: spool.firstSeq };
}

/** Every spooled record, read across segment ends. */
function readAll(spool: Spool, first: number, n: number) {
  const out = spool.read(first, n, 1 << 30);
  while (out.length < n) out.push(...spool.read(first + out.length, n - out.length, 1 << 30));
  return out;
}

test('raw batches: read() equals materialize(readRaw()); concatRaw across segments and packRecords round-trip', (t) => {
  const { spool, n, first } = spoolRealistic(tempDir(t));
  assert.ok(spool.segmentCount > 2, 'several segments');
  const head = spool.read(first, n, 1 << 30);
  assert.ok(head.length < n, 'a read stops at a segment end');
  assert.deepEqual(materialize(spool.readRaw(first, n, 1 << 30)), head);
  let raw = spool.readRaw(first, n, 1 << 30);
  while (raw.count < n) raw = concatRaw(raw, spool.readRaw(first + raw.count, n - raw.count, 1 << 30));
  // spool reads give Buffers: the joined bytes are a plain, transferable Uint8Array (no deprecated Buffer(n) call)
  assert.ok(!Buffer.isBuffer(raw.data) && raw.data.byteOffset === 0 && raw.data.byteLength === raw.data.buffer.byteLength);
  const every = materialize(raw);
  assert.equal(every.length, n);
  every.forEach((r, i) => {
    assert.equal(r.seq, first + i);
    assert.equal(r.id, recordId(r.bytes, r.sourceFile, r.sourceOffset));
  });
  assert.deepEqual(every, readAll(spool, first, n));
  // A filtered (gappy) selection survives packing: seqs kept apart, everything else equal.
  const some = every.filter((_, i) => i % 3 === 1);
  const { raw: packed, seqs } = packRecords(some);
  const back = materialize(packed).map((r, i) => ({ ...r, seq: seqs[i]! }));
  assert.deepEqual(back, some);
  spool.close();
});

test('WorkerSink duckdb: raw and filtered batches stored on the worker, exactly once across a reopen', async (t) => {
  const dir = tempDir(t);
  const { spool, n, first } = spoolRealistic(join(dir, 'spool'));
  const db = join(dir, 'store.duckdb');
  const sink = new WorkerSink({ kind: 'duckdb', options: { path: db } });
  assert.equal(sink.name, 'duckdb');
  assert.equal(sink.catchUpBatch, STORE_ROW_GROUP);
  await sink.open();
  assert.equal(await sink.lastSeq(), undefined);
  const all = readAll(spool, first, n);
  const half = Math.floor(n / 2);
  let k = 0;
  while (k < half) {
    const raw = spool.readRaw(first + k, half - k);
    await sink.writeRaw(raw);
    assert.equal(raw.data.byteLength, 0, 'the batch buffer was transferred to the worker');
    k += raw.count;
  }
  // The rest through write(), every other record left out (a selection), as object records.
  const kept = all.slice(half).filter((r) => r.seq % 2 === 0);
  await sink.write(kept);
  assert.equal(await sink.lastSeq(), kept[kept.length - 1]!.seq);
  await sink.close();

  const want = [...all.slice(0, half), ...kept];
  const got = await rows(db, 'SELECT seq, id, origin, recovered, source_file, source_offset, raw FROM records ORDER BY seq');
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    assert.equal(Number(g.seq), w.seq);
    assert.equal(g.id, w.id);
    assert.equal(g.origin, w.origin);
    assert.equal(g.recovered, w.origin === 'recovered');
    assert.equal(g.source_file, w.sourceFile ?? null);
    assert.equal(Number(g.source_offset), w.sourceOffset);
    assert.ok(Buffer.from(g.raw as Uint8Array).equals(w.bytes));
  });
  assert.ok(want.some((w) => w.origin === 'recovered') && want.some((w) => w.sourceFile === 'pipe:x'));

  // Reopened: lastSeq comes from the table; a replay of the last batch stores nothing new.
  const again = new WorkerSink({ kind: 'duckdb', options: { path: db } });
  await again.open();
  assert.equal(await again.lastSeq(), kept[kept.length - 1]!.seq);
  await again.write(kept);
  await again.close();
  assert.equal((await rows(db, 'SELECT count(*)::INTEGER AS n FROM records'))[0]!.n, want.length);
  spool.close();
});

test('WorkerSink: errors come back with their code; a dead worker rejects instead of hanging', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'plain'), 'x');
  const bad = new WorkerSink({ kind: 'duckdb', options: { path: join(dir, 'plain', 'store.duckdb') } });
  await assert.rejects(bad.open(), (err: unknown) => {
    assert.ok(err instanceof BsmkitError);
    assert.equal(err.code, 'BSMKIT_E_STORE_OPEN');
    assert.match(err.message, /plain/);
    return true;
  });
  await bad.close();
  // The worker thread ends under a pending call (a write that takes far longer than the terminate): the call rejects.
  const sink = new WorkerSink({ kind: 'duckdb', options: { path: join(dir, 'store.duckdb') } });
  await sink.open();
  const base = collectedFrom(REALISTIC);
  const big = Array.from({ length: 30_000 }, (_, i) => ({ ...base[i % base.length]!, seq: i + 1, id: `x${i}` }));
  const w = (sink as unknown as { worker: { terminate(): Promise<number> } }).worker;
  const pending = sink.write(big);
  await w.terminate();
  await assert.rejects(pending, /worker thread exited/);
  // The next call starts a fresh worker and opens the sink there first, as the collector's retry needs.
  assert.equal(await sink.lastSeq(), undefined, 'the interrupted transaction stored nothing');
  await sink.write(big.slice(0, 100));
  assert.equal(await sink.lastSeq(), 100);
  await sink.close();
});

test('WorkerSink ndjson: the lines equal what the sink writes on the main thread', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC).slice(0, 300);
  const sink = new WorkerSink({ kind: 'ndjson', options: { dir: join(dir, 'w'), name: 'files' } });
  assert.equal(sink.name, 'files');
  await sink.open();
  await sink.write(recs);
  await sink.close();
  const { NdjsonFileSink } = await import('../../src/sinks/ndjson-file-sink.js');
  const direct = new NdjsonFileSink({ dir: join(dir, 'd') });
  await direct.open();
  await direct.write(recs);
  await direct.close();
  const text = (d: string): string => readdirSync(d).filter((f) => f.endsWith('.ndjson')).sort().map((f) => readFileSync(join(d, f), 'utf8')).join('');
  const lines = text(join(dir, 'w')).trimEnd().split('\n');
  assert.equal(lines.length, 300);
  assert.equal(text(join(dir, 'w')), text(join(dir, 'd')));
});

test('WorkerSink: two sinks on one store or NDJSON directory in one process are refused on open, also beside a sink on the main thread', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'store.duckdb');
  const a = new WorkerSink({ kind: 'duckdb', options: { path: db } });
  await a.open();
  const refusedAs = (code: string) => (err: unknown) => err instanceof BsmkitError && err.code === code && /already written by another sink in this process/.test(err.message);
  await assert.rejects(new WorkerSink({ kind: 'duckdb', options: { path: db, name: 'second' } }).open(), refusedAs('BSMKIT_E_STORE_OPEN'));
  await assert.rejects(new DuckDbSink({ path: db }).open(), refusedAs('BSMKIT_E_STORE_OPEN'));
  await a.write(collectedFrom(REALISTIC).slice(0, 10));
  await a.close();
  const b = new WorkerSink({ kind: 'duckdb', options: { path: db } });
  await b.open();
  assert.equal(await b.lastSeq(), 9);
  await b.close();

  const out = join(dir, 'out');
  const n1 = new WorkerSink({ kind: 'ndjson', options: { dir: out } });
  await n1.open();
  await assert.rejects(new NdjsonFileSink({ dir: out, prefix: 'bsmkit' }).open(), refusedAs('BSMKIT_E_SINK_OPEN'));
  const other = new WorkerSink({ kind: 'ndjson', options: { dir: out, prefix: 'other' } });
  await other.open(); // another prefix: other files
  await other.close();
  await n1.close();
});
