/**
 * BsmRecord → one NDJSON line (field reference: docs/json-format.md).
 *
 * The line is written as bytes into a ByteOut, not built from strings or JSON.stringify of an object graph: the
 * record model holds Buffers and bigints that would first need converting into a throw-away object tree, and
 * string concatenation cost ~100 allocations per record (bench/micro/json.bench.mjs compares both). Constant
 * pieces (keys, token type prefixes, errno and event-name fragments) are encoded once.
 */
import type { BsmRecord, Diagnostic, HeaderToken, Token } from '../../format/types.js';
import { ByteOut, frag } from './byte-out.js';
import { IsoTimeWriter } from './iso-time.js';
import { ipv6Text } from './addr-text.js';
import { SOCKET_DOMAINS } from '../tables/socket-domain.js';
import { SOCKET_TYPES } from '../tables/socket-type.js';
import { IPC_TYPES, DATA_FORMATS, DATA_UNITS } from '../tables/small-enums.js';
import { bsmErrno } from '../errno.js';

/** What the renderer needs from an event table (src/catalog/event-table.ts `EventTable` fits). */
export interface EventDescriber {
  describe(num: number): { name: string; description: string } | undefined;
}

export interface JsonOptions {
  /** Event names beside the number (`eventName`, `eventDesc`); omitted when absent or the number is unknown. */
  events?: EventDescriber;
  /**
   * Whether the input comes from the XNU (macOS) kernel, whose socket-inet6 ports are recorded byte-swapped
   * (bsm-format.md §5.6). 'auto' (default): a record counts as XNU when it carries an identity token (0xed), and,
   * for a renderer from createJsonRenderer, once any earlier record did.
   */
  xnu?: boolean | 'auto';
  /** Byte order of data-token items (host memory of the writer): 'le' (default) or 'be'. */
  dataByteOrder?: 'le' | 'be';
  /** Add `offset` (within the record) and `length` to every token object. Default false. */
  tokenPositions?: boolean;
  /** Add `raw`, the hex of the record's bytes. Default false. */
  raw?: boolean;
}

export interface JsonRenderer {
  /** One record as a JSON line with its newline. */
  record(rec: BsmRecord): string;
  /** Appends one record's JSON line and newline to the pending output bytes (the fast path for writing out). */
  push(rec: BsmRecord): void;
  /** Bytes pushed and not yet taken. */
  readonly pending: number;
  /** The pending bytes (UTF-8 NDJSON); the caller owns them, the renderer starts a new buffer. */
  take(): Buffer;
}

// ---- constant fragments, encoded once -------------------------------------------------------------------------
const K = (name: string): Uint8Array => frag(',"' + name + '":');
const K_HEX = (name: string): Uint8Array => frag(',"' + name + '_hex":');
/** `{"type":"<t>"` per token type, built on first use (a handful of types). */
const TYPE = new Map<string, Uint8Array>();
function typeFrag(t: string): Uint8Array {
  let f = TYPE.get(t);
  if (f === undefined) TYPE.set(t, (f = frag('{"type":"' + t + '"')));
  return f;
}

