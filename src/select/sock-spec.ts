/**
 * `-o sock=SPEC` (auditreduce.md §7.3; upstream accepts it and never evaluates it). SPEC is `ADDR`, `ADDR:PORT`,
 * `[V6ADDR]:PORT`, `:PORT`, or a socket path starting with `/`. Matching reads the socket tokens' fields straight
 * from the record bytes (layouts in bsm-format.md §4).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../errors.js';

export interface SockSpec {
  /** The address as 4 or 16 bytes, if the spec has one. */
  addr?: Buffer;
  /** The port, if the spec has one. */
  port?: number;
  /** A socket-unix path (without NUL), if the spec is a path. */
  path?: Buffer;
  /** The spec as written, for messages. */
  text: string;
}

function ipv4Bytes(s: string): Buffer {
  return Buffer.from(s.split('.').map((x) => Number(x)));
}

/** IPv6 text (with `::` and an optional dotted IPv4 tail) to 16 bytes; `s` must satisfy net.isIPv6. */
export function ipv6Bytes(s: string): Buffer {
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let words: number[] = [];
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const b = ipv4Bytes(g);
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    const head = parse(s.slice(0, dbl));
    const tail = parse(s.slice(dbl + 2));
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    words = parse(s);
  }
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(words[i]! & 0xffff, i * 2);
  return b;
}

function parseAddr(s: string, spec: string): Buffer {
  if (isIPv4(s)) return ipv4Bytes(s);
  if (isIPv6(s)) return ipv6Bytes(s);
  throw new UsageError(`-o sock=${spec}: '${s}' is not an IPv4 or IPv6 address`);
}

function parsePort(s: string, spec: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) throw new UsageError(`-o sock=${spec}: '${s}' is not a port number (0-65535)`);
  return Number(s);
}

/** Parses SPEC; anything else is a usage error. */
export function parseSockSpec(spec: string): SockSpec {
  if (spec.startsWith('/')) return { path: Buffer.from(spec, 'utf8'), text: spec };
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close < 0) throw new UsageError(`-o sock=${spec}: missing ']'`);
    const inner = spec.slice(1, close);
    if (!isIPv6(inner)) throw new UsageError(`-o sock=${spec}: '${inner}' is not an IPv6 address`);
    const rest = spec.slice(close + 1);
    if (rest === '') return { addr: ipv6Bytes(inner), text: spec };
    if (!rest.startsWith(':')) throw new UsageError(`-o sock=${spec}: expected ':PORT' after ']'`);
    return { addr: ipv6Bytes(inner), port: parsePort(rest.slice(1), spec), text: spec };
  }
  if (spec.startsWith(':')) return { port: parsePort(spec.slice(1), spec), text: spec };
  const colons = spec.split(':').length - 1;
  if (colons === 1) {
    const [a, p] = spec.split(':') as [string, string];
    if (!isIPv4(a)) throw new UsageError(`-o sock=${spec}: '${a}' is not an IPv4 address (write IPv6 as [ADDR]:PORT)`);
    return { addr: ipv4Bytes(a), port: parsePort(p, spec), text: spec };
  }
  return { addr: parseAddr(spec, spec), text: spec };
}

function addrEq(b: Buffer, at: number, len: number, want: Buffer): boolean {
  if (len !== want.length) return false;
  for (let i = 0; i < len; i++) if (b[at + i] !== want[i]) return false;
  return true;
}

/** One endpoint against the spec: address (when given) and port (when given) must both agree. */
function endpoint(spec: SockSpec, b: Buffer, addrAt: number, addrLen: number, port: number, altPort = -1): boolean {
  if (spec.path) return false;
  if (spec.port !== undefined && port !== spec.port && altPort !== spec.port) return false;
  if (spec.addr && !addrEq(b, addrAt, addrLen, spec.addr)) return false;
  return true;
}

const swap16 = (x: number): number => ((x & 0xff) << 8) | (x >>> 8);

/**
 * Whether the socket-kind token at `p` names an endpoint matching `spec`. `end` bounds reads. Tokens that carry
 * only an address (in_addr, in_addr_ex) match a spec without a port.
 */
export function sockTokenMatches(spec: SockSpec, b: Buffer, p: number, end: number): boolean {
  switch (b[p]) {
    case 0x2e: // socket: u16 type, u16 lport, addr4, u16 rport, addr4
      return endpoint(spec, b, p + 5, 4, b.readUInt16BE(p + 3)) || endpoint(spec, b, p + 11, 4, b.readUInt16BE(p + 9));
    case 0x7f: {
      // socket_ex: u16 domain, u16 type, u16 atype, u16 lport, laddr, u16 rport, raddr
      const at = b.readUInt16BE(p + 5);
      return endpoint(spec, b, p + 9, at, b.readUInt16BE(p + 7)) || endpoint(spec, b, p + 11 + at, at, b.readUInt16BE(p + 9 + at));
    }
    case 0x80: // socket-inet: u16 family, u16 port, addr4
      return endpoint(spec, b, p + 5, 4, b.readUInt16BE(p + 3));
    case 0x81: {
      // socket-inet6: XNU stores the port byte-swapped (bsm-format.md §5.6); the source is unknown here, so both
      // the recorded and the corrected value are accepted.
      const raw = b.readUInt16BE(p + 3);
      return endpoint(spec, b, p + 5, 16, raw, swap16(raw));
    }
    case 0x2a:
      return spec.port === undefined && endpoint(spec, b, p + 1, 4, 0);
    case 0x7e:
      return spec.port === undefined && endpoint(spec, b, p + 5, b.readUInt32BE(p + 1), 0);
    case 0x82: {
      if (!spec.path) return false;
      const nul = b.indexOf(0, p + 3);
      const stop = nul < 0 || nul > end ? end : nul;
      return stop - (p + 3) === spec.path.length && addrEq(b, p + 3, spec.path.length, spec.path);
    }
    default:
      return false;
  }
}
