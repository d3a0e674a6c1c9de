import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Framer } from '../../src/format/framer.js';
import { decodeAll } from '../../src/format/read-file.js';
import type { Diagnostic } from '../../src/format/types.js';

const CONF = new URL('../../../shared/conformance/', import.meta.url).pathname;
const index = JSON.parse(readFileSync(CONF + 'generated/index.json', 'utf8'));

function frame(chunks: Buffer[], final = true) {
  const recs: { offset: number; bytes: Buffer; kind: string }[] = [];
  const diags: Diagnostic[] = [];
  const f = new Framer({
    record: (bytes, offset, kind) => recs.push({ offset, bytes: Buffer.from(bytes), kind }),
    diagnostic: (d) => diags.push(d),
  });
  for (const c of chunks) f.push(c);
  if (final) f.end();
  return { recs, diags, pending: f.pending };
}

const realistic = readFileSync(CONF + 'generated/realistic.bsm');
const entries = index.files['realistic.bsm'].entries as { offset: number; length: number; kind: string }[];

test('frames every record of realistic.bsm at the offsets of index.json', () => {
  const { recs, diags } = frame([realistic]);
  assert.equal(diags.length, 0);
  assert.deepEqual(recs.map((r) => [r.offset, r.bytes.length]), entries.map((e) => [e.offset, e.length]));
  assert.deepEqual(recs.map((r) => r.kind), entries.map((e) => e.kind));
});

test('one and two records split at every byte give the same frames', () => {
  const two = realistic.subarray(entries[1].offset, entries[3].offset);
  const want = frame([two]).recs;
  assert.equal(want.length, 2);
  for (let i = 0; i <= two.length; i++) {
    const got = frame([two.subarray(0, i), two.subarray(i)]).recs;
    assert.deepEqual(got, want, `split at ${i}`);
  }
});

test('one-byte chunks frame the whole trail', () => {
  const part = realistic.subarray(0, 20000);
  const chunks: Buffer[] = [];
  for (let i = 0; i < part.length; i++) chunks.push(part.subarray(i, i + 1));
  const a = frame([part]);
  const b = frame(chunks);
  assert.deepEqual(b.recs, a.recs);
  assert.deepEqual(b.diags, a.diags);
});

test('a partial record at the end of a growing input is held, not reported', () => {
  const cut = realistic.subarray(0, entries[5].offset + 10);
  const { recs, diags, pending } = frame([cut], false);
  assert.equal(recs.length, 5);
  assert.equal(diags.length, 0);
  assert.equal(pending, 10);
});

test('a truncated record at the end of a finished input is reported with its size', () => {
  const cut = realistic.subarray(0, entries[5].offset + 10);
  const { recs, diags } = frame([cut]);
  assert.equal(recs.length, 5);
  assert.equal(diags.length, 1);
  assert.equal(diags[0].code, 'BSM_E_TRUNCATED');
  assert.equal(diags[0].offset, entries[5].offset);
  assert.match(diags[0].message, /10 bytes present, expected \d+ bytes/);
});

test('junk between records is skipped, reported once, and the frames after it are delivered', () => {
  const a = realistic.subarray(entries[1].offset, entries[2].offset);
  const c = realistic.subarray(entries[2].offset, entries[4].offset);
  const junk = Buffer.from([0x14, 0x00, 0x00, 0x00, 0x30, 0xff, 0x13, 0x41]);
  const { recs, diags } = frame([Buffer.concat([a, junk, c])]);
  assert.equal(recs.length, 3);
  assert.equal(diags.length, 1);
  assert.equal(diags[0].code, 'BSM_E_JUNK');
  assert.equal(diags[0].offset, a.length);
  assert.equal(diags[0].skipped, junk.length);
});

test('resync always terminates: random bytes with no record', () => {
  const noise = Buffer.alloc(5000);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) & 0xff;
  const { recs, diags } = frame([noise]);
  assert.equal(recs.length, 0);
  assert.ok(diags.length >= 1);
  const skipped = diags.reduce((n, d) => n + (d.skipped ?? 0), 0);
  assert.equal(skipped, noise.length, 'every byte is accounted for');
});

for (const name of readdirSync(CONF + 'generated/malformed')) {
  test(`malformed/${name}: every intact record is delivered and the damage is reported`, () => {
    const buf = readFileSync(CONF + 'generated/malformed/' + name);
    const meta = index.files['malformed/' + name];
    const { records, diagnostics } = decodeAll(buf);
    const intact = records.filter((r) => r.intact);
    assert.equal(intact.length, meta.intact_records, 'every intact record is delivered intact');
    // The records before the damage are the file's first records, at their original offsets.
    if (meta.records_before_damage !== undefined) {
      assert.equal(intact.filter((r) => r.offset < meta.damage_offset).length, meta.records_before_damage);
    }
    if (meta.damaged_records) {
      const all = records.filter((r) => r.kind === 'record');
      for (const i of meta.damaged_records as number[]) assert.equal(all[i].intact, false, `record ${i} is flagged damaged`);
    }
    if (buf.length > 0) {
      assert.ok(diagnostics.length > 0, 'damage reported');
      assert.ok(diagnostics.every((d) => Number.isInteger(d.offset) && d.message.length > 0));
      if (meta.damage_offset !== undefined) {
        assert.ok(diagnostics.some((d) => Math.abs(d.offset - meta.damage_offset) < 64 || d.recordOffset === meta.damage_offset), 'a diagnostic points at the damage');
      }
    }
  });
}
