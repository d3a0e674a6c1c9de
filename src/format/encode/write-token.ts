/**
 * One writer per token layout (bsm-format.md §4, §5), dispatched by a switch on the model's `type`.
 *
 * The model is written exactly as it is: numbers as given (big-endian), strings and addresses as raw bytes, string
 * lists with their declared count even when fewer strings are present (XNU's truncated exec args). Values that could
 * not be read back as the same token (an address whose length differs from its type, a NUL-terminated string without
 * its NUL, data items that do not match count × unit) throw, because writing them would silently produce a
 * different token. To produce deliberately malformed bytes, use the `unknown` token (id byte + raw data).
 */
import { BsmkitError } from '../../errors.js';
import type { Bytes } from '../types.js';
import type { BufferWriter } from './buffer-writer.js';
import type { TokenInput } from './input-types.js';

/** Stable error code for a token model that cannot be encoded. */
export const ENCODE_ERROR = 'BSMKIT_E_ENCODE';

function fail(type: string, message: string): never {
  throw new BsmkitError(ENCODE_ERROR, `cannot encode ${type}: ${message}`);
}

function addr4(type: string, field: string, b: Bytes): Bytes {
  if (b.length !== 4) fail(type, `${field} must be 4 bytes, got ${b.length}`);
  return b;
}

/** `u32 type` (4 or 16) followed by that many address bytes, as in every `_ex` token. */
function typedAddr(w: BufferWriter, type: string, addrType: number, addr: Bytes): void {
  if (addrType !== 4 && addrType !== 16) fail(type, `address type ${addrType} is neither 4 nor 16`);
  if (addr.length !== addrType) fail(type, `address type ${addrType} but ${addr.length} address bytes`);
  w.u32(addrType).bytes(addr);
}

/** A `nulstr`: the bytes must end with their one NUL, or the reader would split or overrun them. */
function nulstr(w: BufferWriter, type: string, s: Bytes): void {
  const nul = s.indexOf(0);
  if (nul !== s.length - 1) {
    fail(type, nul < 0 ? `string ${JSON.stringify(s.toString('latin1'))} lacks its terminating NUL` : `string has a NUL at byte ${nul} before its end`);
  }
  w.bytes(s);
}

/** The address part of a terminal id: typed in the _ex forms, a bare IPv4 address otherwise. */
function terminalAddr(w: BufferWriter, type: string, addrType: number, addr: Bytes): void {
  if (type.endsWith('_ex')) typedAddr(w, type, addrType, addr);
  else {
    if (addrType !== 4) fail(type, `address type ${addrType}: only the _ex forms carry a type (use 4)`);
    w.bytes(addr4(type, 'addr', addr));
  }
}

const SUBJECT_IDS = {
  subject32: 0x24,
  process32: 0x26,
  subject64: 0x75,
  process64: 0x77,
  subject32_ex: 0x7a,
  process32_ex: 0x7b,
  subject64_ex: 0x7c,
  process64_ex: 0x7d,
} as const;

const STRING_LIST_IDS = { exec_args: 0x3c, exec_env: 0x3d, path_attr: 0x25, krb5_principal: 0xee, cert_hash: 0xef } as const;

const DATA_UNIT_SIZE = [1, 2, 4, 8];

