/**
 * Seeded random BSM tokens and records for round-trip and fuzz tests.
 *
 * Every record `randomRecord` returns is well formed: encoded with `encodeRecord` it decodes back to the same
 * tokens. Values lean towards edges (0, 1, the sign boundary, the maximum, 64-bit extremes, empty and zero-length
 * strings, bytes that are not UTF-8, IPv4 and IPv6 addresses, exec args with hundreds of strings). Two layouts are
 * only unambiguous in a known position and are generated only there, as the last body token:
 * - an unknown token id (its extent is "everything up to the trailer");
 * - a string list whose declared count exceeds the strings present (XNU truncation, bsm-format.md §5.4); its strings
 *   start with a byte that cannot start a token, so exactly one string count lets the rest of the record decode.
 */
import type { HeaderInput, TokenInput } from '../format/encode/index.js';
import { TokenId } from '../format/token-ids.js';
import type { StringListToken, TokenType } from '../format/types.js';

/** A small seeded generator (sfc32; seeds mixed with splitmix32), enough for tests, not for secrets. */
export interface Rng {
  /** A uniform unsigned 32-bit integer. */
  u32(): number;
  /** An integer in [0, n). */
  below(n: number): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
  bytes(n: number): Buffer;
  /** A uniform unsigned 64-bit integer. */
  u64(): bigint;
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export function makeRng(seed: number): Rng {
  let a = splitmix32(seed);
  let b = splitmix32(a);
  let c = splitmix32(b);
  let d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  const rng: Rng = {
    u32: next,
    below: (n) => Math.floor((next() / 0x100000000) * n),
    int: (lo, hi) => lo + rng.below(hi - lo + 1),
    chance: (p) => next() / 0x100000000 < p,
    pick: (xs) => xs[rng.below(xs.length)],
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
    u64: () => (BigInt(next()) << 32n) | BigInt(next()),
  };
  return rng;
}

// ---- edge-leaning values -------------------------------------------------------------------------------------

const U8_EDGES = [0, 1, 0x7f, 0x80, 0xff];
const U16_EDGES = [0, 1, 0x7fff, 0x8000, 0xffff];
const U32_EDGES = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff];
const U64_EDGES = [0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn];

const u8 = (r: Rng): number => (r.chance(0.3) ? r.pick(U8_EDGES) : r.below(0x100));
const u16 = (r: Rng): number => (r.chance(0.3) ? r.pick(U16_EDGES) : r.below(0x10000));
const u32 = (r: Rng): number => (r.chance(0.3) ? r.pick(U32_EDGES) : r.u32());
const u64 = (r: Rng): bigint => (r.chance(0.3) ? r.pick(U64_EDGES) : r.chance(0.5) ? BigInt(r.u32()) : r.u64());

const WORDS = ['/bin/ls', '-l', '/usr/bin/grep', 'HOME=/root', 'a,b', 'quote"d', '<tag>&', 'tab\there', 'new\nline', 'ünïcødé', '日本語', 'x'];

/** Bytes with no NUL: ASCII words, UTF-8, control characters or arbitrary non-UTF-8 bytes. */
function textBytes(r: Rng, max: number): Buffer {
  const n = r.chance(0.1) ? 0 : r.int(1, max);
  switch (r.below(3)) {
    case 0: {
      let s = '';
      while (Buffer.byteLength(s) < n) s += r.pick(WORDS);
      return Buffer.from(s);
    }
    case 1: {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = r.int(0x20, 0x7e);
      return b;
    }
    default: {
      const b = r.bytes(n);
      for (let i = 0; i < n; i++) if (b[i] === 0) b[i] = 0xff;
      return b;
    }
  }
}

function withNul(b: Buffer): Buffer {
  const out = Buffer.alloc(b.length + 1);
  b.copy(out);
  return out;
}

/** A str16 value as producers record it: usually text + NUL, sometimes zero-length, unterminated or with NULs inside. */
function str16Value(r: Rng, max = 80): Buffer {
  const k = r.below(20);
  if (k === 0) return Buffer.alloc(0);
  if (k === 1) return Buffer.alloc(1);
  if (k === 2) return textBytes(r, max); // recorded without its NUL
  if (k === 3) return r.bytes(r.int(1, max)); // raw bytes, NULs anywhere
  if (k === 4 && r.chance(0.2)) return withNul(textBytes(r, 4000));
  return withNul(textBytes(r, max));
}

/** A NUL-terminated string (exactly one NUL, at the end). */
function nulstrValue(r: Rng, max = 40): Buffer {
  return withNul(textBytes(r, max));
}

