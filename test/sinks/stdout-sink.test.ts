import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { StdoutSink } from '../../src/sinks/stdout-sink.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import { BsmkitError } from '../../src/errors.js';
import { collectedFrom, REALISTIC } from './helpers.js';

const CHILD = join(import.meta.dirname, 'stdout-child.ts');
const REPO = join(import.meta.dirname, '../..');
const ORACLE_N = join(import.meta.dirname, '../../../shared/conformance/oracle/generated/realistic.bsm.n.txt');

function collect(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('latin1') };
}

test('praudit format: batch by batch, the output is byte for byte what OpenBSM praudit -n prints', async () => {
  const out = collect();
  const sink = new StdoutSink({
    stream: out.stream,
    events: builtinEventTable('openbsm'),
    praudit: { noResolve: true, timeZone: 'UTC', platform: 'linux' },
  });
  await sink.open();
  const recs = collectedFrom(REALISTIC);
  for (let i = 0; i < recs.length; i += 128) await sink.write(recs.slice(i, i + 128));
  await sink.close();
  assert.equal(out.text(), readFileSync(ORACLE_N, 'latin1'));
});

test('json format: one line per record with the collector fields', async () => {
  const out = collect();
  const sink = new StdoutSink({ stream: out.stream, format: 'json', events: builtinEventTable('macos') });
  await sink.open();
  const recs = collectedFrom(REALISTIC, { origin: () => 'recovered' }).slice(0, 50);
  await sink.write(recs.slice(0, 20));
  await sink.write(recs.slice(20));
  await sink.close();
  const lines = out.text().trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.seq, l.id, l.origin, l.sourceOffset]), recs.map((r) => [r.seq, r.id, 'recovered', r.sourceOffset]));
});

test('a stream that fails: write() rejects with the error', async () => {
  const broken = new Writable({ write: (_c, _e, cb) => cb(new Error('EPIPE: reader went away')) });
  broken.on('error', () => undefined);
  const sink = new StdoutSink({ stream: broken, format: 'json', events: builtinEventTable('macos') });
  await sink.open();
  await assert.rejects(sink.write(collectedFrom(REALISTIC).slice(0, 3)), (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_SINK_WRITE' && /EPIPE/.test(err.message));
});

test('a reader that goes away (EPIPE, `| head`): the write rejects with a clear error, close() ends quietly, no uncaught exception', async () => {
  for (const args of [['json'], ['praudit', 'xml']]) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    // the reader takes the first bytes, then closes its end of the pipe
    child.stdout.once('data', () => child.stdout.destroy());
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, null, err);
    assert.equal(code, 0, err);
    assert.match(err, /^rejected BSMKIT_E_SINK_WRITE: stdout sink: write failed: .*EPIPE.*\nclosed\n$/, args.join(' '));
  }
});

test('after the stream failed, writes reject at once with its error instead of waiting', async () => {
  const sink = new StdoutSink({ stream: new Writable({ write: (_c, _e, cb) => cb(new Error('EPIPE: reader went away')) }), format: 'json', events: builtinEventTable('macos') });
  await sink.open();
  const recs = collectedFrom(REALISTIC).slice(0, 3);
  await assert.rejects(sink.write(recs), /EPIPE/);
  await assert.rejects(sink.write(recs), (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_SINK_WRITE' && /EPIPE/.test(err.message));
  await sink.close();
});
