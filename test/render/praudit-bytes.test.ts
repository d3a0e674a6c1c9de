/**
 * The byte renderer (print's fast path) against the string renderer, record by record over the conformance
 * corpus and every combination of text options, including the ones no reference output covers (names resolved,
 * -s with -l, -r with -d). Where the byte renderer accepts a record its bytes must equal the string renderer's;
 * it must refuse every record that has a diagnostic (those need the slow path to report them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Framer } from '../../src/format/framer.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import { createPrauditRenderer, type PrauditOptions } from '../../src/render/praudit/renderer.js';
import { createPrauditByteRenderer } from '../../src/render/praudit/byte-renderer.js';
import { userNamesFrom } from '../../src/render/users.js';
import { hostOrBuiltinEventTable } from '../../src/catalog/event-table.js';

const CONF = new URL('../../../shared/conformance/', import.meta.url).pathname;

function corpusFiles(): string[] {
  const out = ['generated/clean.bsm', 'generated/realistic.bsm', 'generated/quirks.bsm'].map((f) => CONF + f);
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (!f.endsWith('.md')) out.push(p);
    }
  };
  walk(CONF + 'real');
  walk(CONF + 'generated/malformed');
  return out;
}

function frames(file: string): { bytes: Buffer; offset: number }[] {
  const out: { bytes: Buffer; offset: number }[] = [];
  const f = new Framer({ record: (bytes, offset) => out.push({ bytes, offset }), diagnostic: () => {} });
  f.push(readFileSync(file));
  f.end();
  return out;
}

// Names for ids that occur in realistic.bsm (root, alice, bob, carol, www, wheel, staff) plus a very long one.
const users = userNamesFrom(
  'root:x:0:0::/:/bin/sh\nalice:x:501:20::/:/bin/sh\nbob:x:502:20::/:/bin/sh\ncarol:x:1001:20::/:/bin/sh\nwww:x:70:70::/:/bin/sh\n' +
    `${'l'.repeat(300)}:x:100:1::/:/bin/sh\n`,
  'wheel:x:0:\nstaff:x:20:\nwww:x:70:\n',
);
const events = hostOrBuiltinEventTable('openbsm');

const combos: Omit<PrauditOptions, 'events'>[] = [];
for (const raw of [false, true]) {
  for (const short of raw ? [false] : [false, true]) {
    for (const noResolve of [false, true]) {
      for (const oneLine of [false, true]) {
        for (const delimiter of [undefined, '|']) {
          combos.push({ raw, short, noResolve, oneLine, delimiter, users, platform: 'linux', timeZone: 'America/New_York' });
        }
      }
    }
  }
}

const records = corpusFiles().flatMap((f) => frames(f).map((r) => ({
  ...r,
  file: f,
  rec: decodeRecord(r.bytes, r.offset),
  // the record inside a larger buffer, not at offset 0: the renderer must only read [start, end)
  padded: Buffer.concat([Buffer.from([0x14, 0, 0]), r.bytes, Buffer.from([0x13])]),
})));

test('byte renderer output equals the string renderer for every record it accepts, in every text mode', () => {
  let accepted = 0;
  for (const c of combos) {
    const slow = createPrauditRenderer({ ...c, events });
    const fast = createPrauditByteRenderer({ ...c, events });
    assert.ok(fast, JSON.stringify(c));
    for (const r of records) {
      const rec = r.rec;
      if (!fast.record(r.padded, 3, 3 + r.bytes.length)) continue;
      accepted++;
      const got = Buffer.concat(fast.take());
      const want = Buffer.from(slow.record(rec), 'latin1');
      if (!got.equals(want)) {
        assert.fail(`${r.file} @${r.offset} ${JSON.stringify({ ...c, users: undefined })}:\n  want ${JSON.stringify(want.toString('latin1'))}\n  got  ${JSON.stringify(got.toString('latin1'))}`);
      }
      assert.equal(rec.diagnostics.length, 0, `${r.file} @${r.offset}: accepted a record with diagnostics`);
    }
  }
  assert.ok(accepted > combos.length * 1500, `${accepted} records compared`);
});

test('byte renderer refuses, without writing, every record with a diagnostic', () => {
  const fast = createPrauditByteRenderer({ noResolve: true, events, platform: 'linux', timeZone: 'UTC' });
  assert.ok(fast);
  let damaged = 0;
  for (const r of records) {
    if (r.rec.diagnostics.length === 0) continue;
    damaged++;
    assert.equal(fast.record(r.bytes, 0, r.bytes.length), false, `${r.file} @${r.offset}`);
    assert.equal(fast.size, 0, 'nothing written');
  }
  assert.ok(damaged >= 20, `${damaged} damaged records`);
});

test('byte renderer: output larger than one buffer, and text added between records, stays in order', () => {
  const realistic = frames(CONF + 'generated/realistic.bsm');
  const c = { noResolve: true, events, platform: 'linux' as const, timeZone: 'UTC' };
  const slow = createPrauditRenderer(c);
  const fast = createPrauditByteRenderer(c);
  assert.ok(fast);
  let want = '';
  const parts: Buffer[] = [];
  for (let round = 0; round < 20; round++) {
    for (const r of realistic) {
      assert.ok(fast.record(r.bytes, 0, r.bytes.length));
      want += slow.record(decodeRecord(r.bytes, r.offset));
    }
    fast.add(`-- round ${round} --\n`);
    want += `-- round ${round} --\n`;
    if (round % 7 === 0) parts.push(...fast.take());
  }
  parts.push(...fast.take());
  const got = Buffer.concat(parts);
  assert.ok(got.length > 2 << 20, 'more than one 1 MiB buffer');
  assert.ok(got.equals(Buffer.from(want, 'latin1')));
});

test('byte renderer does not cover -x or multi-byte delimiters (the string renderer does)', () => {
  assert.equal(createPrauditByteRenderer({ xml: true, events }), undefined);
  assert.equal(createPrauditByteRenderer({ delimiter: '::', events }), undefined);
});