function addr(r: Rng, type: 4 | 16): Buffer {
  const k = r.below(6);
  if (k === 0) return Buffer.alloc(type);
  if (k === 1) return Buffer.alloc(type, 0xff);
  if (k === 2) return type === 4 ? Buffer.from([127, 0, 0, 1]) : Buffer.from('fe800000000000000000000000000001', 'hex');
  return r.bytes(type);
}

const addrType = (r: Rng): 4 | 16 => (r.chance(0.5) ? 4 : 16);

// ---- tokens --------------------------------------------------------------------------------------------------

/** Every token type of the model, headers and trailer included. */
export const ALL_TOKEN_TYPES = [
  'header32', 'header32_ex', 'header64', 'header64_ex', 'trailer', 'file', 'data', 'ipc', 'path',
  'subject32', 'process32', 'subject32_ex', 'process32_ex', 'subject64', 'process64', 'subject64_ex', 'process64_ex',
  'return32', 'return64', 'text', 'zonename', 'opaque', 'in_addr', 'in_addr_ex', 'ip', 'iport', 'arg32', 'arg64',
  'socket', 'seq', 'ipc_perm', 'privset', 'upriv', 'newgroups', 'exec_args', 'exec_env', 'path_attr',
  'krb5_principal', 'cert_hash', 'attr32', 'attr64', 'exit', 'socket_ex', 'sockinet32', 'sockinet128', 'sockunix',
  'rights', 'arg_uuid', 'ret_uuid', 'identity', 'unknown',
] as const satisfies readonly TokenType[];

// Fails to compile when types.ts gains a token type this list lacks.
type MissingTypes = Exclude<TokenType, (typeof ALL_TOKEN_TYPES)[number]>;
const allTypesListed: MissingTypes extends never ? true : MissingTypes = true;
void allTypesListed;

const NOT_BODY = new Set<TokenType>(['header32', 'header32_ex', 'header64', 'header64_ex', 'trailer', 'unknown']);

/** The types `randomRecord` places anywhere in a record body. */
export const BODY_TOKEN_TYPES: readonly TokenType[] = ALL_TOKEN_TYPES.filter((t) => !NOT_BODY.has(t));

const LAYOUT_IDS = new Set<number>(Object.values(TokenId).filter((id) => id !== TokenId.OHEADER));
/** Ids with no layout in bsm-format.md §4 (0x12 OHEADER has none either). */
export const UNKNOWN_TOKEN_IDS: readonly number[] = Array.from({ length: 256 }, (_, i) => i).filter((i) => !LAYOUT_IDS.has(i));

const STRING_LIST_TYPES: readonly StringListToken['type'][] = ['exec_args', 'exec_env', 'path_attr', 'krb5_principal', 'cert_hash'];

function stringListToken(r: Rng, type: StringListToken['type']): TokenInput {
  const many = type === 'exec_args' || type === 'exec_env' ? r.chance(0.15) : r.chance(0.03);
  const n = many ? r.int(100, 1000) : r.chance(0.1) ? 0 : r.int(1, 8);
  const strings: Buffer[] = [];
  for (let i = 0; i < n; i++) strings.push(r.chance(0.05) ? Buffer.alloc(1) : nulstrValue(r, many ? 24 : 60));
  return { type, declaredCount: n, strings, truncated: false };
}

/**
 * A string list whose count exceeds the strings present. Each string starts with a-p (0x61-0x70: no token id) or is
 * empty, so no shorter string count lets the rest of the record decode and the truncation reads back unambiguously
 * when the token is the last one before the trailer.
 */
export function truncatedStringList(r: Rng, type: StringListToken['type'] = r.pick(STRING_LIST_TYPES)): TokenInput {
  const present = r.int(0, 6);
  const strings: Buffer[] = [];
  for (let i = 0; i < present; i++) {
    if (r.chance(0.15)) strings.push(Buffer.alloc(1));
    else strings.push(withNul(Buffer.concat([Buffer.from([r.int(0x61, 0x70)]), textBytes(r, 30)])));
  }
  const max = type === 'path_attr' ? 0xffff : 0xffffffff;
  const declaredCount = r.chance(0.2) ? max : present + r.int(1, 200);
  return { type, declaredCount, strings, truncated: true };
}

function headerFields(r: Rng): { version: number; event: number; modifier: number } {
  const version = r.chance(0.8) ? 11 : r.chance(0.5) ? 10 : u8(r);
  const modifier = r.chance(0.6) ? 0 : r.pick([0x4000, 0x8000, 0xc000, u16(r)]);
  return { version, event: u16(r), modifier };
}

