/** encode(decode(bytes)) gives back the same bytes: every record of the conformance corpus, and random records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord } from '../../src/format/decode-record.js';
import { BufferWriter, encodeFileToken, encodeRecord, writeRecord, type HeaderInput, type TokenInput } from '../../src/format/encode/index.js';
import type { BsmRecord, FileToken, HeaderToken } from '../../src/format/types.js';
import { makeRng, randomRecord } from '../../src/testing/random-records.js';
import { corpusFiles, frameAll } from './corpus.js';

/** Re-encodes a decoded record from its token model alone (header size and trailer recomputed by the encoder). */
function reencode(r: BsmRecord): Buffer {
  if (r.kind === 'file-token') {
    const f = r.tokens[0] as FileToken;
    return encodeFileToken(f.sec, f.msec, f.name);
  }
  const h = r.header as HeaderToken;
  const body = r.tokens.slice(1, -1) as unknown as TokenInput[];
  return encodeRecord(h as unknown as HeaderInput, body);
}

test('every intact corpus record re-encodes to its exact bytes', () => {
  let n = 0;
  let damaged = 0;
  for (const file of corpusFiles()) {
    for (const { bytes, offset } of frameAll(file).records) {
      const r = decodeRecord(bytes, offset);
      if (!r.intact) {
        damaged++;
        continue; // damaged records cannot round-trip: their size field or trailer is wrong by definition
      }
      const again = reencode(r);
      assert.ok(again.equals(bytes), `${file} @${offset}: re-encoded ${again.toString('hex')} != ${bytes.toString('hex')}`);
      n++;
    }
  }
  assert.ok(n > 1000, `records round-tripped: ${n}`);
  // only the deliberately malformed inputs hold damaged records
  assert.ok(damaged < 100, `damaged records: ${damaged}`);
});

test('random records of every token type round-trip through decode and encode (5000 seeds)', () => {
  const rng = makeRng(4242);
  const w = new BufferWriter(1 << 16);
  for (let i = 0; i < 5000; i++) {
    const { header, body } = randomRecord(rng);
    writeRecord(w.reset(), header, body);
    const bytes = w.toBuffer();
    const r = decodeRecord(bytes, 0);
    const again = reencode(r);
    assert.ok(again.equals(bytes), `random record ${i}: ${bytes.toString('hex')} re-encoded as ${again.toString('hex')}`);
  }
});
