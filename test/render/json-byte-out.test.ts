import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteOut } from '../../src/render/json/byte-out.js';
import { createJsonRenderer } from '../../src/render/json/index.js';
import type { BsmRecord, Token } from '../../src/format/types.js';

test('numbers: every digit count and boundary up to 2^53 matches String(n)', () => {
  const o = new ByteOut(16);
  const check = (n: number): void => {
    o.pos = 0;
    o.u(n);
    assert.equal(o.buf.toString('latin1', 0, o.pos), String(n));
  };
  for (let d = 0; d <= 15; d++) {
    const p = 10 ** d;
    for (const n of [p - 1, p, p + 1, 2 * p, 9 * p]) if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) check(n);
  }
  for (const n of [0xffffffff, 0x100000000, 0x7fffffff, 0x80000000, Number.MAX_SAFE_INTEGER]) check(n);
  let x = 1;
  for (let i = 0; i < 20000; i++) {
    x = (x * 48271) % 2147483647;
    check(x);
    check(x * 4194301 + (i % 7)); // beyond 32 bits
  }
});

test('key + number, IPv4 and hex writers', () => {
  const o = new ByteOut(4);
  o.kn(new Uint8Array(Buffer.from(',"k":')), 4294967295);
  o.ipv4(Buffer.from([255, 0, 10, 1]));
  o.hex(Buffer.from([0, 0xab, 0xff]));
  o.u64(2n ** 64n - 1n);
  o.u64(9007199254740991n);
  assert.equal(o.buf.toString('latin1', 0, o.pos), ',"k":4294967295"255.0.10.1""00abff""18446744073709551615""9007199254740991"');
});

test('push/take: output grows past the initial buffer, bytes equal the record() strings, take hands over ownership', () => {
  const big = Buffer.alloc(300_000, 0x41);
  const mk = (i: number): BsmRecord => {
    const h = { type: 'header32', id: 0x14, offset: 0, length: 18, size: 1, version: 11, event: i, modifier: 0, sec: i, msec: 0 } as const;
    const text = { type: 'text', id: 0x28, offset: 18, length: 3, text: i === 2 ? big : Buffer.from('t' + i + '\0') } as Token;
    return { kind: 'record', offset: i * 100, bytes: Buffer.alloc(1), header: h, tokens: [h, text], intact: true, diagnostics: [] };
  };
  const recs = [0, 1, 2, 3].map(mk);
  const a = createJsonRenderer();
  const expected = recs.map((r) => a.record(r)).join('');
  assert.equal(a.pending, 0, 'record() leaves nothing pending');
  const b = createJsonRenderer();
  for (const r of recs.slice(0, 2)) b.push(r);
  const first = b.take();
  assert.equal(b.pending, 0);
  for (const r of recs.slice(2)) b.push(r);
  const copyOfFirst = Buffer.from(first);
  const second = b.take();
  assert.deepEqual(first, copyOfFirst, 'later pushes do not overwrite taken bytes');
  assert.equal(Buffer.concat([first, second]).toString('utf8'), expected);
  const lines = expected.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(JSON.parse(lines[2]).tokens[0].text.length, 300_000);
});
