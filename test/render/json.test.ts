import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJsonRenderer, recordToJson, ipv6Text, ipv4Text } from '../../src/render/json/index.js';
import type { BsmRecord, Token, HeaderToken, Diagnostic } from '../../src/format/types.js';

const B = (...bytes: number[]): Buffer => Buffer.from(bytes);
const S = (s: string, nul = true): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), nul ? B(0) : B()]);
const V4 = B(127, 0, 0, 1);
const V6 = Buffer.from('fe800000000000000000000000000001', 'hex');

/** Fills the Base fields; the renderer takes offsets and lengths as given. */
let nextOff = 0;
function tok<T extends Omit<Token, 'offset' | 'length'>>(t: T, length = 5): T & { offset: number; length: number } {
  const r = { ...t, offset: nextOff, length };
  nextOff += length;
  return r;
}

function header(over: Partial<HeaderToken> = {}): HeaderToken {
  return { type: 'header32', id: 0x14, offset: 0, length: 18, size: 100, version: 11, event: 72, modifier: 0, sec: 1709861040, msec: 123, ...over } as HeaderToken;
}

function rec(tokens: Token[], over: Partial<BsmRecord> = {}): BsmRecord {
  const h = tokens[0]?.type.startsWith('header') ? (tokens[0] as HeaderToken) : undefined;
  return { kind: 'record', offset: 4096, bytes: Buffer.alloc(100), header: h, tokens, intact: true, diagnostics: [], ...over };
}

const trailer = (): Token => tok({ type: 'trailer', id: 0x13, magic: 0xb105, count: 100 }, 7);

/** Renders, checks the line is one JSON object without a newline, and returns it parsed. */
function render(r: BsmRecord, opts = {}): any {
  const line = recordToJson(r, opts);
  assert.equal(line.includes('\n'), false);
  return JSON.parse(line);
}

