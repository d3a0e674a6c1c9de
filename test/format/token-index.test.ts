/**
 * The fast paths and the object decoder must agree: token boundaries from the allocation-free walk, the clean-record
 * check used by --validate and reduce, and the framer's zero-copy range sink, over the whole conformance corpus and
 * random records of every token type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord } from '../../src/format/decode-record.js';
import { decodeToken } from '../../src/format/decode-token.js';
import { Framer } from '../../src/format/framer.js';
import { isCleanRecord, tokenEnd, TokenIndex } from '../../src/format/token-index.js';
import { BufferWriter, writeRecord } from '../../src/format/encode/index.js';
import { makeRng, randomRecord } from '../../src/testing/random-records.js';
import { corpusFiles, frameAll } from './corpus.js';

function checkRecord(bytes: Buffer, where: string): void {
  const rec = decodeRecord(bytes, 0);
  const clean = rec.intact && rec.diagnostics.length === 0;
  // isCleanRecord on a view inside a larger buffer, as the framer's range sink hands it out
  const pad = Buffer.alloc(bytes.length + 13, 0xee);
  bytes.copy(pad, 5);
  assert.equal(isCleanRecord(pad, 5, 5 + bytes.length), clean, `${where}: isCleanRecord disagrees with decodeRecord`);
  if (rec.kind !== 'record') return;
  const idx = new TokenIndex();
  idx.walk(bytes);
  for (let i = 0; i < idx.count; i++) {
    if (idx.stringLimits[i] === -2) continue; // opaque rest after a failure
    const t = decodeToken(bytes, idx.starts[i], idx.ends[i], idx.stringLimits[i]);
    assert.notEqual(typeof t, 'string', `${where}: token ${i} at ${idx.starts[i]}: ${String(t)}`);
    if (typeof t !== 'string') assert.equal(idx.starts[i] + t.length, idx.ends[i], `${where}: token ${i} length`);
    if (idx.stringLimits[i] === -1 && idx.ids[i] !== 0x13) {
      assert.equal(tokenEnd(bytes, idx.starts[i], bytes.length), idx.ends[i], `${where}: tokenEnd of token ${i}`);
    }
  }
}

test('token walk, clean check and object decoder agree on every corpus record', () => {
  let n = 0;
  for (const file of corpusFiles()) {
    for (const r of frameAll(file).records) {
      checkRecord(r.bytes, `${file} @${r.offset}`);
      n++;
    }
  }
  assert.ok(n > 1000, `corpus records checked: ${n}`);
});

test('token walk, clean check and object decoder agree on 3000 random records of every token type', () => {
  const rng = makeRng(20261124);
  const w = new BufferWriter(1 << 16);
  for (let i = 0; i < 3000; i++) {
    const { header, body } = randomRecord(rng);
    writeRecord(w.reset(), header, body);
    checkRecord(w.toBuffer(), `random record ${i}`);
  }
});

test('the range sink frames exactly like the record sink', () => {
  for (const file of corpusFiles()) {
    const viaRecord = frameAll(file);
    const got: Array<{ offset: number; hex: string; kind: string }> = [];
    const diags: number[] = [];
    const f = new Framer({
      range(buf, start, end, offset, kind) {
        got.push({ offset, hex: buf.toString('hex', start, end), kind });
      },
      diagnostic(d) {
        diags.push(d.offset);
      },
    });
    // odd chunk sizes: records cross chunk boundaries
    const data = viaRecord.data;
    for (let p = 0; p < data.length; p += 777) f.push(data.subarray(p, Math.min(p + 777, data.length)));
    f.end();
    assert.deepEqual(got, viaRecord.records.map((r) => ({ offset: r.offset, hex: r.bytes.toString('hex'), kind: r.kind })), file);
    assert.deepEqual(diags, viaRecord.diagnostics.map((d) => d.offset), file);
  }
});

test('over-counted exec strings in several tokens of one damaged record cost a bounded number of trials', { timeout: 20000 }, () => {
  // Three exec args tokens each declaring 4000 strings but holding 2, then an undecodable byte: without a per-record
  // budget the nested count retries would multiply (4000^3 walks).
  const execTok = (): Buffer => Buffer.concat([Buffer.from([0x3c, 0, 0, 0x0f, 0xa0]), Buffer.from('a\0b\0')]);
  const body = Buffer.concat([execTok(), execTok(), execTok(), Buffer.from([0xfe, 1, 2, 3])]);
  const header = Buffer.from([0x14, 0, 0, 0, 0, 11, 0, 23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const size = header.length + body.length + 7;
  header.writeUInt32BE(size, 1);
  const trailer = Buffer.from([0x13, 0xb1, 0x05, 0, 0, 0, 0]);
  trailer.writeUInt32BE(size, 3);
  const rec = Buffer.concat([header, body, trailer]);
  const r = decodeRecord(rec, 0);
  assert.equal(r.intact, false);
  assert.ok(r.diagnostics.some((d) => d.code === 'BSM_E_BAD_TOKEN' || d.code === 'BSM_E_UNKNOWN_TOKEN'));
  assert.equal(isCleanRecord(rec, 0, rec.length), false);
});