/** A random header for `encodeRecord` (any of the four header types). */
export function randomHeader(r: Rng): HeaderInput {
  const f = headerFields(r);
  switch (r.below(4)) {
    case 0:
      return { type: 'header32', ...f, sec: u32(r), msec: r.chance(0.8) ? r.below(1000) : u32(r) };
    case 1: {
      const t = addrType(r);
      return { type: 'header32_ex', ...f, addrType: t, addr: addr(r, t), sec: u32(r), msec: r.below(1000) };
    }
    case 2:
      return { type: 'header64', ...f, sec: u64(r), msec: r.chance(0.8) ? BigInt(r.below(1000)) : u64(r) };
    default: {
      const t = addrType(r);
      return { type: 'header64_ex', ...f, addrType: t, addr: addr(r, t), sec: u64(r), msec: u64(r) };
    }
  }
}

function subjectFields(r: Rng) {
  return {
    auid: r.chance(0.2) ? 0xffffffff : u32(r), euid: u32(r), egid: u32(r), ruid: u32(r), rgid: u32(r),
    pid: u32(r), sid: u32(r),
  };
}

const DATA_UNIT_SIZE = [1, 2, 4, 8];

/** A random token of `type` with edge-leaning values (string lists are complete; see `truncatedStringList`). */
export function randomToken(r: Rng, type: TokenType): TokenInput {
  switch (type) {
    case 'header32':
    case 'header32_ex':
    case 'header64':
    case 'header64_ex': {
      let h = randomHeader(r);
      while (h.type !== type) h = randomHeader(r);
      const f = headerFields(r);
      return { ...h, ...f, size: u32(r) } as TokenInput;
    }
    case 'trailer':
      return { type, magic: r.chance(0.9) ? 0xb105 : u16(r), count: u32(r) };
    case 'file':
      return { type, sec: u32(r), msec: r.chance(0.8) ? r.below(1000) : u32(r), name: str16Value(r) };
    case 'data': {
      const unit = r.below(4);
      const count = r.chance(0.2) ? r.pick([0, 1, 255]) : r.below(40);
      const howToPrint = r.chance(0.9) ? r.below(5) : u8(r);
      return { type, howToPrint, unit, count, items: r.bytes(count * DATA_UNIT_SIZE[unit]) };
    }
    case 'ipc':
      return { type, ipcType: r.chance(0.8) ? r.int(1, 3) : u8(r), ipcId: u32(r) };
    case 'path':
      return { type, path: str16Value(r) };
    case 'text':
      return { type, text: str16Value(r) };
    case 'zonename':
      return { type, zone: str16Value(r, 30) };
    case 'opaque':
      return { type, data: r.chance(0.1) ? Buffer.alloc(0) : r.bytes(r.chance(0.1) ? r.int(256, 2000) : r.int(1, 64)) };
    case 'subject32':
    case 'process32':
      return { type, ...subjectFields(r), port: u32(r), addrType: 4, addr: addr(r, 4) };
    case 'subject32_ex':
    case 'process32_ex': {
      const t = addrType(r);
      return { type, ...subjectFields(r), port: u32(r), addrType: t, addr: addr(r, t) };
    }
    case 'subject64':
    case 'process64':
      return { type, ...subjectFields(r), port: u64(r), addrType: 4, addr: addr(r, 4) };
    case 'subject64_ex':
    case 'process64_ex': {
      const t = addrType(r);
      return { type, ...subjectFields(r), port: u64(r), addrType: t, addr: addr(r, t) };
    }
    case 'return32':
      return { type, status: u8(r), value: u32(r) };
    case 'return64':
      return { type, status: u8(r), value: u64(r) };
    case 'in_addr':
      return { type, addr: addr(r, 4) };
    case 'in_addr_ex': {
      const t = addrType(r);
      return { type, addrType: t, addr: addr(r, t) };
    }
    case 'ip':
      return {
        type, versionIhl: r.chance(0.7) ? 0x45 : u8(r), tos: u8(r), totalLength: u16(r), ipId: u16(r),
        fragOffset: u16(r), ttl: u8(r), protocol: r.chance(0.5) ? r.pick([1, 6, 17]) : u8(r), checksum: u16(r),
        src: addr(r, 4), dst: addr(r, 4),
      };
    case 'iport':
      return { type, port: u16(r) };
    case 'arg32':
      return { type, argNo: u8(r), value: u32(r), text: str16Value(r, 30) };
    case 'arg64':
      return { type, argNo: u8(r), value: u64(r), text: str16Value(r, 30) };
    case 'socket':
      return { type, sockType: u16(r), localPort: u16(r), localAddr: addr(r, 4), remotePort: u16(r), remoteAddr: addr(r, 4) };
    case 'seq':
      return { type, seq: u32(r) };
    case 'ipc_perm':
      return { type, uid: u32(r), gid: u32(r), cuid: u32(r), cgid: u32(r), mode: r.chance(0.5) ? r.below(0o1000) : u32(r), seq: u32(r), key: u32(r) };
    case 'privset':
      return { type, privType: str16Value(r, 20), privSet: str16Value(r, 60) };
    case 'upriv':
      return { type, success: u8(r), priv: str16Value(r, 30) };
    case 'newgroups': {
      const n = r.chance(0.1) ? 0 : r.chance(0.2) ? r.int(17, 300) : r.int(1, 16);
      return { type, groups: Array.from({ length: n }, () => u32(r)) };
    }
    case 'exec_args':
    case 'exec_env':
    case 'path_attr':
    case 'krb5_principal':
    case 'cert_hash':
      return stringListToken(r, type);
    case 'attr32':
      return { type, mode: r.chance(0.5) ? r.below(0x10000) : u32(r), uid: u32(r), gid: u32(r), fsid: u32(r), nodeid: u64(r), dev: u32(r) };
    case 'attr64':
      return { type, mode: r.chance(0.5) ? r.below(0x10000) : u32(r), uid: u32(r), gid: u32(r), fsid: u32(r), nodeid: u64(r), dev: u64(r) };
    case 'exit':
      return { type, status: u32(r), value: u32(r) };
    case 'socket_ex': {
      const t = r.chance(0.5) ? 4 : 16;
      return {
        type, domain: r.chance(0.7) ? r.pick([1, 2, 26]) : u16(r), sockType: r.chance(0.7) ? r.pick([1, 2, 4]) : u16(r),
        addrType: t, localPort: u16(r), localAddr: addr(r, t), remotePort: u16(r), remoteAddr: addr(r, t),
      };
    }
    case 'sockinet32':
      return { type, family: r.chance(0.8) ? 2 : u16(r), port: u16(r), addr: addr(r, 4) };
    case 'sockinet128':
      return { type, family: r.chance(0.8) ? r.pick([26, 28, 30]) : u16(r), port: u16(r), addr: addr(r, 16) };
    case 'sockunix':
      return { type, family: r.chance(0.9) ? 1 : u16(r), path: nulstrValue(r, r.chance(0.1) ? 300 : 104) };
    case 'rights':
      return { type, rights: [u64(r), u64(r)] };
    case 'arg_uuid':
    case 'ret_uuid':
      return { type, num: u8(r), uuid: r.chance(0.1) ? Buffer.alloc(16) : r.bytes(16), text: str16Value(r, 30) };
    case 'identity':
      return {
        type, signerType: r.chance(0.8) ? r.below(2) : u32(r),
        signingId: r.chance(0.1) ? Buffer.alloc(1) : nulstrValue(r, 128), signingIdTruncated: r.chance(0.8) ? r.below(2) : u8(r),
        teamId: r.chance(0.4) ? Buffer.alloc(1) : nulstrValue(r, 16), teamIdTruncated: r.chance(0.8) ? r.below(2) : u8(r),
        cdhash: r.chance(0.9) ? r.bytes(20) : r.bytes(r.pick([0, 32, 48])),
      };
    case 'unknown':
      return { type, id: r.pick(UNKNOWN_TOKEN_IDS), data: r.bytes(r.chance(0.2) ? 0 : r.int(1, 64)) };
  }
}