const F_OFFSET = frag('{"offset":');
const F_LENGTH = K('length');
const F_TRUE = frag('true');
const F_FALSE = frag('false');
const F_DIAGS = frag('],"diagnostics":[');
const F_RAW = K('raw');
const F_POS_OFFSET = K('offset');
const F_SIZE = K('size');
const F_VERSION = K('version');
const F_ADDRTYPE = K('addrType');
const F_ADDR = K('addr');
const F_TIME = K('time');
const F_SEC = K('sec');
const F_MSEC = K('msec');
const F_COUNT = K('count');
const F_NAME = K('name');
const F_NAME_HEX = K_HEX('name');
const F_IPCID = K('ipcId');
const F_PATH = K('path');
const F_PATH_HEX = K_HEX('path');
const F_EUID = K('euid');
const F_EGID = K('egid');
const F_RUID = K('ruid');
const F_RGID = K('rgid');
const F_PID = K('pid');
const F_SID = K('sid');
const F_PORT = K('port');
const F_VALUE = K('value');
const F_TEXT = K('text');
const F_TEXT_HEX = K_HEX('text');
const F_ZONE_HEX = K_HEX('zone');
const F_DATA = K('data');
const F_TOS = K('tos');
const F_TOTALLENGTH = K('totalLength');
const F_IPID = K('ipId');
const F_FRAGOFFSET = K('fragOffset');
const F_TTL = K('ttl');
const F_PROTOCOL = K('protocol');
const F_CHECKSUM = K('checksum');
const F_SRC = K('src');
const F_DST = K('dst');
const F_SOCKTYPE = K('sockType');
const F_LOCALPORT = K('localPort');
const F_LOCALADDR = K('localAddr');
const F_REMOTEPORT = K('remotePort');
const F_REMOTEADDR = K('remoteAddr');
const F_SEQ = K('seq');
const F_UID = K('uid');
const F_GID = K('gid');
const F_CUID = K('cuid');
const F_CGID = K('cgid');
const F_MODE = K('mode');
const F_KEY = K('key');
const F_PRIVTYPE_HEX = K_HEX('privType');
const F_PRIVSET = K('privSet');
const F_PRIVSET_HEX = K_HEX('privSet');
const F_PRIV = K('priv');
const F_PRIV_HEX = K_HEX('priv');
const F_TRUNCATED = K('truncated');
const F_STRINGS = frag(',"strings":[');
const F_STRINGS_HEX = frag(',"strings_hex":[');
const F_NULL = frag('null');
const F_FSID = K('fsid');
const F_NODEID = K('nodeid');
const F_DEV = K('dev');
const F_PORTRECORDED = K('portRecorded');
const F_PORTSWAPPED = K('portSwapped');
const F_UUID = K('uuid');
const F_SIGNINGID = K('signingId');
const F_SIGNINGID_HEX = K_HEX('signingId');
const F_SIGNINGIDTRUNC = K('signingIdTruncated');
const F_TEAMID = K('teamId');
const F_TEAMID_HEX = K_HEX('teamId');
const F_TEAMIDTRUNC = K('teamIdTruncated');
const F_CDHASH = K('cdhash');
const F_UNIT = K('unit');
const F_ITEMS = K('items');
const F_VALUES = frag(',"values":[');
const F_D_CODE = frag('{"code":"');
const F_D_SEVERITY = frag('","severity":"');
const F_D_OFFSET = frag('",' + '"offset":');
const F_D_RECORDOFFSET = K('recordOffset');
const F_D_TOKENID = K('tokenId');
const F_D_SKIPPED = K('skipped');
const F_D_MESSAGE = K('message');

const COMMA = 0x2c;
const QUOTE = 0x22;
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;
const NL = 0x0a;

/** The start of a token object: merged `{"type":"…","<first key>":`, or its parts when positions come between. */
interface Opening {
  merged: Uint8Array;
  type: Uint8Array;
  key: Uint8Array;
}
function opening(type: string, firstKey: string): Opening {
  return { merged: frag('{"type":"' + type + '","' + firstKey + '":'), type: typeFrag(type), key: K(firstKey) };
}
const O_TRAILER = opening('trailer', 'magic');
/** Nearly every trailer has the standard magic: the whole prefix up to the count is one fragment. */
const O_TRAILER_STD = frag('{"type":"trailer","magic":45317,"count":');
const O_FILE = opening('file', 'time');
const O_DATA = opening('data', 'howToPrint');
const O_IPC = opening('ipc', 'ipcType');
const O_PATH = opening('path', 'path');
const O_SUBJECTS = new Map(
  ['subject32', 'process32', 'subject32_ex', 'process32_ex', 'subject64', 'process64', 'subject64_ex', 'process64_ex'].map(
    (t) => [t, opening(t, 'auid')] as const,
  ),
);
const O_TEXT = opening('text', 'text');
const O_ZONENAME = opening('zonename', 'zone');
const O_OPAQUE = opening('opaque', 'data');
const O_IN_ADDR = opening('in_addr', 'addr');
const O_IN_ADDR_EX = opening('in_addr_ex', 'addrType');
const O_IP = opening('ip', 'versionIhl');
const O_IPORT = opening('iport', 'port');
const O_ARG32 = opening('arg32', 'argNo');
const O_ARG64 = opening('arg64', 'argNo');
const O_SOCKET = opening('socket', 'sockType');
const O_SEQ = opening('seq', 'seq');
const O_IPC_PERM = opening('ipc_perm', 'uid');
const O_PRIVSET = opening('privset', 'privType');
const O_UPRIV = opening('upriv', 'success');
const O_NEWGROUPS = opening('newgroups', 'groups');
const O_STRING_LISTS = new Map(
  ['exec_args', 'exec_env', 'path_attr', 'krb5_principal', 'cert_hash'].map((t) => [t, opening(t, 'declaredCount')] as const),
);
const O_ATTR32 = opening('attr32', 'mode');
const O_ATTR64 = opening('attr64', 'mode');
const O_EXIT = opening('exit', 'status');
const O_SOCKET_EX = opening('socket_ex', 'domain');
const O_SOCKINET32 = opening('sockinet32', 'family');
const O_SOCKINET128 = opening('sockinet128', 'family');
const O_SOCKUNIX = opening('sockunix', 'family');
const O_RIGHTS = opening('rights', 'rights');
const O_ARG_UUID = opening('arg_uuid', 'num');
const O_RET_UUID = opening('ret_uuid', 'num');
const O_IDENTITY = opening('identity', 'signerType');
const O_UNKNOWN = opening('unknown', 'id');

