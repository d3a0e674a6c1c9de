/**
 * The in-place matcher against the decoder: skipToken must end every token where format's tokenEnd does (the
 * corpus, plus exec args tokens with their counts and strings damaged at random), and matchBytes must agree with
 * matchRecord on every record of the corpus for a spread of selections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAll } from '../../src/format/read-file.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import { tokenEnd } from '../../src/format/token-index.js';
import { encodeRecord, execArgs, execEnv } from '../../src/format/encode/index.js';
import { compileSelection, MATCH, NO_MATCH, skipToken, UNSURE } from '../../src/select/compile.js';
import { parseReduceArgs } from '../../src/select/parse-args.js';
import { ctx } from './trail.js';

const gen = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'conformance', 'generated');
const files = [
  ...['clean.bsm', 'realistic.bsm', 'quirks.bsm'].map((f) => join(gen, f)),
  ...readdirSync(join(gen, 'malformed')).map((f) => join(gen, 'malformed', f)),
];

/** A seeded PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

test('skipToken ends every corpus token where tokenEnd does', () => {
  let n = 0;
  for (const f of files) {
    for (const r of decodeAll(readFileSync(f)).records) {
      const b = r.bytes;
      const limit = b.length - 7;
      for (const t of r.tokens) {
        if (t.offset >= limit) continue;
        assert.equal(skipToken(b, t.offset, limit), tokenEnd(b, t.offset, limit), `${f} @${r.offset + t.offset}`);
        n++;
      }
    }
  }
  assert.ok(n > 5000, `${n} tokens`);
});

test('skipToken == tokenEnd on exec args/env tokens with damaged counts, strings and limits', () => {
  const rand = rng(42);
  for (let i = 0; i < 3000; i++) {
    const argv = Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, k) => 'a'.repeat(Math.floor(rand() * 12)) + k);
    const tok = rand() < 0.5 ? execArgs(argv) : execEnv(argv);
    const rec = Buffer.from(encodeRecord({ type: 'header32', event: 23, sec: 1, msec: 0 }, [tok, { type: 'return32', status: 0, value: 0 }]));
    const p = 18;
    const what = rand();
    if (what < 0.3) rec.writeUInt32BE(Math.floor(rand() * 20), p + 1); // count off
    else if (what < 0.5) rec[p + 5 + Math.floor(rand() * 10)] = rand() < 0.5 ? 0 : 0x41; // a string byte
    const limit = rec.length - 7 - (rand() < 0.2 ? Math.floor(rand() * 12) : 0);
    if (p >= limit) continue;
    assert.equal(skipToken(rec, p, limit), tokenEnd(rec, p, limit), `case ${i}`);
  }
});

test('matchBytes agrees with matchRecord on every intact corpus record', () => {
  const selections = [
    ['-m', 'AUE_EXECVE'], ['-c', 'ex'], ['-c', '-fr'], ['-u', '501'], ['-e', '0', '-c', 'fr'], ['-o', 'file=^/etc/'],
    ['-o', 'sock=:443'], ['-j', '998'], ['-o', 'pid=8445'], ['-A'], ['-z', '*'], ['-o', 'msgqid=131274'],
  ];
  let n = 0;
  for (const argv of selections) {
    for (const mode of [[], ['--compat=openbsm']]) {
      const sel = compileSelection(parseReduceArgs([...mode, ...argv], ctx).select);
      for (const f of files.slice(0, 2)) {
        sel.resetStream();
        for (const r of decodeAll(readFileSync(f)).records) {
          if (r.kind !== 'record' || !r.intact) continue;
          const fast = sel.matchBytes(r.bytes, 0, r.bytes.length, true);
          if (fast === UNSURE) continue;
          const slow = sel.matchRecord(decodeRecord(r.bytes, r.offset));
          assert.equal(fast === MATCH ? MATCH : NO_MATCH, slow, `${argv.join(' ')} ${mode.join('')} ${f} @${r.offset}`);
          n++;
        }
      }
    }
  }
  assert.ok(n > 10000, `${n} verdicts`);
});