/** One body token of each type in the model, with recognisable values. */
function everyToken(): Token[] {
  const u64max = 2n ** 64n - 1n;
  return [
    tok({ type: 'file', id: 0x11, sec: 74565, msec: 424, name: S('trail.1') }),
    tok({ type: 'data', id: 0x21, howToPrint: 3, unit: 1, count: 2, items: B(0x01, 0x02, 0xff, 0xff) }),
    tok({ type: 'ipc', id: 0x22, ipcType: 2, ipcId: 0xffffffff }),
    tok({ type: 'path', id: 0x23, path: S('/etc/master.passwd') }),
    tok({ type: 'subject32', id: 0x24, auid: 0xffffffff, euid: 0, egid: 1, ruid: 2, rgid: 3, pid: 4, sid: 5, port: 6, addrType: 4, addr: V4 }),
    tok({ type: 'process32', id: 0x26, auid: 1, euid: 0, egid: 1, ruid: 2, rgid: 3, pid: 4, sid: 5, port: 6, addrType: 4, addr: V4 }),
    tok({ type: 'subject32_ex', id: 0x7a, auid: 1, euid: 0, egid: 1, ruid: 2, rgid: 3, pid: 4, sid: 5, port: 6, addrType: 16, addr: V6 }),
    tok({ type: 'process32_ex', id: 0x7b, auid: 1, euid: 0, egid: 1, ruid: 2, rgid: 3, pid: 4, sid: 5, port: 0xffffffff, addrType: 4, addr: V4 }),
    tok({ type: 'subject64', id: 0x75, auid: 1, euid: 0, egid: 1, ruid: 2, rgid: 3, pid: 4, sid: 5, port: u64max, addrType: 4, addr: V4 }),
    tok({ type: 'process64', id: 0x77, auid: 1, euid: 0, egid: 1, ruid: 2, rgid: 3, pid: 4, sid: 5, port: 0n, addrType: 4, addr: V4 }),
    tok({ type: 'subject64_ex', id: 0x7c, auid: 1, euid: 0, egid: 1, ruid: 2, rgid: 3, pid: 4, sid: 5, port: 2n ** 53n + 1n, addrType: 16, addr: V6 }),
    tok({ type: 'process64_ex', id: 0x7d, auid: 1, euid: 0, egid: 1, ruid: 2, rgid: 3, pid: 4, sid: 5, port: 7n, addrType: 16, addr: V6 }),
    tok({ type: 'return32', id: 0x27, status: 22, value: 0xffffffff }),
    tok({ type: 'return64', id: 0x72, status: 0, value: u64max }),
    tok({ type: 'text', id: 0x28, text: S('This is a test.') }),
    tok({ type: 'zonename', id: 0x60, zone: S('testzone') }),
    tok({ type: 'opaque', id: 0x29, data: B(0xaa, 0xbb, 0xcc, 0xdd) }),
    tok({ type: 'in_addr', id: 0x2a, addr: B(192, 168, 100, 155) }),
    tok({ type: 'in_addr_ex', id: 0x7e, addrType: 16, addr: V6 }),
    tok({
      type: 'ip', id: 0x2b, versionIhl: 0x45, tos: 0, totalLength: 20, ipId: 0x5478, fragOffset: 0, ttl: 64, protocol: 1,
      checksum: 0, src: B(192, 168, 100, 155), dst: B(192, 168, 110, 48),
    }),
    tok({ type: 'iport', id: 0x2c, port: 0x5000 }),
    tok({ type: 'arg32', id: 0x2d, argNo: 3, value: 0xabcdef00, text: S('test_arg32_token') }),
    tok({ type: 'arg64', id: 0x71, argNo: 1, value: u64max, text: S('len') }),
    tok({ type: 'socket', id: 0x2e, sockType: 2, localPort: 80, localAddr: V4, remotePort: 1024, remoteAddr: B(10, 0, 0, 1) }),
    tok({ type: 'seq', id: 0x2f, seq: 0x12345678 }),
    tok({ type: 'ipc_perm', id: 0x32, uid: 1, gid: 2, cuid: 3, cgid: 4, mode: 0o644, seq: 6, key: 0xffffffff }),
    tok({ type: 'privset', id: 0x38, privType: S('effective'), privSet: S('file_dac_read') }),
    tok({ type: 'upriv', id: 0x39, success: 1, priv: S('proc_owner') }),
    tok({ type: 'newgroups', id: 0x3b, groups: [0, 20, 0xffffffff] }),
    tok({ type: 'exec_args', id: 0x3c, declaredCount: 3, strings: [S('ls'), S('-l')], truncated: true }),
    tok({ type: 'exec_env', id: 0x3d, declaredCount: 1, strings: [S('HOME=/root')], truncated: false }),
    tok({ type: 'path_attr', id: 0x25, declaredCount: 1, strings: [S('attr')], truncated: false }),
    tok({ type: 'krb5_principal', id: 0xee, declaredCount: 1, strings: [S('user@EXAMPLE.ORG')], truncated: false }),
    tok({ type: 'cert_hash', id: 0xef, declaredCount: 0, strings: [], truncated: false }),
    tok({ type: 'attr32', id: 0x3e, mode: 0o100644, uid: 0, gid: 0, fsid: 1, nodeid: u64max, dev: 0xffffffff }),
    tok({ type: 'attr64', id: 0x73, mode: 0o40755, uid: 0, gid: 0, fsid: 1, nodeid: 12n, dev: u64max }),
    tok({ type: 'exit', id: 0x52, status: 256, value: 0 }),
    tok({ type: 'socket_ex', id: 0x7f, domain: 26, sockType: 2, addrType: 16, localPort: 443, localAddr: V6, remotePort: 5000, remoteAddr: V6 }),
    tok({ type: 'sockinet32', id: 0x80, family: 2, port: 443, addr: B(93, 184, 216, 34) }),
    tok({ type: 'sockinet128', id: 0x81, family: 26, port: 0xbb01, addr: V6 }),
    tok({ type: 'sockunix', id: 0x82, family: 1, path: S('/var/run/syslog') }),
    tok({ type: 'rights', id: 0x83, rights: [u64max, 1n] }),
    tok({ type: 'arg_uuid', id: 0x84, num: 1, uuid: Buffer.from('00112233445566778899aabbccddeeff', 'hex'), text: S('uuid') }),
    tok({ type: 'ret_uuid', id: 0x85, num: 0, uuid: Buffer.alloc(16), text: S('') }),
    tok({
      type: 'identity', id: 0xed, signerType: 1, signingId: S('com.apple.airportd'), signingIdTruncated: 0, teamId: S(''),
      teamIdTruncated: 1, cdhash: Buffer.from('9003b5ecb83f531df993b3a68d34cde808b38381', 'hex'),
    }),
    tok({ type: 'unknown', id: 0x99, data: B(1, 2, 3) }),
  ] as Token[];
}