/** Record prefixes after `"length":N`, indexed by intact (0/1), merged with what follows when possible. */
const bools = (f: (b: string) => string): Uint8Array[] => [frag(f('false')), frag(f('true'))];
const KIND_HEADER = bools((b) => ',"kind":"record","intact":' + b + ',"header":');
const HEADER_TYPES = ['header32', 'header32_ex', 'header64', 'header64_ex'];
const HEADER_INDEX: Record<string, number> = { header32: 0, header32_ex: 1, header64: 2, header64_ex: 3 };
const KIND_HEADER_SIZE = HEADER_TYPES.map((h) => bools((b) => ',"kind":"record","intact":' + b + ',"header":{"type":"' + h + '","size":'));
const KIND_RECORD_TOKENS = bools((b) => ',"kind":"record","intact":' + b + ',"tokens":[');
const KIND_FILE_TOKENS = bools((b) => ',"kind":"file-token","intact":' + b + ',"tokens":[');
const F_TOKENS_AFTER_HEADER = frag(',"tokens":[');
const F_END_CLEAN = frag('],"diagnostics":[]}');

/** `,"<key>":"<name>"` for every entry of a name table, built once. */
function nameFrags(key: string, names: Iterable<readonly [number, string | undefined]>): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (const [n, name] of names) if (name !== undefined) m.set(n, frag(',"' + key + '":' + JSON.stringify(name)));
  return m;
}
const DOMAIN_NAMES = nameFrags('domainName', SOCKET_DOMAINS);
const SOCKTYPE_NAMES = nameFrags('sockTypeName', SOCKET_TYPES);
const IPC_NAMES = nameFrags('ipcTypeName', IPC_TYPES.entries());
const FORMAT_NAMES = nameFrags('format', DATA_FORMATS.entries());
const UNIT_NAMES = nameFrags('unitName', DATA_UNITS.entries());

/**
 * `,"status":N,"errno":"EX","errnoText":"…"` for every BSM errno byte value, built once. The name is omitted for
 * undefined numbers, the text for numbers OpenBSM's table has no text for (bsm-format.md §11.1).
 */
let ERRNO: Uint8Array[] | undefined;
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
function returnOpenings(type: string, errno: Uint8Array[]): Uint8Array[] {
  const head = Buffer.from('{"type":"' + type + '"');
  const value = Buffer.from(',"value":');
  return errno.map((e) => new Uint8Array(Buffer.concat([head, e, value])));
}

function hasIdentity(rec: BsmRecord): boolean {
  const t = rec.tokens;
  for (let i = t.length - 1; i >= 0; i--) if (t[i].type === 'identity') return true;
  return false;
}

