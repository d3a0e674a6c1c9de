import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, readdirSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NdjsonFileSink, ndjsonFileName, parseNdjsonFileName } from '../../src/sinks/ndjson-file-sink.js';
import { CollectedJsonWriter } from '../../src/sinks/collected-json.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import { createJsonRenderer, recordToJson } from '../../src/render/json/index.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import { BsmkitError } from '../../src/errors.js';
import type { CollectedRecord } from '../../src/sinks/sink.js';
import { collectedFrom, REALISTIC, tempDir } from './helpers.js';

const events = builtinEventTable('macos');
const CHILD = join(import.meta.dirname, 'ndjson-child.ts');
const REPO = join(import.meta.dirname, '../..');

function linesOf(files: string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assert.ok(text.endsWith('\n'), `${f} ends with a newline`);
    for (const l of text.slice(0, -1).split('\n')) out.push(JSON.parse(l) as Record<string, unknown>);
  }
  return out;
}

async function writeAll(sink: NdjsonFileSink, recs: CollectedRecord[], batch: number): Promise<void> {
  for (let i = 0; i < recs.length; i += batch) await sink.write(recs.slice(i, i + batch));
}

test('lines: collector fields first, then the record exactly as recordToJson writes it', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC, { origin: (i) => (i % 3 === 0 ? 'recovered' : 'pipe') });
  const sink = new NdjsonFileSink({ dir, events });
  await sink.open();
  await writeAll(sink, recs, 100);
  await sink.close();
  const files = sink.files();
  assert.equal(files.length, 1);
  const lines = linesOf(files);
  assert.equal(lines.length, recs.length);
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    const { seq, id, origin, sourceFile, sourceOffset, ...rest } = lines[i];
    assert.deepEqual({ seq, id, origin, sourceFile, sourceOffset }, { seq: r.seq, id: r.id, origin: r.origin, sourceFile: r.sourceFile, sourceOffset: r.sourceOffset });
    assert.deepEqual(rest, JSON.parse(recordToJson(decodeRecord(r.bytes, r.sourceOffset), { events })));
  }
  // Keys as the first bytes of every line (what restart recovery relies on).
  assert.match(readFileSync(files[0], 'utf8'), /^\{"seq":0,"id":"/);
});

test('size rotation: no file beyond maxBytes, names carry the first seq, nothing lost or repeated', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC);
  const maxBytes = 64 * 1024;
  const sink = new NdjsonFileSink({ dir, events, maxBytes, maxAgeMs: 0 });
  await sink.open();
  await writeAll(sink, recs, 97);
  await sink.close();
  const files = sink.files();
  assert.ok(files.length >= 5, `${files.length} files`);
  let expectSeq = 0;
  for (const f of files) {
    const size = statSync(f).size;
    assert.ok(size <= maxBytes, `${basename(f)}: ${size} bytes`);
    assert.equal(statSync(f).mode & 0o777, 0o600);
    const lines = linesOf([f]);
    assert.equal(parseNdjsonFileName('bsmkit', basename(f))?.firstSeq, lines[0].seq);
    for (const l of lines) assert.equal(l.seq, expectSeq++);
  }
  assert.equal(expectSeq, recs.length);
});

test('time rotation: a file older than maxAgeMs is closed at the next write; the name holds its creation time', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC).slice(0, 60);
  let now = Date.UTC(2026, 10, 24, 18, 0, 0);
  const sink = new NdjsonFileSink({ dir, events, maxAgeMs: 60_000, maxBytes: 0, now: () => now });
  await sink.open();
  await sink.write(recs.slice(0, 20));
  now += 59_000;
  await sink.write(recs.slice(20, 40)); // same file: 59 s old
  now += 1_000;
  await sink.write(recs.slice(40, 60)); // 60 s: a new file
  await sink.close();
  assert.deepEqual(sink.files().map((f) => basename(f)), [
    'bsmkit-000000000000-20261124T180000Z.ndjson',
    'bsmkit-000000000040-20261124T180100Z.ndjson',
  ]);
  assert.deepEqual(linesOf(sink.files()).map((l) => l.seq), recs.map((r) => r.seq));
  // The age survives a restart: it is read back from the name.
  const again = new NdjsonFileSink({ dir, events, maxAgeMs: 60_000, maxBytes: 0, now: () => now + 30_000 });
  await again.open();
  await again.write(collectedFrom(REALISTIC).slice(60, 61));
  await again.close();
  assert.equal(again.files().length, 2);
  now += 60_000;
  const third = new NdjsonFileSink({ dir, events, maxAgeMs: 60_000, maxBytes: 0, now: () => now });
  await third.open();
  await third.write(collectedFrom(REALISTIC).slice(61, 62));
  await third.close();
  assert.equal(third.files().length, 3);
});

