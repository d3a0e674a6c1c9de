/**
 * One seeded fuzz case: a stream of random records with one kind of damage applied to one of them. The framer and
 * decoder must not throw, must terminate, and must deliver every other record byte-exact at its offset.
 */
import assert from 'node:assert/strict';
import { encodeRecord } from '../../src/format/encode/index.js';
import { readFileSync } from 'node:fs';
import { decodeAll } from '../../src/format/read-file.js';
import { isCleanRecord } from '../../src/format/token-index.js';
import { makeRng, randomRecord, type Rng } from '../../src/testing/random-records.js';

export const DAMAGE = ['bit-flips', 'truncate', 'insert', 'size-field', 'delete'] as const;
export type Damage = (typeof DAMAGE)[number];

interface Built {
  stream: Buffer;
  /** [offset, length] of each record in the damaged stream, except the damaged one. */
  expect: Array<[number, number]>;
  damage: Damage;
  victim: number;
  /** Offset of the victim in the damaged stream and its original bytes. */
  victimOffset: number;
  original: Buffer;
}

function damage(r: Rng, recs: Buffer[], kind: Damage): Built {
  const victim = r.int(0, recs.length - 1);
  const v = Buffer.from(recs[victim]);
  let replaced: Buffer = v;
  let dropAfter = false;
  switch (kind) {
    case 'bit-flips': {
      const n = r.int(1, 4);
      for (let i = 0; i < n; i++) v[r.int(0, v.length - 1)] ^= 1 << r.int(0, 7);
      break;
    }
    case 'truncate':
      // The stream ends inside the victim: nothing after it exists.
      replaced = v.subarray(0, r.int(0, v.length - 1));
      dropAfter = true;
      break;
    case 'insert': {
      const at = r.int(0, v.length);
      replaced = Buffer.concat([v.subarray(0, at), r.bytes(r.int(1, 40)), v.subarray(at)]);
      break;
    }
    case 'size-field': {
      const sizes = [0, 1, 3, 24, 25, v.length - 1, v.length + 1, v.length + 20, 0x7fffffff, 0xffffffff, r.int(0, 0xffffffff)];
      replaced = Buffer.from(v);
      replaced.writeUInt32BE(r.pick(sizes) >>> 0, 1);
      break;
    }
    case 'delete': {
      const at = r.int(0, v.length - 1);
      replaced = Buffer.concat([v.subarray(0, at), v.subarray(Math.min(v.length, at + r.int(1, 16)))]);
      break;
    }
  }
  const parts: Buffer[] = [];
  const expect: Array<[number, number]> = [];
  let off = 0;
  let victimOffset = 0;
  for (let i = 0; i < recs.length; i++) {
    if (i === victim) {
      victimOffset = off;
      parts.push(replaced);
      off += replaced.length;
      if (dropAfter) break;
      continue;
    }
    parts.push(recs[i]);
    expect.push([off, recs[i].length]);
    off += recs[i].length;
  }
  return { stream: Buffer.concat(parts), expect, damage: kind, victim, victimOffset, original: recs[victim] };
}

let corpus: Buffer[] | undefined;
/** The records of the conformance corpus's kernel-shaped trails (real token mixes, exec args, XNU headers). */
function corpusRecords(): Buffer[] {
  if (!corpus) {
    corpus = [];
    for (const name of ['realistic.bsm', 'clean.bsm']) {
      const data = readFileSync(new URL(`../../../shared/conformance/generated/${name}`, import.meta.url));
      for (const rec of decodeAll(data).records) if (rec.kind === 'record' && rec.intact) corpus.push(rec.bytes);
    }
  }
  return corpus;
}

/** Runs case `seed`; throws (assert) when an invariant fails. Odd seeds damage corpus records, even ones random records. */
export function runFuzzCase(seed: number): void {
  const r = makeRng(seed);
  const n = r.int(2, 8);
  const recs: Buffer[] = [];
  const fromCorpus = seed % 2 === 1 ? corpusRecords() : undefined;
  for (let i = 0; i < n; i++) {
    if (fromCorpus) {
      recs.push(r.pick(fromCorpus));
      continue;
    }
    const rr = randomRecord(r, { maxTokens: 8, oddLast: 0 });
    recs.push(encodeRecord(rr.header, rr.body));
  }
  const kind = DAMAGE[seed % DAMAGE.length];
  const b = damage(r, recs, kind);
  const { records, diagnostics } = decodeAll(b.stream);
  if (process.env.FUZZ_DEBUG) console.log(b.stream.toString('hex'), records.map((x) => [x.offset, x.bytes.length, x.diagnostics.map((d) => d.message)]), diagnostics);
  const got = new Set(records.map((x) => `${x.offset}:${x.bytes.length}`));
  // Inherent ambiguity: when the damage removed the victim's last bytes and the next record starts with the same
  // bytes, the stream shows the original victim intact and the next record without its first bytes. Delivering the
  // victim then is right; the next record cannot be told from junk.
  const victimLooksIntact = records.some((x) => x.offset === b.victimOffset && x.bytes.equals(b.original));
  for (const [off, len] of b.expect) {
    if (victimLooksIntact && off > b.victimOffset && off < b.victimOffset + b.original.length) continue;
    if (!got.has(`${off}:${len}`)) {
      assert.fail(`seed ${seed} (${kind} of record ${b.victim} of ${n}): the undamaged record at ${off} (${len} bytes) was not delivered`);
    }
  }
  for (const x of records) {
    const clean = x.intact && x.diagnostics.length === 0;
    assert.equal(isCleanRecord(b.stream, x.offset, x.offset + x.bytes.length), clean, `seed ${seed}: fast check of record at ${x.offset}`);
    const e = b.expect.find(([o]) => o === x.offset);
    if (e) assert.deepEqual(x.bytes, b.stream.subarray(e[0], e[0] + e[1]), `seed ${seed}: bytes of record at ${x.offset}`);
  }
}
