/**
 * Constant JSON fragments of the NDJSON format (docs/json-format.md), encoded once and shared by the renderer of
 * decoded records (record-json.ts) and the byte renderer (byte-json.ts), so both write the same bytes.
 */
import { frag } from './byte-out.js';
import { SOCKET_DOMAINS } from '../tables/socket-domain.js';
import { SOCKET_TYPES } from '../tables/socket-type.js';
import { IPC_TYPES, DATA_FORMATS, DATA_UNITS } from '../tables/small-enums.js';
import { bsmErrno } from '../errno.js';

const K = (name: string): Uint8Array => frag(',"' + name + '":');
const K_HEX = (name: string): Uint8Array => frag(',"' + name + '_hex":');
/** `{"type":"<t>"` per token type, built on first use (a handful of types). */
const TYPE = new Map<string, Uint8Array>();
export function typeFrag(t: string): Uint8Array {
  let f = TYPE.get(t);
  if (f === undefined) TYPE.set(t, (f = frag('{"type":"' + t + '"')));
  return f;
}

export const F_OFFSET = frag('{"offset":');
export const F_LENGTH = K('length');
export const F_TRUE = frag('true');
export const F_FALSE = frag('false');
export const F_DIAGS = frag('],"diagnostics":[');
export const F_RAW = K('raw');
export const F_POS_OFFSET = K('offset');
export const F_SIZE = K('size');
export const F_VERSION = K('version');
export const F_ADDRTYPE = K('addrType');
export const F_ADDR = K('addr');
export const F_TIME = K('time');
export const F_SEC = K('sec');
export const F_MSEC = K('msec');
export const F_COUNT = K('count');
export const F_NAME = K('name');
export const F_NAME_HEX = K_HEX('name');
export const F_IPCID = K('ipcId');
export const F_PATH = K('path');
export const F_PATH_HEX = K_HEX('path');
export const F_EUID = K('euid');
export const F_EGID = K('egid');
export const F_RUID = K('ruid');
export const F_RGID = K('rgid');
export const F_PID = K('pid');
export const F_SID = K('sid');
export const F_PORT = K('port');
export const F_VALUE = K('value');
export const F_TEXT = K('text');
export const F_TEXT_HEX = K_HEX('text');
export const F_ZONE_HEX = K_HEX('zone');
export const F_DATA = K('data');
export const F_TOS = K('tos');
export const F_TOTALLENGTH = K('totalLength');
export const F_IPID = K('ipId');
export const F_FRAGOFFSET = K('fragOffset');
export const F_TTL = K('ttl');
export const F_PROTOCOL = K('protocol');
export const F_CHECKSUM = K('checksum');
export const F_SRC = K('src');
export const F_DST = K('dst');
export const F_SOCKTYPE = K('sockType');
export const F_LOCALPORT = K('localPort');
export const F_LOCALADDR = K('localAddr');
export const F_REMOTEPORT = K('remotePort');
export const F_REMOTEADDR = K('remoteAddr');
export const F_SEQ = K('seq');
export const F_UID = K('uid');
export const F_GID = K('gid');
export const F_CUID = K('cuid');
export const F_CGID = K('cgid');
export const F_MODE = K('mode');
export const F_KEY = K('key');
export const F_PRIVTYPE_HEX = K_HEX('privType');
export const F_PRIVSET = K('privSet');
export const F_PRIVSET_HEX = K_HEX('privSet');
export const F_PRIV = K('priv');
export const F_PRIV_HEX = K_HEX('priv');
export const F_TRUNCATED = K('truncated');
export const F_STRINGS = frag(',"strings":[');
export const F_STRINGS_HEX = frag(',"strings_hex":[');
export const F_NULL = frag('null');
export const F_FSID = K('fsid');
export const F_NODEID = K('nodeid');
export const F_DEV = K('dev');
export const F_PORTRECORDED = K('portRecorded');
export const F_PORTSWAPPED = K('portSwapped');
export const F_UUID = K('uuid');
export const F_SIGNINGID = K('signingId');
export const F_SIGNINGID_HEX = K_HEX('signingId');
export const F_SIGNINGIDTRUNC = K('signingIdTruncated');
export const F_TEAMID = K('teamId');
export const F_TEAMID_HEX = K_HEX('teamId');
export const F_TEAMIDTRUNC = K('teamIdTruncated');
export const F_CDHASH = K('cdhash');
export const F_UNIT = K('unit');
export const F_ITEMS = K('items');
export const F_VALUES = frag(',"values":[');
export const F_D_CODE = frag('{"code":"');
export const F_D_SEVERITY = frag('","severity":"');
export const F_D_OFFSET = frag('",' + '"offset":');
export const F_D_RECORDOFFSET = K('recordOffset');
export const F_D_TOKENID = K('tokenId');
export const F_D_SKIPPED = K('skipped');
export const F_D_MESSAGE = K('message');

export const COMMA = 0x2c;
export const QUOTE = 0x22;
export const CLOSE_OBJ = 0x7d;
export const CLOSE_ARR = 0x5d;
export const NL = 0x0a;

