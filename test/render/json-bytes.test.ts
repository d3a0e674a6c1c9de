/**
 * The NDJSON byte renderer (print --json's fast path) against the decoded-record renderer: for every record of the
 * conformance corpus and thousands of random records, under every option combination, a stream rendered with
 * `record` (falling back to decodeRecord + `push` where it refuses) must equal createJsonRenderer's stream byte for
 * byte, and it must refuse every record that has a diagnostic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusFiles, frameAll } from '../format/corpus.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import type { BsmRecord } from '../../src/format/types.js';
import { BufferWriter, encodeRecord, writeRecord } from '../../src/format/encode/index.js';
import { makeRng, randomRecord } from '../../src/testing/random-records.js';
import { createJsonByteRenderer, createJsonRenderer, type JsonOptions } from '../../src/render/json/index.js';
import { hostOrBuiltinEventTable } from '../../src/catalog/event-table.js';

const events = hostOrBuiltinEventTable('openbsm');

const combos: JsonOptions[] = [];
for (const ev of [undefined, events]) {
  for (const xnu of ['auto', true, false] as const) {
    for (const tokenPositions of [false, true]) {
      for (const raw of [false, true]) combos.push({ events: ev, xnu, tokenPositions, raw });
    }
  }
}
const label = (c: JsonOptions): string => JSON.stringify({ ...c, events: c.events !== undefined });

interface Rec {
  bytes: Buffer;
  offset: number;
  where: string;
  decoded: BsmRecord;
  /** The record inside a larger buffer: the renderer must only read [3, 3 + length). */
  padded: Buffer;
}

function rec(bytes: Buffer, offset: number, where: string): Rec {
  const padded = Buffer.concat([Buffer.from([0x14, 0, 0]), bytes, Buffer.from([0x13, 0xed])]);
  return { bytes, offset, where, decoded: decodeRecord(bytes, offset), padded };
}

/** Renders `recs` as one stream both ways and compares line by line; returns how many the byte path rendered. */
function compareStream(recs: Rec[], c: JsonOptions): number {
  const slow = createJsonRenderer(c);
  const fast = createJsonByteRenderer(c);
  let accepted = 0;
  const ends: number[] = [];
  for (const r of recs) {
    slow.push(r.decoded);
    if (fast.record(r.padded, 3, 3 + r.bytes.length, r.offset)) {
      accepted++;
      assert.equal(r.decoded.diagnostics.length, 0, `${r.where}: accepted a record with diagnostics`);
    } else fast.push(r.decoded);
    ends.push(fast.pending);
  }
  const want = slow.take();
  const got = fast.take();
  if (!got.equals(want)) {
    // name the first record whose line differs
    let from = 0;
    for (let i = 0; i < recs.length; i++) {
      const w = want.subarray(from, want.indexOf(10, from) + 1);
      const g = got.subarray(from, ends[i]);
      if (!g.equals(w)) assert.fail(`${recs[i].where} ${label(c)}:\n  want ${w.toString('utf8')}\n  got  ${g.toString('utf8')}`);
      from = ends[i];
    }
    assert.fail(`${label(c)}: streams differ`);
  }
  return accepted;
}

test('byte renderer equals createJsonRenderer for every corpus record, in every option combination', () => {
  const files = corpusFiles();
  assert.ok(files.length > 20, `${files.length} corpus files`);
  const perFile = files.map((f) => frameAll(f).records.map((r) => rec(r.bytes, r.offset, `${f} @${r.offset}`)));
  const total = perFile.reduce((n, r) => n + r.length, 0);
  let accepted = 0;
  for (const c of combos) for (const recs of perFile) accepted += compareStream(recs, c);
  // Most corpus records are clean and of common kinds: the byte path must take the bulk of them.
  assert.ok(accepted > combos.length * total * 0.8, `${accepted} of ${combos.length * total} renderings took the byte path`);
});

test('byte renderer equals createJsonRenderer for 4000 random records of every token type', () => {
  const rng = makeRng(20261124);
  const w = new BufferWriter(1 << 16);
  const recs: Rec[] = [];
  let offset = 0;
  for (let i = 0; i < 4000; i++) {
    const { header, body } = randomRecord(rng);
    writeRecord(w.reset(), header, body);
    const bytes = w.toBuffer();
    recs.push(rec(bytes, offset, `random record ${i}`));
    offset += bytes.length;
  }
  let accepted = 0;
  for (const c of combos) accepted += compareStream(recs, c);
  assert.ok(accepted > combos.length * recs.length * 0.3, `${accepted} of ${combos.length * recs.length} renderings took the byte path`);
});

test('XNU auto: an identity token in an earlier record swaps later socket-inet6 ports, in both paths', () => {
  const h = { type: 'header32', event: 1, modifier: 0, sec: 1, msec: 0 } as const;
  const inet6 = { type: 'sockinet128', family: 26, port: 0xbb01, addr: Buffer.alloc(16, 1) } as const;
  const ident = {
    type: 'identity', signerType: 1, signingId: Buffer.from('com.apple.x\0'), signingIdTruncated: 0,
    teamId: Buffer.from('\0'), teamIdTruncated: 0, cdhash: Buffer.alloc(20, 7),
  } as const;
  const plain = encodeRecord(h as never, [inet6 as never]);
  const withId = encodeRecord(h as never, [ident as never]);
  const port = (line: string): number => JSON.parse(line).tokens[0].port;
  for (const via of ['bytes', 'decoded'] as const) {
    const r = createJsonByteRenderer();
    const lines: string[] = [];
    for (const b of [plain, withId, plain]) {
      if (via === 'decoded' || !r.record(b, 0, b.length, 0)) r.push(decodeRecord(b, 0));
      lines.push(r.take().toString('utf8'));
    }
    assert.equal(port(lines[0]), 0xbb01, via);
    assert.equal(port(lines[2]), 443, `${via}: the identity token of the record before marks the stream as XNU`);
  }
});

test('byte renderer refuses damaged records, data tokens and standalone file tokens, writing nothing', () => {
  const fast = createJsonByteRenderer();
  let damaged = 0;
  for (const f of corpusFiles()) {
    for (const r of frameAll(f).records) {
      const rec = decodeRecord(r.bytes, r.offset);
      const hasData = rec.tokens.some((t) => t.type === 'data');
      if (rec.diagnostics.length === 0 && !hasData && rec.kind === 'record') continue;
      damaged++;
      assert.equal(fast.record(r.bytes, 0, r.bytes.length, r.offset), false, `${f} @${r.offset}`);
      assert.equal(fast.pending, 0, 'nothing written');
    }
  }
  assert.ok(damaged >= 20, `${damaged} records refused`);
});