class Renderer implements JsonRenderer {
  private readonly out = new ByteOut();
  private readonly events?: EventDescriber;
  /** Event fragment per event number (`,"event":N[,"eventName":…,"eventDesc":…]`), filled on first use. */
  private readonly eventFrag: Array<Uint8Array | undefined> = new Array(65536);
  private readonly time = new IsoTimeWriter();
  private readonly errno: Uint8Array[];
  /** Whole return-token openings up to the value, per status byte: `{"type":"return32","status":…,"value":`. */
  private readonly ret32: Uint8Array[];
  private readonly ret64: Uint8Array[];
  private readonly xnuMode: boolean | 'auto';
  private xnuSeen = false;
  private readonly le: boolean;
  private readonly positions: boolean;
  private readonly raw: boolean;
  /** The record being written and whether it counts as XNU (-1: not yet decided). */
  private cur: BsmRecord | undefined;
  private curXnu = -1;

  constructor(opts: JsonOptions, private readonly sticky: boolean) {
    this.events = opts.events;
    this.xnuMode = opts.xnu ?? 'auto';
    this.le = opts.dataByteOrder !== 'be';
    this.positions = opts.tokenPositions === true;
    this.raw = opts.raw === true;
    this.errno = ERRNO ??= errnoFragments();
    this.ret32 = RET32 ??= returnOpenings('return32', this.errno);
    this.ret64 = RET64 ??= returnOpenings('return64', this.errno);
  }

  get pending(): number {
    return this.out.pos;
  }

  take(): Buffer {
    return this.out.take();
  }

  push(rec: BsmRecord): void {
    this.write(rec);
    this.out.c(NL);
  }

  record(rec: BsmRecord): string {
    const start = this.out.pos;
    this.push(rec);
    const s = this.out.buf.toString('utf8', start, this.out.pos);
    this.out.pos = start;
    return s;
  }

  /** The line without its newline (recordToJson). */
  line(rec: BsmRecord): string {
    const start = this.out.pos;
    this.write(rec);
    const s = this.out.buf.toString('utf8', start, this.out.pos);
    this.out.pos = start;
    return s;
  }