export interface RandomRecord {
  header: HeaderInput;
  /** Body tokens, without header and trailer. */
  body: TokenInput[];
}

export interface RandomRecordOptions {
  /** Most body tokens before the optional last one (default 12). */
  maxTokens?: number;
  /** Types to draw body tokens from (default BODY_TOKEN_TYPES). */
  types?: readonly TokenType[];
  /** Chance of an unknown token or a truncated string list as the last body token (default 0.15). */
  oddLast?: number;
}

/** A random well-formed record: random header, 0..maxTokens random body tokens, sometimes an odd last token. */
export function randomRecord(r: Rng, opts: RandomRecordOptions = {}): RandomRecord {
  const types = opts.types ?? BODY_TOKEN_TYPES;
  const n = r.int(0, opts.maxTokens ?? 12);
  const body: TokenInput[] = [];
  for (let i = 0; i < n; i++) body.push(randomToken(r, r.pick(types)));
  if (r.chance(opts.oddLast ?? 0.15)) {
    const last = body[body.length - 1];
    // After a complete string list an unknown token could make a shorter string count fit too: avoid that pairing.
    const afterList = last !== undefined && 'declaredCount' in last;
    if (r.chance(0.5) && !afterList) body.push(randomToken(r, 'unknown'));
    else body.push(truncatedStringList(r));
  }
  return { header: randomHeader(r), body };
}