test('exactly once on restart: a torn last line is cut, replayed records are skipped', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC);
  // A writer process stores 0..399 and is killed: the sink never closed.
  const batchFile = join(tempDir(t), 'batch.json');
  writeFileSync(batchFile, JSON.stringify(recs.slice(0, 400).map((r) => ({ ...r, bytes: r.bytes.toString('hex') }))));
  const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, dir, batchFile, 'kill', String(48 * 1024)], { cwd: REPO, encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  // It crashed in the middle of its next write: part of a line reached the file.
  const active = new NdjsonFileSink({ dir }).files().at(-1)!;
  const partial = Buffer.from(`{"seq":400,"id":"${recs[400].id}","origin":"trail","sourceOff`);
  appendFileSync(active, partial);
  // And a crash right after a rotation created an empty file.
  writeFileSync(join(dir, ndjsonFileName('bsmkit', 999_999, Date.now())), '');

  const second = new NdjsonFileSink({ dir, events, maxBytes: 48 * 1024 });
  await second.open();
  assert.equal(await second.lastSeq(), 399);
  assert.ok(!readFileSync(active, 'utf8').includes('sourceOff"'), 'torn line removed');
  // The collector's checkpoint was older (say 349): it replays 350.. and goes on.
  await writeAll(second, recs.slice(350), 64);
  await second.close();
  const seqs = linesOf(second.files()).map((l) => l.seq);
  assert.deepEqual(seqs, recs.map((r) => r.seq));
  assert.ok(!readdirSync(dir).some((f) => f.includes('000000999999')), 'empty file removed');
});

test('a write that fails rejects with the file named; after the fault the retry is still exactly once', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC).slice(0, 300);
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
  let now = t0;
  const sink = new NdjsonFileSink({ dir, events, maxAgeMs: 1000, now: () => now });
  await sink.open();
  await sink.write(recs.slice(0, 100));
  // The file the sink rotates to next is a link to /dev/full: every write to it fails with ENOSPC.
  now = t0 + 2000;
  const doomed = join(dir, ndjsonFileName('bsmkit', 100, now));
  symlinkSync('/dev/full', doomed);
  await assert.rejects(sink.write(recs.slice(100, 200)), (err: unknown) => {
    assert.ok(err instanceof BsmkitError);
    assert.equal(err.code, 'BSMKIT_E_SINK_WRITE');
    assert.match(err.message, /ndjson sink: cannot write .*bsmkit-000000000100-20260101T000002Z\.ndjson: .*ENOSPC/);
    return true;
  });
  // The fault goes away; the collector retries from its checkpoint (99) and goes on.
  unlinkSync(doomed);
  await sink.write(recs.slice(100, 200));
  await sink.write(recs.slice(150, 300));
  await sink.close();
  assert.deepEqual(linesOf(sink.files()).map((l) => l.seq), recs.map((r) => r.seq));
});