/** The start of a token object: merged `{"type":"…","<first key>":`, or its parts when positions come between. */
export interface Opening {
  merged: Uint8Array;
  type: Uint8Array;
  key: Uint8Array;
}
export function opening(type: string, firstKey: string): Opening {
  return { merged: frag('{"type":"' + type + '","' + firstKey + '":'), type: typeFrag(type), key: K(firstKey) };
}
export const O_TRAILER = opening('trailer', 'magic');
/** Nearly every trailer has the standard magic: the whole prefix up to the count is one fragment. */
export const O_TRAILER_STD = frag('{"type":"trailer","magic":45317,"count":');
export const O_FILE = opening('file', 'time');
export const O_DATA = opening('data', 'howToPrint');
export const O_IPC = opening('ipc', 'ipcType');
export const O_PATH = opening('path', 'path');
export const O_SUBJECTS = new Map(
  ['subject32', 'process32', 'subject32_ex', 'process32_ex', 'subject64', 'process64', 'subject64_ex', 'process64_ex'].map(
    (t) => [t, opening(t, 'auid')] as const,
  ),
);
export const O_TEXT = opening('text', 'text');
export const O_ZONENAME = opening('zonename', 'zone');
export const O_OPAQUE = opening('opaque', 'data');
export const O_IN_ADDR = opening('in_addr', 'addr');
export const O_IN_ADDR_EX = opening('in_addr_ex', 'addrType');
export const O_IP = opening('ip', 'versionIhl');
export const O_IPORT = opening('iport', 'port');
export const O_ARG32 = opening('arg32', 'argNo');
export const O_ARG64 = opening('arg64', 'argNo');
export const O_SOCKET = opening('socket', 'sockType');
export const O_SEQ = opening('seq', 'seq');
export const O_IPC_PERM = opening('ipc_perm', 'uid');
export const O_PRIVSET = opening('privset', 'privType');
export const O_UPRIV = opening('upriv', 'success');
export const O_NEWGROUPS = opening('newgroups', 'groups');
export const O_STRING_LISTS = new Map(
  ['exec_args', 'exec_env', 'path_attr', 'krb5_principal', 'cert_hash'].map((t) => [t, opening(t, 'declaredCount')] as const),
);
export const O_ATTR32 = opening('attr32', 'mode');
export const O_ATTR64 = opening('attr64', 'mode');
export const O_EXIT = opening('exit', 'status');
export const O_SOCKET_EX = opening('socket_ex', 'domain');
export const O_SOCKINET32 = opening('sockinet32', 'family');
export const O_SOCKINET128 = opening('sockinet128', 'family');
export const O_SOCKUNIX = opening('sockunix', 'family');
export const O_RIGHTS = opening('rights', 'rights');
export const O_ARG_UUID = opening('arg_uuid', 'num');
export const O_RET_UUID = opening('ret_uuid', 'num');
export const O_IDENTITY = opening('identity', 'signerType');
export const O_UNKNOWN = opening('unknown', 'id');

/** Record prefixes after `"length":N`, indexed by intact (0/1), merged with what follows when possible. */
const bools = (f: (b: string) => string): Uint8Array[] => [frag(f('false')), frag(f('true'))];
export const KIND_HEADER = bools((b) => ',"kind":"record","intact":' + b + ',"header":');
const HEADER_TYPES = ['header32', 'header32_ex', 'header64', 'header64_ex'];
export const HEADER_INDEX: Record<string, number> = { header32: 0, header32_ex: 1, header64: 2, header64_ex: 3 };
export const KIND_HEADER_SIZE = HEADER_TYPES.map((h) => bools((b) => ',"kind":"record","intact":' + b + ',"header":{"type":"' + h + '","size":'));
export const KIND_RECORD_TOKENS = bools((b) => ',"kind":"record","intact":' + b + ',"tokens":[');
export const KIND_FILE_TOKENS = bools((b) => ',"kind":"file-token","intact":' + b + ',"tokens":[');
export const F_TOKENS_AFTER_HEADER = frag(',"tokens":[');
export const F_END_CLEAN = frag('],"diagnostics":[]}');

/** `,"<key>":"<name>"` for every entry of a name table, built once. */
function nameFrags(key: string, names: Iterable<readonly [number, string | undefined]>): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (const [n, name] of names) if (name !== undefined) m.set(n, frag(',"' + key + '":' + JSON.stringify(name)));
  return m;
}
export const DOMAIN_NAMES = nameFrags('domainName', SOCKET_DOMAINS);
export const SOCKTYPE_NAMES = nameFrags('sockTypeName', SOCKET_TYPES);
export const IPC_NAMES = nameFrags('ipcTypeName', IPC_TYPES.entries());
export const FORMAT_NAMES = nameFrags('format', DATA_FORMATS.entries());
export const UNIT_NAMES = nameFrags('unitName', DATA_UNITS.entries());

/**
 * `,"status":N,"errno":"EX","errnoText":"…"` for every BSM errno byte value, built once. The name is omitted for
 * undefined numbers, the text for numbers OpenBSM's table has no text for (bsm-format.md §11.1).
 */
let ERRNO: Uint8Array[] | undefined;
export function errnoFrags(): Uint8Array[] {
  return (ERRNO ??= errnoFragments());
}
function errnoFragments(): Uint8Array[] {
  const out = new Array<Uint8Array>(256);
  for (let n = 0; n < 256; n++) {
    const e = bsmErrno(n);
    let s = ',"status":' + n;
    if (e.name !== undefined) s += ',"errno":' + JSON.stringify(e.name);
    if (e.text !== undefined) s += ',"errnoText":' + JSON.stringify(e.text);
    out[n] = frag(s);
  }
  return out;
}

let RET32: Uint8Array[] | undefined;
let RET64: Uint8Array[] | undefined;
/** Whole return-token openings up to the value, per status byte: `{"type":"return32","status":…,"value":`. */
export function ret32Frags(): Uint8Array[] {
  return (RET32 ??= returnOpenings('return32', errnoFrags()));
}
export function ret64Frags(): Uint8Array[] {
  return (RET64 ??= returnOpenings('return64', errnoFrags()));
}
function returnOpenings(type: string, errno: Uint8Array[]): Uint8Array[] {
  const head = Buffer.from('{"type":"' + type + '"');
  const value = Buffer.from(',"value":');
  return errno.map((e) => new Uint8Array(Buffer.concat([head, e, value])));
}