test('every token type of the model renders with all its fields', () => {
  const body = everyToken();
  const h = header();
  const r = rec([h, ...body, trailer()]);
  const j = render(r);
  assert.equal(j.offset, 4096);
  assert.equal(j.length, 100);
  assert.equal(j.kind, 'record');
  assert.equal(j.intact, true);
  assert.deepEqual(j.diagnostics, []);
  assert.equal(j.tokens.length, body.length + 1, 'header is in j.header, every other token in j.tokens');
  const types = new Set(j.tokens.map((t: any) => t.type));
  for (const t of body) assert.ok(types.has(t.type), t.type);

  // Every model field appears under its model name with its value (Buffers and bigints converted).
  const by = (type: string): any => j.tokens.find((t: any) => t.type === type);
  for (const t of body) {
    const out = j.tokens[body.indexOf(t)];
    assert.equal(out.type, t.type);
    for (const [k, v] of Object.entries(t)) {
      if (k === 'offset' || k === 'length' || k === 'type') continue;
      if (k === 'id') {
        if (t.type === 'unknown') assert.equal(out.id, v);
        continue;
      }
      if (t.type === 'sockinet128' && k === 'port') continue; // checked below (raw is portRecorded)
      if (t.type === 'data' && k === 'items') continue; // hex, checked below
      if (t.type === 'return32' || t.type === 'return64') if (k === 'status') { assert.equal(out.status, v); continue; }
      assert.ok(k in out, `${t.type}.${k} missing`);
      if (typeof v === 'bigint') assert.equal(out[k], v.toString(), `${t.type}.${k}`);
      else if (typeof v === 'number' || typeof v === 'boolean') assert.equal(out[k], v, `${t.type}.${k}`);
    }
  }
  assert.deepEqual(by('newgroups').groups, [0, 20, 4294967295]);
  assert.deepEqual(by('rights').rights, ['18446744073709551615', '1']);
  assert.equal(by('path').path, '/etc/master.passwd');
  assert.equal(by('file').name, 'trail.1');
  assert.equal(by('file').time, '1970-01-01T20:42:45.424Z');
  assert.equal(by('subject32').addr, '127.0.0.1');
  assert.equal(by('subject32_ex').addr, 'fe80::1');
  assert.equal(by('in_addr').addr, '192.168.100.155');
  assert.equal(by('in_addr_ex').addr, 'fe80::1');
  assert.equal(by('ip').src, '192.168.100.155');
  assert.equal(by('ip').dst, '192.168.110.48');
  assert.equal(by('socket').localAddr, '127.0.0.1');
  assert.equal(by('socket').remoteAddr, '10.0.0.1');
  assert.equal(by('socket_ex').localAddr, 'fe80::1');
  assert.equal(by('socket_ex').domainName, 'INET6');
  assert.equal(by('socket_ex').sockTypeName, 'STREAM');
  assert.equal(by('sockinet32').addr, '93.184.216.34');
  assert.equal(by('sockunix').path, '/var/run/syslog');
  assert.equal(by('opaque').data, 'aabbccdd');
  assert.equal(by('unknown').data, '010203');
  assert.equal(by('ipc').ipcTypeName, 'sem');
  assert.equal(by('return32').errno, 'EINVAL');
  assert.equal(by('return32').errnoText, 'Invalid argument');
  assert.equal(by('return64').errno, 'ESUCCESS');
  assert.deepEqual(by('exec_args').strings, ['ls', '-l']);
  assert.equal(by('exec_args').truncated, true);
  assert.equal(by('exec_args').declaredCount, 3);
  assert.deepEqual(by('cert_hash').strings, []);
  assert.equal(by('text').text, 'This is a test.');
  assert.equal(by('zonename').zone, 'testzone');
  assert.equal(by('privset').privType, 'effective');
  assert.equal(by('privset').privSet, 'file_dac_read');
  assert.equal(by('upriv').priv, 'proc_owner');
  assert.equal(by('arg_uuid').uuid, '00112233-4455-6677-8899-aabbccddeeff');
  assert.equal(by('ret_uuid').text, '');
  assert.equal(by('identity').signingId, 'com.apple.airportd');
  assert.equal(by('identity').teamId, '');
  assert.equal(by('identity').cdhash, '9003b5ecb83f531df993b3a68d34cde808b38381');
  assert.equal(by('trailer').magic, 0xb105);
});