/** Appends the encoding of `t` to `w`. Throws BsmkitError (code BSMKIT_E_ENCODE) or RangeError on bad values. */
export function writeToken(w: BufferWriter, t: TokenInput): void {
  switch (t.type) {
    case 'header32':
      w.u8(0x14).u32(t.size).u8(t.version).u16(t.event).u16(t.modifier).u32(t.sec).u32(t.msec);
      return;
    case 'header32_ex':
      w.u8(0x15).u32(t.size).u8(t.version).u16(t.event).u16(t.modifier);
      typedAddr(w, t.type, t.addrType, t.addr);
      w.u32(t.sec).u32(t.msec);
      return;
    case 'header64':
      w.u8(0x74).u32(t.size).u8(t.version).u16(t.event).u16(t.modifier).u64(t.sec).u64(t.msec);
      return;
    case 'header64_ex':
      w.u8(0x79).u32(t.size).u8(t.version).u16(t.event).u16(t.modifier);
      typedAddr(w, t.type, t.addrType, t.addr);
      w.u64(t.sec).u64(t.msec);
      return;
    case 'trailer':
      w.u8(0x13).u16(t.magic).u32(t.count);
      return;
    case 'file':
      w.u8(0x11).u32(t.sec).u32(t.msec).str16(t.name);
      return;
    case 'data': {
      const size = DATA_UNIT_SIZE[t.unit];
      if (size === undefined) fail(t.type, `unit ${t.unit} is not 0-3 (no reader could size the items)`);
      if (t.items.length !== t.count * size) fail(t.type, `${t.count} items of ${size} bytes need ${t.count * size} bytes, got ${t.items.length}`);
      w.u8(0x21).u8(t.howToPrint).u8(t.unit).u8(t.count).bytes(t.items);
      return;
    }
    case 'ipc':
      w.u8(0x22).u8(t.ipcType).u32(t.ipcId);
      return;
    case 'path':
      w.u8(0x23).str16(t.path);
      return;
    case 'text':
      w.u8(0x28).str16(t.text);
      return;
    case 'zonename':
      w.u8(0x60).str16(t.zone);
      return;
    case 'subject32':
    case 'process32':
    case 'subject32_ex':
    case 'process32_ex':
      w.u8(SUBJECT_IDS[t.type]).u32(t.auid).u32(t.euid).u32(t.egid).u32(t.ruid).u32(t.rgid).u32(t.pid).u32(t.sid).u32(t.port);
      terminalAddr(w, t.type, t.addrType, t.addr);
      return;
    case 'subject64':
    case 'process64':
    case 'subject64_ex':
    case 'process64_ex':
      w.u8(SUBJECT_IDS[t.type]).u32(t.auid).u32(t.euid).u32(t.egid).u32(t.ruid).u32(t.rgid).u32(t.pid).u32(t.sid).u64(t.port);
      terminalAddr(w, t.type, t.addrType, t.addr);
      return;
    case 'return32':
      w.u8(0x27).u8(t.status).u32(t.value);
      return;
    case 'return64':
      w.u8(0x72).u8(t.status).u64(t.value);
      return;
    case 'opaque':
      w.u8(0x29).str16(t.data);
      return;
    case 'in_addr':
      w.u8(0x2a).bytes(addr4(t.type, 'addr', t.addr));
      return;
    case 'in_addr_ex':
      w.u8(0x7e);
      typedAddr(w, t.type, t.addrType, t.addr);
      return;
    case 'ip':
      w.u8(0x2b).u8(t.versionIhl).u8(t.tos).u16(t.totalLength).u16(t.ipId).u16(t.fragOffset)
        .u8(t.ttl).u8(t.protocol).u16(t.checksum)
        .bytes(addr4(t.type, 'src', t.src)).bytes(addr4(t.type, 'dst', t.dst));
      return;
    case 'iport':
      w.u8(0x2c).u16(t.port);
      return;
    case 'arg32':
      w.u8(0x2d).u8(t.argNo).u32(t.value).str16(t.text);
      return;
    case 'arg64':
      w.u8(0x71).u8(t.argNo).u64(t.value).str16(t.text);
      return;
    case 'socket':
      w.u8(0x2e).u16(t.sockType).u16(t.localPort).bytes(addr4(t.type, 'localAddr', t.localAddr))
        .u16(t.remotePort).bytes(addr4(t.type, 'remoteAddr', t.remoteAddr));
      return;
    case 'seq':
      w.u8(0x2f).u32(t.seq);
      return;
    case 'ipc_perm':
      w.u8(0x32).u32(t.uid).u32(t.gid).u32(t.cuid).u32(t.cgid).u32(t.mode).u32(t.seq).u32(t.key);
      return;
    case 'privset':
      w.u8(0x38).str16(t.privType).str16(t.privSet);
      return;
    case 'upriv':
      w.u8(0x39).u8(t.success).str16(t.priv);
      return;
    case 'newgroups':
      if (t.groups.length > 0xffff) fail(t.type, `at most 65535 groups, got ${t.groups.length}`);
      w.u8(0x3b).u16(t.groups.length);
      for (const g of t.groups) w.u32(g);
      return;
    case 'exec_args':
    case 'exec_env':
    case 'path_attr':
    case 'krb5_principal':
    case 'cert_hash': {
      // The declared count is written as recorded; `truncated` is derived from it and not consulted.
      if (t.declaredCount < t.strings.length) fail(t.type, `declared count ${t.declaredCount} is below the ${t.strings.length} strings given`);
      w.u8(STRING_LIST_IDS[t.type]);
      if (t.type === 'path_attr') w.u16(t.declaredCount);
      else w.u32(t.declaredCount);
      for (const s of t.strings) nulstr(w, t.type, s);
      return;
    }
    case 'attr32':
      w.u8(0x3e).u32(t.mode).u32(t.uid).u32(t.gid).u32(t.fsid).u64(t.nodeid).u32(t.dev);
      return;
    case 'attr64':
      w.u8(0x73).u32(t.mode).u32(t.uid).u32(t.gid).u32(t.fsid).u64(t.nodeid).u64(t.dev);
      return;
    case 'exit':
      w.u8(0x52).u32(t.status).u32(t.value);
      return;
    case 'socket_ex': {
      const n = t.addrType;
      if (n !== 4 && n !== 16) fail(t.type, `address type ${n} is neither 4 nor 16`);
      if (t.localAddr.length !== n || t.remoteAddr.length !== n) {
        fail(t.type, `address type ${n} but addresses of ${t.localAddr.length} and ${t.remoteAddr.length} bytes`);
      }
      // Unlike the other _ex tokens, socket_ex carries a u16 address type.
      w.u8(0x7f).u16(t.domain).u16(t.sockType).u16(n).u16(t.localPort).bytes(t.localAddr).u16(t.remotePort).bytes(t.remoteAddr);
      return;
    }
    case 'sockinet32':
      w.u8(0x80).u16(t.family).u16(t.port).bytes(addr4(t.type, 'addr', t.addr));
      return;
    case 'sockinet128':
      if (t.addr.length !== 16) fail(t.type, `addr must be 16 bytes, got ${t.addr.length}`);
      w.u8(0x81).u16(t.family).u16(t.port).bytes(t.addr);
      return;
    case 'sockunix':
      w.u8(0x82).u16(t.family);
      nulstr(w, t.type, t.path);
      return;
    case 'rights':
      w.u8(0x83).u64(t.rights[0]).u64(t.rights[1]);
      return;
    case 'arg_uuid':
    case 'ret_uuid':
      if (t.uuid.length !== 16) fail(t.type, `uuid must be 16 bytes, got ${t.uuid.length}`);
      w.u8(t.type === 'arg_uuid' ? 0x84 : 0x85).u8(t.num).bytes(t.uuid).str16(t.text);
      return;
    case 'identity':
      w.u8(0xed).u32(t.signerType)
        .str16(t.signingId).u8(t.signingIdTruncated)
        .str16(t.teamId).u8(t.teamIdTruncated)
        .str16(t.cdhash);
      return;
    case 'unknown':
      w.u8(t.id).bytes(t.data);
      return;
    default: {
      const never: never = t;
      fail(String((never as { type: unknown }).type), 'no such token type');
    }
  }
}