test('a directory that cannot be created: open rejects naming it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'plain'), 'x');
  const sink = new NdjsonFileSink({ dir: join(dir, 'plain', 'out'), events });
  await assert.rejects(sink.open(), (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_SINK_OPEN' && /plain\/out/.test(err.message));
});

test('two writes in flight (maxInFlight 2) are stored in call order, each once; when one fails, the other is not stored either', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC).slice(0, 400);
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
  let now = t0;
  const sink = new NdjsonFileSink({ dir, events, maxAgeMs: 1000, now: () => now });
  await sink.open();
  assert.equal(sink.maxInFlight, 2);
  // handed over together; the second repeats records of the first (skipped although prepared before it was stored)
  await Promise.all([sink.write(recs.slice(0, 100)), sink.write(recs.slice(50, 150))]);
  assert.equal(await sink.lastSeq(), recs[149].seq);
  // the file the sink rotates to next is a link to /dev/full: the first of two writes handed over together fails
  now = t0 + 2000;
  const doomed = join(dir, ndjsonFileName('bsmkit', 150, now));
  symlinkSync('/dev/full', doomed);
  const first = sink.write(recs.slice(150, 250));
  const second = sink.write(recs.slice(250, 300));
  await assert.rejects(first, (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_SINK_WRITE' && /ENOSPC/.test(err.message));
  await assert.rejects(second, (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_SINK_WRITE' && /an earlier batch failed/.test(err.message));
  // the collector retries from its checkpoint (149), two at a time again
  unlinkSync(doomed);
  await Promise.all([sink.write(recs.slice(150, 250)), sink.write(recs.slice(250, 400))]);
  await sink.close();
  assert.deepEqual(linesOf(sink.files()).map((l) => l.seq), recs.map((r) => r.seq));
});

test('lines rendered in batches (byte renderer, decoder for the rest) equal the collector fields plus the object renderer\'s line, byte for byte, on every generated corpus file', () => {
  const gen = join(import.meta.dirname, '../../../shared/conformance/generated');
  const files = readdirSync(gen).filter((f) => f.endsWith('.bsm'));
  assert.ok(files.length >= 3, `corpus files in ${gen}`);
  for (const f of files) {
    const recs = collectedFrom(join(gen, f), { origin: (i) => (i % 2 ? 'pipe' : 'recovered') });
    const objects = createJsonRenderer({ events });
    const batched = new CollectedJsonWriter(events);
    const expected = recs
      .map((r) => {
        const head = `{"seq":${r.seq},"id":${JSON.stringify(r.id)},"origin":"${r.origin}","sourceFile":${JSON.stringify(r.sourceFile)},"sourceOffset":${r.sourceOffset},`;
        return head + objects.record(decodeRecord(r.bytes, r.sourceOffset)).slice(1);
      })
      .join('');
    let got = '';
    for (let i = 0; i < recs.length; i += 97) {
      const part = recs.slice(i, i + 97);
      const { data, ends } = batched.render(part);
      assert.equal(ends.length, part.length);
      assert.equal(ends[ends.length - 1], data.length);
      got += data.toString('utf8');
    }
    assert.equal(got, expected, f);
  }
});

test('two sinks on one directory and prefix in one process: the second is refused until the first is closed', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC).slice(0, 40);
  const a = new NdjsonFileSink({ dir, events });
  await a.open();
  await a.write(recs.slice(0, 20));
  const b = new NdjsonFileSink({ dir: join(dir, '.'), events });
  await assert.rejects(b.open(), (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_SINK_OPEN' && /already written by another sink in this process/.test(err.message));
  await a.close();
  await b.open();
  assert.equal(await b.lastSeq(), 19);
  await b.write(recs.slice(10));
  await b.close();
  assert.deepEqual(linesOf(b.files()).map((l) => l.seq), recs.map((r) => r.seq));
});

test('the file system refuses a write midway (file size limit: a partial line reached the file): a clear error, then the line is cut and nothing is lost or repeated', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC).slice(0, 200);
  const batchFile = join(tempDir(t), 'batch.json');
  writeFileSync(batchFile, JSON.stringify(recs.map((r) => ({ ...r, bytes: r.bytes.toString('hex') }))));
  // RLIMIT_FSIZE of 64 KiB with SIGXFSZ ignored: the write that crosses it stores part of its bytes, then fails (EFBIG)
  const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 64; exec "$0" --import tsx "$@"`, process.execPath, CHILD, dir, batchFile, 'repeat', '0'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const m = /^(\d+) (\d+) BSMKIT_E_SINK_WRITE: ndjson sink: cannot write (\S+): .*EFBIG/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const [lo, hi, file] = [Number(m[1]), Number(m[2]), m[3]];
  assert.ok(file.startsWith(join(dir, 'bsmkit-000000000000-')), file);
  assert.equal(statSync(file).size, 64 * 1024, 'the failed write filled the file up to the limit');
  assert.notEqual(readFileSync(file).at(-1), 0x0a, 'it ends in a partial line');
  // the collector retries from its checkpoint (lo - 1): the sink cuts the partial line, skips what it has
  const sink = new NdjsonFileSink({ dir, events, maxBytes: 0 });
  await sink.open();
  const last = (await sink.lastSeq())!;
  assert.ok(last >= lo - 1 && last < hi, `lastSeq ${last} within the failed batch ${lo}..${hi}`);
  const again = recs.map((x, i) => ({ ...x, seq: i + Math.floor(lo / recs.length) * recs.length })).filter((x) => x.seq >= lo);
  await sink.write(again);
  await sink.close();
  const seqs = linesOf(sink.files()).map((l) => l.seq);
  assert.deepEqual(seqs, Array.from({ length: again[again.length - 1].seq + 1 }, (_, i) => i));
});