test('header fields, time and event names', () => {
  const events = { describe: (n: number) => (n === 72 ? { name: 'AUE_OPEN_R', description: 'open(2) - read' } : undefined) };
  const j = render(rec([header(), trailer()]), { events });
  assert.deepEqual(j.header, {
    type: 'header32', size: 100, version: 11, event: 72, eventName: 'AUE_OPEN_R', eventDesc: 'open(2) - read', modifier: 0,
    time: '2024-03-08T01:24:00.123Z', sec: 1709861040, msec: 123,
  });
  const unknown = render(rec([header({ event: 65535 }), trailer()]), { events });
  assert.equal(unknown.header.event, 65535);
  assert.equal('eventName' in unknown.header, false);
  assert.equal('eventName' in render(rec([header(), trailer()])).header, false, 'no table: number only');

  const ex = render(rec([header({ type: 'header32_ex', id: 0x15, addrType: 16, addr: V6 } as Partial<HeaderToken>), trailer()]));
  assert.equal(ex.header.addrType, 16);
  assert.equal(ex.header.addr, 'fe80::1');
  const ex64 = render(rec([
    header({ type: 'header64_ex', id: 0x79, addrType: 4, addr: V4, sec: 0n, msec: 5n } as unknown as Partial<HeaderToken>),
    trailer(),
  ]));
  assert.equal(ex64.header.addr, '127.0.0.1');
  assert.equal(ex64.header.time, '1970-01-01T00:00:00.005Z');
  assert.equal(ex64.header.sec, '0');
});

test('time: msec carries past 999, the 32-bit limit, 64-bit values beyond Date, cache across records', () => {
  const t = (sec: number, msec: number): unknown => render(rec([header({ sec, msec }), trailer()])).header.time;
  assert.equal(t(0, 0), '1970-01-01T00:00:00.000Z');
  assert.equal(t(0xffffffff, 999), '2106-02-07T06:28:15.999Z');
  assert.equal(t(10, 1500), '1970-01-01T00:00:11.500Z');
  assert.equal(t(0, 0xffffffff), '1970-02-19T17:02:47.295Z');
  // Same second, different msec, then a different second: the cached prefix must follow.
  const r = createJsonRenderer();
  const times = [[100, 1], [100, 999], [101, 0], [100, 7]].map(([sec, msec]) => JSON.parse(r.record(rec([header({ sec, msec }), trailer()]))).header.time);
  assert.deepEqual(times, ['1970-01-01T00:01:40.001Z', '1970-01-01T00:01:40.999Z', '1970-01-01T00:01:41.000Z', '1970-01-01T00:01:40.007Z']);
  const big = render(rec([header({ type: 'header64', id: 0x74, sec: 2n ** 64n - 1n, msec: 2n ** 64n - 1n } as unknown as Partial<HeaderToken>), trailer()]));
  assert.equal(big.header.time, null);
  assert.equal(big.header.sec, '18446744073709551615');
  assert.equal(big.header.msec, '18446744073709551615');
});

