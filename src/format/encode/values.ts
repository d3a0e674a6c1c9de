/**
 * Small builders for the raw values tokens carry, for tests and for users writing records by hand.
 * They throw on malformed text (a bad address, a bad uuid): these are programming errors, not data damage.
 */
import { BsmkitError } from '../../errors.js';
import type { StringListToken } from '../types.js';
import type { TokenInput } from './input-types.js';

const VALUE_ERROR = 'BSMKIT_E_ENCODE';

/** A string as libbsm writes it: the UTF-8 bytes followed by one NUL (str16 and nulstr fields). */
export function str(s: string): Buffer {
  const n = Buffer.byteLength(s, 'utf8');
  const b = Buffer.alloc(n + 1);
  b.write(s, 0, 'utf8');
  return b;
}

/** The UTF-8 bytes of `s` without a NUL (opaque data, or a str16 recorded without its terminator). */
export function raw(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/** Bytes from hex digits (whitespace allowed): `hex('aa bb cc')`. */
export function hex(s: string): Buffer {
  const clean = s.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new BsmkitError(VALUE_ERROR, `not an even run of hex digits: ${JSON.stringify(s)}`);
  return Buffer.from(clean, 'hex');
}

/** The 4 bytes of a dotted-quad IPv4 address. */
export function ipv4(s: string): Buffer {
  const b = parseIpv4(s);
  if (!b) throw new BsmkitError(VALUE_ERROR, `not an IPv4 address: ${JSON.stringify(s)}`);
  return b;
}

function parseIpv4(s: string): Buffer | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const b = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(parts[i])) return undefined;
    const v = Number(parts[i]);
    if (v > 255) return undefined;
    b[i] = v;
  }
  return b;
}

/** The 16 bytes of an IPv6 address in any RFC 4291 text form (`fe80::1`, `::ffff:10.0.0.1`). */
export function ipv6(s: string): Buffer {
  const b = parseIpv6(s);
  if (!b) throw new BsmkitError(VALUE_ERROR, `not an IPv6 address: ${JSON.stringify(s)}`);
  return b;
}

function parseGroups(part: string, out: number[]): boolean {
  if (part === '') return true;
  for (const g of part.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
    out.push(parseInt(g, 16));
  }
  return true;
}

function parseIpv6(s: string): Buffer | undefined {
  let text = s;
  // An embedded IPv4 address (`::ffff:10.0.0.1`) stands for the last two groups: rewrite it as hex first.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head: number[] = [];
  const rest: number[] = [];
  if (!parseGroups(halves[0], head)) return undefined;
  if (halves.length === 2 && !parseGroups(halves[1], rest)) return undefined;
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(groups[i], 2 * i);
  return b;
}

/** 4 or 16 address bytes from either text form, for the `_ex` tokens whose type follows the address. */
export function ipAddr(s: string): Buffer {
  return s.includes(':') ? ipv6(s) : ipv4(s);
}

/** The 16 bytes of a UUID written as 8-4-4-4-12 hex (RFC 4122 field order, as arg_uuid/ret_uuid carry it). */
export function uuid(s: string): Buffer {
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)) {
    throw new BsmkitError(VALUE_ERROR, `not a UUID: ${JSON.stringify(s)}`);
  }
  return Buffer.from(s.replace(/-/g, ''), 'hex');
}

/** A complete string-list token (exec args/env, path_attr, krb5 principal, cert hash) from plain strings. */
export function stringList(type: StringListToken['type'], strings: readonly (string | Buffer)[]): TokenInput {
  const bufs = strings.map((s) => (typeof s === 'string' ? str(s) : s));
  return { type, declaredCount: bufs.length, strings: bufs, truncated: false };
}

/** `exec_args` from argv. */
export function execArgs(argv: readonly (string | Buffer)[]): TokenInput {
  return stringList('exec_args', argv);
}

/** `exec_env` from `NAME=value` strings. */
export function execEnv(env: readonly (string | Buffer)[]): TokenInput {
  return stringList('exec_env', env);
}