  private write(rec: BsmRecord): void {
    const o = this.out;
    this.cur = rec;
    this.curXnu = -1;
    o.kn(F_OFFSET, rec.offset);
    o.kn(F_LENGTH, rec.bytes.length);
    const h = rec.header;
    const intact = rec.intact ? 1 : 0;
    if (rec.kind === 'record') {
      if (h) {
        o.f(this.positions ? KIND_HEADER[intact] : KIND_HEADER_SIZE[HEADER_INDEX[h.type]][intact]);
        this.header(h);
        o.f(F_TOKENS_AFTER_HEADER);
      } else o.f(KIND_RECORD_TOKENS[intact]);
    } else o.f(KIND_FILE_TOKENS[intact]);
    const toks = rec.tokens;
    let first = true;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t === h) continue;
      if (!first) o.c(COMMA);
      this.token(t);
      first = false;
    }
    const ds = rec.diagnostics;
    if (ds.length === 0 && !this.raw) {
      o.f(F_END_CLEAN);
    } else {
      o.f(F_DIAGS);
      for (let i = 0; i < ds.length; i++) {
        if (i) o.c(COMMA);
        this.diagnostic(ds[i]);
      }
      o.c(CLOSE_ARR);
      if (this.raw) {
        o.f(F_RAW);
        o.hex(rec.bytes);
      }
      o.c(CLOSE_OBJ);
    }
    this.cur = undefined;
  }

  private diagnostic(d: Diagnostic): void {
    const o = this.out;
    o.f(F_D_CODE);
    o.ascii(d.code);
    o.f(F_D_SEVERITY);
    o.ascii(d.severity);
    o.f(F_D_OFFSET);
    o.u(d.offset);
    if (d.recordOffset !== undefined) o.kn(F_D_RECORDOFFSET, d.recordOffset);
    if (d.tokenId !== undefined) o.kn(F_D_TOKENID, d.tokenId);
    if (d.skipped !== undefined) o.kn(F_D_SKIPPED, d.skipped);
    o.f(F_D_MESSAGE);
    o.utf8(JSON.stringify(d.message));
    o.c(CLOSE_OBJ);
  }

  /** `,"event":N[,"eventName":…,"eventDesc":…],"modifier":` per event number, built on first use. */
  private eventFields(event: number): Uint8Array {
    let f = this.eventFrag[event];
    if (f === undefined) {
      let s = ',"event":' + event;
      const d = this.events?.describe(event);
      if (d) s += ',"eventName":' + JSON.stringify(d.name) + ',"eventDesc":' + JSON.stringify(d.description);
      this.eventFrag[event] = f = frag(s + ',"modifier":');
    }
    return f;
  }

  /**
   * The header object. Without token positions the caller has already written `{"type":"…","size":` (merged
   * into the record prefix); with them, or for a header met among the tokens, this writes the opening itself.
   */
  private header(h: HeaderToken, opened = !this.positions): void {
    const o = this.out;
    if (!opened) {
      o.f(typeFrag(h.type));
      this.pos(h);
      o.f(F_SIZE);
    }
    o.u(h.size);
    o.kn(F_VERSION, h.version);
    o.f(this.eventFields(h.event));
    o.u(h.modifier);
    if (h.type === 'header32_ex' || h.type === 'header64_ex') {
      o.kn(F_ADDRTYPE, h.addrType);
      this.addr(F_ADDR, h.addr);
    }
    o.f(F_TIME);
    if (h.type === 'header32' || h.type === 'header32_ex') {
      this.time.write(o, h.sec, h.msec);
      o.kn(F_SEC, h.sec);
      o.kn(F_MSEC, h.msec);
    } else {
      this.time.write64(o, h.sec, h.msec);
      o.f(F_SEC);
      o.u64(h.sec);
      o.f(F_MSEC);
      o.u64(h.msec);
    }
    o.c(CLOSE_OBJ);
  }

  private pos(t: Token): void {
    if (!this.positions) return;
    this.out.kn(F_POS_OFFSET, t.offset);
    this.out.kn(F_LENGTH, t.length);
  }

  /** Opens a token object: `{"type":"…"` [positions] and the first key, merged into one fragment when possible. */
  private open(t: Token, op: Opening): void {
    const o = this.out;
    if (!this.positions) {
      o.f(op.merged);
      return;
    }
    o.f(op.type);
    this.pos(t);
    o.f(op.key);
  }

  private isXnu(): boolean {
    if (this.xnuMode !== 'auto') return this.xnuMode;
    if (this.curXnu < 0) {
      const here = this.cur !== undefined && hasIdentity(this.cur);
      if (here && this.sticky) this.xnuSeen = true;
      this.curXnu = here || this.xnuSeen ? 1 : 0;
    }
    return this.curXnu === 1;
  }

  /** `key` + quoted address text. */
  private addr(key: Uint8Array, a: Buffer): void {
    const o = this.out;
    o.f(key);
    this.addrValue(a);
  }

  private addrValue(a: Buffer): void {
    const o = this.out;
    if (a.length === 4) {
      o.ipv4(a);
      return;
    }
    o.c(QUOTE);
    o.ascii(a.length === 16 ? ipv6Text(a, 0) : a.toString('hex'));
    o.c(QUOTE);
  }

  /** A string value by the string rule, plus `hexKey` + exact hex when the bytes are not valid UTF-8. */
  private strValue(hexKey: Uint8Array, b: Buffer): void {
    const o = this.out;
    if (!o.str(b)) {
      o.f(hexKey);
      o.hex(b);
    }
  }

  /** `key` + strValue. */
  private str(key: Uint8Array, hexKey: Uint8Array, b: Buffer): void {
    this.out.f(key);
    this.strValue(hexKey, b);
  }

  private token(t: Token): void {
    const o = this.out;
    switch (t.type) {
      case 'header32':
      case 'header32_ex':
      case 'header64':
      case 'header64_ex':
        // A header that is not the record's own (never produced by the decoder, but representable).
        this.header(t, false);
        return;
      case 'trailer':
        if (t.magic === 0xb105 && !this.positions) o.f(O_TRAILER_STD);
        else {
          this.open(t, O_TRAILER);
          o.u(t.magic);
          o.f(F_COUNT);
        }
        o.u(t.count);
        break;
      case 'file':
        this.open(t, O_FILE);
        this.time.write(o, t.sec, t.msec);
        o.kn(F_SEC, t.sec);
        o.kn(F_MSEC, t.msec);
        this.str(F_NAME, F_NAME_HEX, t.name);
        break;
      case 'data':
        this.open(t, O_DATA);
        this.data(t.howToPrint, t.unit, t.count, t.items);
        break;
      case 'ipc': {
        this.open(t, O_IPC);
        o.u(t.ipcType);
        const n = IPC_NAMES.get(t.ipcType);
        if (n !== undefined) o.f(n);
        o.kn(F_IPCID, t.ipcId);
        break;
      }
      case 'path':
        this.open(t, O_PATH);
        this.strValue(F_PATH_HEX, t.path);
        break;
      case 'subject32':
      case 'process32':
      case 'subject32_ex':
      case 'process32_ex':
      case 'subject64':
      case 'process64':
      case 'subject64_ex':
      case 'process64_ex':
        this.open(t, O_SUBJECTS.get(t.type)!);
        o.u(t.auid);
        o.kn(F_EUID, t.euid);
        o.kn(F_EGID, t.egid);
        o.kn(F_RUID, t.ruid);
        o.kn(F_RGID, t.rgid);
        o.kn(F_PID, t.pid);
        o.kn(F_SID, t.sid);
        o.f(F_PORT);
        if (typeof t.port === 'bigint') o.u64(t.port);
        else o.u(t.port);
        o.kn(F_ADDRTYPE, t.addrType);
        this.addr(F_ADDR, t.addr);
        break;
      case 'return32':
      case 'return64':
        if (this.positions) {
          o.f(typeFrag(t.type));
          this.pos(t);
          o.f(this.errno[t.status]);
          o.f(F_VALUE);
        } else o.f((t.type === 'return32' ? this.ret32 : this.ret64)[t.status]);
        if (typeof t.value === 'bigint') o.u64(t.value);
        else o.u(t.value);
        break;
      case 'text':
        this.open(t, O_TEXT);
        this.strValue(F_TEXT_HEX, t.text);
        break;
      case 'zonename':
        this.open(t, O_ZONENAME);
        this.strValue(F_ZONE_HEX, t.zone);
        break;
      case 'opaque':
        this.open(t, O_OPAQUE);
        o.hex(t.data);
        break;
      case 'in_addr':
        this.open(t, O_IN_ADDR);
        this.addrValue(t.addr);
        break;
      case 'in_addr_ex':
        this.open(t, O_IN_ADDR_EX);
        o.u(t.addrType);
        this.addr(F_ADDR, t.addr);
        break;
      case 'ip':
        this.open(t, O_IP);
        o.u(t.versionIhl);
        o.kn(F_TOS, t.tos);
        o.kn(F_TOTALLENGTH, t.totalLength);
        o.kn(F_IPID, t.ipId);
        o.kn(F_FRAGOFFSET, t.fragOffset);
        o.kn(F_TTL, t.ttl);
        o.kn(F_PROTOCOL, t.protocol);
        o.kn(F_CHECKSUM, t.checksum);
        this.addr(F_SRC, t.src);
        this.addr(F_DST, t.dst);
        break;
      case 'iport':
        this.open(t, O_IPORT);
        o.u(t.port);
        break;
      case 'arg32':
      case 'arg64':
        this.open(t, t.type === 'arg32' ? O_ARG32 : O_ARG64);
        o.u(t.argNo);
        o.f(F_VALUE);
        if (typeof t.value === 'bigint') o.u64(t.value);
        else o.u(t.value);
        this.str(F_TEXT, F_TEXT_HEX, t.text);
        break;
      case 'socket':
        this.open(t, O_SOCKET);
        o.u(t.sockType);
        o.kn(F_LOCALPORT, t.localPort);
        this.addr(F_LOCALADDR, t.localAddr);
        o.kn(F_REMOTEPORT, t.remotePort);
        this.addr(F_REMOTEADDR, t.remoteAddr);
        break;
      case 'seq':
        this.open(t, O_SEQ);
        o.u(t.seq);
        break;
      case 'ipc_perm':
        this.open(t, O_IPC_PERM);
        o.u(t.uid);
        o.kn(F_GID, t.gid);
        o.kn(F_CUID, t.cuid);
        o.kn(F_CGID, t.cgid);
        o.kn(F_MODE, t.mode);
        o.kn(F_SEQ, t.seq);
        o.kn(F_KEY, t.key);
        break;
      case 'privset':
        this.open(t, O_PRIVSET);
        this.strValue(F_PRIVTYPE_HEX, t.privType);
        this.str(F_PRIVSET, F_PRIVSET_HEX, t.privSet);
        break;
      case 'upriv':
        this.open(t, O_UPRIV);
        o.u(t.success);
        this.str(F_PRIV, F_PRIV_HEX, t.priv);
        break;
      case 'newgroups': {
        this.open(t, O_NEWGROUPS);
        o.c(0x5b);
        const g = t.groups;
        for (let i = 0; i < g.length; i++) {
          if (i) o.c(COMMA);
          o.u(g[i]);
        }
        o.c(CLOSE_ARR);
        break;
      }
      case 'exec_args':
      case 'exec_env':
      case 'path_attr':
      case 'krb5_principal':
      case 'cert_hash':
        this.open(t, O_STRING_LISTS.get(t.type)!);
        o.u(t.declaredCount);
        o.f(F_TRUNCATED);
        o.f(t.truncated ? F_TRUE : F_FALSE);
        this.stringList(t.strings);
        break;
      case 'attr32':
      case 'attr64':
        this.open(t, t.type === 'attr32' ? O_ATTR32 : O_ATTR64);
        o.u(t.mode);
        o.kn(F_UID, t.uid);
        o.kn(F_GID, t.gid);
        o.kn(F_FSID, t.fsid);
        o.f(F_NODEID);
        o.u64(t.nodeid);
        o.f(F_DEV);
        if (typeof t.dev === 'bigint') o.u64(t.dev);
        else o.u(t.dev);
        break;
      case 'exit':
        this.open(t, O_EXIT);
        o.u(t.status);
        o.kn(F_VALUE, t.value);
        break;
      case 'socket_ex': {
        this.open(t, O_SOCKET_EX);
        o.u(t.domain);
        const dn = DOMAIN_NAMES.get(t.domain);
        if (dn !== undefined) o.f(dn);
        o.kn(F_SOCKTYPE, t.sockType);
        const tn = SOCKTYPE_NAMES.get(t.sockType);
        if (tn !== undefined) o.f(tn);
        o.kn(F_ADDRTYPE, t.addrType);
        o.kn(F_LOCALPORT, t.localPort);
        this.addr(F_LOCALADDR, t.localAddr);
        o.kn(F_REMOTEPORT, t.remotePort);
        this.addr(F_REMOTEADDR, t.remoteAddr);
        break;
      }
      case 'sockinet32':
        this.open(t, O_SOCKINET32);
        o.u(t.family);
        o.kn(F_PORT, t.port);
        this.addr(F_ADDR, t.addr);
        break;
      case 'sockinet128': {
        const x = this.isXnu();
        this.open(t, O_SOCKINET128);
        o.u(t.family);
        o.kn(F_PORT, x ? ((t.port & 0xff) << 8) | (t.port >>> 8) : t.port);
        o.kn(F_PORTRECORDED, t.port);
        o.f(F_PORTSWAPPED);
        o.f(x ? F_TRUE : F_FALSE);
        this.addr(F_ADDR, t.addr);
        break;
      }
      case 'sockunix':
        this.open(t, O_SOCKUNIX);
        o.u(t.family);
        this.str(F_PATH, F_PATH_HEX, t.path);
        break;
      case 'rights':
        this.open(t, O_RIGHTS);
        o.c(0x5b);
        o.u64(t.rights[0]);
        o.c(COMMA);
        o.u64(t.rights[1]);
        o.c(CLOSE_ARR);
        break;
      case 'arg_uuid':
      case 'ret_uuid': {
        this.open(t, t.type === 'arg_uuid' ? O_ARG_UUID : O_RET_UUID);
        o.u(t.num);
        const h = t.uuid.toString('hex');
        o.f(F_UUID);
        o.c(QUOTE);
        o.ascii(h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20));
        o.c(QUOTE);
        this.str(F_TEXT, F_TEXT_HEX, t.text);
        break;
      }
      case 'identity':
        this.open(t, O_IDENTITY);
        o.u(t.signerType);
        this.str(F_SIGNINGID, F_SIGNINGID_HEX, t.signingId);
        o.kn(F_SIGNINGIDTRUNC, t.signingIdTruncated);
        this.str(F_TEAMID, F_TEAMID_HEX, t.teamId);
        o.kn(F_TEAMIDTRUNC, t.teamIdTruncated);
        o.f(F_CDHASH);
        o.hex(t.cdhash);
        break;
      case 'unknown':
        this.open(t, O_UNKNOWN);
        o.u(t.id);
        o.f(F_DATA);
        o.hex(t.data);
        break;
    }
    o.c(CLOSE_OBJ);
  }

  /** `,"strings":[…]`, plus `,"strings_hex":[…]` (hex of each invalid UTF-8 string, null for the others). */
  private stringList(strings: Buffer[]): void {
    const o = this.out;
    o.f(F_STRINGS);
    let bad = false;
    for (let i = 0; i < strings.length; i++) {
      if (i) o.c(COMMA);
      if (!o.str(strings[i])) bad = true;
    }
    o.c(CLOSE_ARR);
    if (!bad) return;
    o.f(F_STRINGS_HEX);
    const scratch = new ByteOut(256);
    for (let i = 0; i < strings.length; i++) {
      if (i) o.c(COMMA);
      scratch.pos = 0;
      if (scratch.str(strings[i])) o.f(F_NULL);
      else o.hex(strings[i]);
    }
    o.c(CLOSE_ARR);
  }

  /** Data token fields: raw items as hex plus one decoded value per item (docs/json-format.md "Data tokens"). */
  private data(how: number, unit: number, count: number, items: Buffer): void {
    const o = this.out;
    o.u(how);
    const fmt = FORMAT_NAMES.get(how);
    if (fmt !== undefined) o.f(fmt);
    o.kn(F_UNIT, unit);
    const un = UNIT_NAMES.get(unit);
    if (un !== undefined) o.f(un);
    o.kn(F_COUNT, count);
    o.f(F_ITEMS);
    o.hex(items);
    o.f(F_VALUES);
    const le = this.le;
    const n = items.length;
    switch (unit) {
      case 0:
        for (let i = 0; i < n; i++) {
          if (i) o.c(COMMA);
          o.u(items[i]);
        }
        break;
      case 1:
        for (let i = 0; i + 2 <= n; i += 2) {
          if (i) o.c(COMMA);
          o.u(le ? items.readUInt16LE(i) : items.readUInt16BE(i));
        }
        break;
      case 2:
        for (let i = 0; i + 4 <= n; i += 4) {
          if (i) o.c(COMMA);
          o.u(le ? items.readUInt32LE(i) : items.readUInt32BE(i));
        }
        break;
      case 3:
        for (let i = 0; i + 8 <= n; i += 8) {
          if (i) o.c(COMMA);
          o.u64(le ? items.readBigUInt64LE(i) : items.readBigUInt64BE(i));
        }
        break;
    }
    o.c(CLOSE_ARR);
    if (how === 4) this.str(F_TEXT, F_TEXT_HEX, items);
  }
}

/**
 * A renderer for a stream of records: caches per-renderer fragments (event names, the current day's time
 * prefix) and, with `xnu: 'auto'`, remembers once an identity token has shown the stream to be from XNU.
 */
export function createJsonRenderer(opts: JsonOptions = {}): JsonRenderer {
  return new Renderer(opts, true);
}

/** Renderers for recordToJson, one per options object, so repeated calls keep their caches. */
const byOptions = new WeakMap<JsonOptions, Renderer>();
const DEFAULTS: JsonOptions = {};

/** One record as a single JSON line without the newline. Stateless: the XNU rule looks at this record only. */
export function recordToJson(rec: BsmRecord, opts: JsonOptions = DEFAULTS): string {
  let r = byOptions.get(opts);
  if (!r) {
    r = new Renderer(opts, false);
    byOptions.set(opts, r);
  }
  return r.line(rec);
}