test('64-bit values are exact decimal strings; 32-bit extremes are exact numbers', () => {
  const vals = [0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
  for (const v of vals) {
    const line = recordToJson(rec([header(), tok({ type: 'arg64', id: 0x71, argNo: 1, value: v, text: S('x') }) as Token, trailer()]));
    const j = JSON.parse(line);
    assert.equal(typeof j.tokens[0].value, 'string');
    assert.equal(BigInt(j.tokens[0].value), v);
    assert.ok(line.includes('"value":"' + v.toString() + '"'));
  }
  for (const v of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
    const j = render(rec([header({ size: v, sec: v, msec: 0 }), tok({ type: 'return32', id: 0x27, status: 255, value: v }) as Token, trailer()]));
    assert.equal(j.tokens[0].value, v);
    assert.equal(j.header.size, v);
    assert.equal(j.header.sec, v);
    assert.equal(j.tokens[0].status, 255);
  }
});

test('strings: trailing NUL dropped, escapes, UTF-8, invalid UTF-8 with exact _hex', () => {
  const cases: Array<[Buffer, string, string | undefined]> = [
    [S('plain'), 'plain', undefined],
    [S('plain', false), 'plain', undefined],
    [B(0), '', undefined],
    [B(), '', undefined],
    [S('a,b "q" \\ <&>|'), 'a,b "q" \\ <&>|', undefined],
    [S('line\nnext\ttab\x01\x7f'), 'line\nnext\ttab\x01\x7f', undefined],
    [S('inner\0nul'), 'inner\0nul', undefined],
    [S('café ✓ 😀'), 'café ✓ 😀', undefined],
    [B(0x2f, 0xff, 0xfe, 0x41, 0), '/\ufffd\ufffdA', '2ffffe4100'],
    [B(0xc3), '\ufffd', 'c3'],
    [B(0xed, 0xa0, 0x80, 0), '\ufffd\ufffd\ufffd', 'eda08000'], // an encoded surrogate is not valid UTF-8
  ];
  for (const [bytes, text, hexv] of cases) {
    const j = render(rec([header(), tok({ type: 'path', id: 0x23, path: bytes }) as Token, trailer()]));
    assert.equal(j.tokens[0].path, text, bytes.toString('hex'));
    assert.equal(j.tokens[0].path_hex, hexv, bytes.toString('hex'));
  }
  const list = render(rec([
    header(),
    tok({ type: 'exec_args', id: 0x3c, declaredCount: 3, strings: [S('ok'), B(0x80, 0), S('é')], truncated: false }) as Token,
    trailer(),
  ]));
  assert.deepEqual(list.tokens[0].strings, ['ok', '\ufffd', 'é']);
  assert.deepEqual(list.tokens[0].strings_hex, [null, '8000', null]);
  const good = render(rec([header(), tok({ type: 'exec_args', id: 0x3c, declaredCount: 1, strings: [S('ok')], truncated: false }) as Token, trailer()]));
  assert.equal('strings_hex' in good.tokens[0], false);
});

test('data tokens: hex items, values per unit in little- or big-endian, string text', () => {
  const data = (unit: number, items: Buffer, how = 2): Token =>
    tok({ type: 'data', id: 0x21, howToPrint: how, unit, count: items.length / [1, 2, 4, 8][unit], items }) as Token;
  const items8 = Buffer.from('0102030405060708ffffffffffffffff', 'hex');
  const r = rec([header(), data(0, items8), data(1, items8), data(2, items8), data(3, items8), trailer()]);
  const le = render(r);
  const be = render(r, { dataByteOrder: 'be' });
  assert.deepEqual(le.tokens[0].values, [...items8]);
  assert.deepEqual(le.tokens[1].values, [0x0201, 0x0403, 0x0605, 0x0807, 0xffff, 0xffff, 0xffff, 0xffff]);
  assert.deepEqual(be.tokens[1].values, [0x0102, 0x0304, 0x0506, 0x0708, 0xffff, 0xffff, 0xffff, 0xffff]);
  assert.deepEqual(le.tokens[2].values, [0x04030201, 0x08070605, 0xffffffff, 0xffffffff]);
  assert.deepEqual(be.tokens[2].values, [0x01020304, 0x05060708, 0xffffffff, 0xffffffff]);
  assert.deepEqual(le.tokens[3].values, ['578437695752307201', '18446744073709551615']);
  assert.deepEqual(be.tokens[3].values, ['72623859790382856', '18446744073709551615']);
  for (const t of le.tokens.slice(0, 4)) {
    assert.equal(t.items, items8.toString('hex'));
    assert.equal(t.format, 'decimal');
  }
  assert.deepEqual(le.tokens.slice(0, 4).map((t: any) => t.unitName), ['byte', 'short', 'int32', 'int64']);
  // OpenBSM's reference data token: "SomeData" with count 10, one byte past the string.
  const some = render(rec([header(), data(0, Buffer.from('536f6d65446174610061', 'hex'), 4), trailer()])).tokens[0];
  assert.equal(some.format, 'string');
  assert.equal(some.text, 'SomeData\u0000a');
  assert.equal(some.count, 10);
  const odd = render(rec([header(), tok({ type: 'data', id: 0x21, howToPrint: 9, unit: 0, count: 0, items: B() }) as Token, trailer()])).tokens[0];
  assert.equal(odd.howToPrint, 9);
  assert.equal('format' in odd, false);
  assert.deepEqual(odd.values, []);
});

test('socket-inet6 port: raw value kept, swap16 applied only for XNU records', () => {
  const inet6 = (): Token => tok({ type: 'sockinet128', id: 0x81, family: 26, port: 0xbb01, addr: V6 }) as Token;
  const ident = (): Token =>
    tok({ type: 'identity', id: 0xed, signerType: 1, signingId: S('x'), signingIdTruncated: 0, teamId: S(''), teamIdTruncated: 0, cdhash: B(1) }) as Token;
  const plain = rec([header(), inet6(), trailer()]);
  const withId = rec([header(), inet6(), ident(), trailer()]);
  const p = (j: any) => j.tokens[0];
  assert.deepEqual(
    [p(render(plain)).port, p(render(plain)).portRecorded, p(render(plain)).portSwapped],
    [0xbb01, 0xbb01, false],
  );
  assert.deepEqual([p(render(withId)).port, p(render(withId)).portSwapped], [443, true]);
  assert.deepEqual([p(render(plain, { xnu: true })).port, p(render(plain, { xnu: true })).portRecorded], [443, 0xbb01]);
  assert.equal(p(render(withId, { xnu: false })).port, 0xbb01);
  // A stream renderer remembers the identity token; recordToJson looks at one record only.
  const r = createJsonRenderer();
  const lines = [plain, withId, plain].map((x) => p(JSON.parse(r.record(x))).port);
  assert.deepEqual(lines, [0xbb01, 443, 443]);
  assert.equal(p(render(plain)).port, 0xbb01);
});

test('diagnostics, standalone file tokens, positions and raw bytes', () => {
  const d: Diagnostic = {
    code: 'BSM_E_BAD_TRAILER', offset: 4190, message: 'trailer count 99 ≠ header size 100 "x"', recordOffset: 4096, tokenId: 0x13, severity: 'error',
  };
  const j = render(rec([header(), trailer()], { intact: false, diagnostics: [d, { code: 'BSM_E_JUNK', offset: 1, skipped: 3, message: 'm', severity: 'warning' }] }));
  assert.equal(j.intact, false);
  assert.deepEqual(j.diagnostics, [
    { code: 'BSM_E_BAD_TRAILER', severity: 'error', offset: 4190, recordOffset: 4096, tokenId: 19, message: d.message },
    { code: 'BSM_E_JUNK', severity: 'warning', offset: 1, skipped: 3, message: 'm' },
  ]);

  const file = tok({ type: 'file', id: 0x11, sec: 1, msec: 2, name: S('x') }, 13) as Token;
  const f = render({ kind: 'file-token', offset: 0, bytes: Buffer.alloc(13), tokens: [file], intact: true, diagnostics: [] });
  assert.equal(f.kind, 'file-token');
  assert.equal('header' in f, false);
  assert.equal(f.tokens[0].time, '1970-01-01T00:00:01.002Z');

  const bytes = Buffer.from('14000000190b00000000000000000000000013b10500000019', 'hex');
  const h = header({ offset: 0, length: 18 });
  const t = { type: 'trailer', id: 0x13, offset: 18, length: 7, magic: 0xb105, count: 25 } as Token;
  const pos = render({ kind: 'record', offset: 0, bytes, header: h, tokens: [h, t], intact: true, diagnostics: [] }, { tokenPositions: true, raw: true });
  assert.equal(pos.header.offset, 0);
  assert.equal(pos.header.length, 18);
  assert.equal(pos.tokens[0].offset, 18);
  assert.equal(pos.tokens[0].length, 7);
  assert.equal(pos.raw, bytes.toString('hex'));
  const nopos = render({ kind: 'record', offset: 0, bytes, header: h, tokens: [h, t], intact: true, diagnostics: [] });
  assert.equal('offset' in nopos.tokens[0], false);
  assert.equal('raw' in nopos, false);
});

test('createJsonRenderer lines end with one newline and equal recordToJson', () => {
  const r = createJsonRenderer();
  const x = rec([header(), ...everyToken(), trailer()]);
  const line = r.record(x);
  assert.equal(line.endsWith('}\n'), true);
  assert.equal(line.indexOf('\n'), line.length - 1);
  assert.equal(line, recordToJson(x, { xnu: true }) + '\n', 'the record has an identity token, so auto = XNU');
});

test('IPv6 text matches WHATWG URL serialisation for random addresses, and inet_ntop for embedded IPv4', () => {
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xffff;
  for (let n = 0; n < 3000; n++) {
    const w = Array.from({ length: 8 }, () => (rnd() % 3 === 0 ? rnd() : 0));
    if (w.slice(0, 5).every((x) => x === 0) && (w[5] === 0 || w[5] === 0xffff) && !(w[5] === 0 && w[6] === 0)) continue; // dotted forms
    const b = Buffer.alloc(16);
    w.forEach((x, i) => b.writeUInt16BE(x, 2 * i));
    const expect = new URL('http://[' + w.map((x) => x.toString(16)).join(':') + ']').hostname.slice(1, -1);
    assert.equal(ipv6Text(b), expect, w.join(':'));
  }
  const h = (s: string): Buffer => Buffer.from(s, 'hex');
  assert.equal(ipv6Text(h('00000000000000000000000000000000')), '::');
  assert.equal(ipv6Text(h('00000000000000000000000000000001')), '::1');
  assert.equal(ipv6Text(h('00000000000000000000ffff01020304')), '::ffff:1.2.3.4');
  assert.equal(ipv6Text(h('0000000000000000000000000a000001')), '::10.0.0.1');
  assert.equal(ipv6Text(h('20010db8000000000001000000000001')), '2001:db8::1:0:0:1');
  assert.equal(ipv6Text(h('20010db8000100010001000100010001')), '2001:db8:1:1:1:1:1:1');
  assert.equal(ipv6Text(h('20010db8000000010001000100010001')), '2001:db8:0:1:1:1:1:1');
  assert.equal(ipv4Text(B(255, 0, 10, 1)), '255.0.10.1');
});

test('tokenPositions adds offset and length to every token and changes nothing else', () => {
  const body = everyToken();
  const r = rec([header(), ...body, trailer()]);
  const plain = render(r);
  const withPos = render(r, { tokenPositions: true });
  assert.equal(withPos.tokens.length, plain.tokens.length);
  withPos.tokens.forEach((t: any, i: number) => {
    const model = r.tokens[i + 1];
    assert.equal(t.offset, model.offset, model.type);
    assert.equal(t.length, model.length, model.type);
    const { offset: _o, length: _l, ...rest } = t;
    assert.deepEqual(rest, plain.tokens[i], model.type);
    assert.deepEqual(Object.keys(t).slice(0, 3), ['type', 'offset', 'length'], model.type);
  });
  const { offset: _o, length: _l, ...h } = withPos.header;
  assert.deepEqual(h, plain.header);
});
