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
import {
  typeFrag,
  F_OFFSET,
  F_LENGTH,
  F_TRUE,
  F_FALSE,
  F_DIAGS,
  F_RAW,
  F_POS_OFFSET,
  F_SIZE,
  F_VERSION,
  F_ADDRTYPE,
  F_ADDR,
  F_TIME,
  F_SEC,
  F_MSEC,
  F_COUNT,
  F_NAME,
  F_NAME_HEX,
  F_IPCID,
  F_PATH,
  F_PATH_HEX,
  F_EUID,
  F_EGID,
  F_RUID,
  F_RGID,
  F_PID,
  F_SID,
  F_PORT,
  F_VALUE,
  F_TEXT,
  F_TEXT_HEX,
  F_ZONE_HEX,
  F_DATA,
  F_TOS,
  F_TOTALLENGTH,
  F_IPID,
  F_FRAGOFFSET,
  F_TTL,
  F_PROTOCOL,
  F_CHECKSUM,
  F_SRC,
  F_DST,
  F_SOCKTYPE,
  F_LOCALPORT,
  F_LOCALADDR,
  F_REMOTEPORT,
  F_REMOTEADDR,
  F_SEQ,
  F_UID,
  F_GID,
  F_CUID,
  F_CGID,
  F_MODE,
  F_KEY,
  F_PRIVTYPE_HEX,
  F_PRIVSET,
  F_PRIVSET_HEX,
  F_PRIV,
  F_PRIV_HEX,
  F_TRUNCATED,
  F_STRINGS,
  F_STRINGS_HEX,
  F_NULL,
  F_FSID,
  F_NODEID,
  F_DEV,
  F_PORTRECORDED,
  F_PORTSWAPPED,
  F_UUID,
  F_SIGNINGID,
  F_SIGNINGID_HEX,
  F_SIGNINGIDTRUNC,
  F_TEAMID,
  F_TEAMID_HEX,
  F_TEAMIDTRUNC,
  F_CDHASH,
  F_UNIT,
  F_ITEMS,
  F_VALUES,
  F_D_CODE,
  F_D_SEVERITY,
  F_D_OFFSET,
  F_D_RECORDOFFSET,
  F_D_TOKENID,
  F_D_SKIPPED,
  F_D_MESSAGE,
  COMMA,
  QUOTE,
  CLOSE_OBJ,
  CLOSE_ARR,
  NL,
  Opening,
  opening,
  O_TRAILER,
  O_TRAILER_STD,
  O_FILE,
  O_DATA,
  O_IPC,
  O_PATH,
  O_SUBJECTS,
  O_TEXT,
  O_ZONENAME,
  O_OPAQUE,
  O_IN_ADDR,
  O_IN_ADDR_EX,
  O_IP,
  O_IPORT,
  O_ARG32,
  O_ARG64,
  O_SOCKET,
  O_SEQ,
  O_IPC_PERM,
  O_PRIVSET,
  O_UPRIV,
  O_NEWGROUPS,
  O_STRING_LISTS,
  O_ATTR32,
  O_ATTR64,
  O_EXIT,
  O_SOCKET_EX,
  O_SOCKINET32,
  O_SOCKINET128,
  O_SOCKUNIX,
  O_RIGHTS,
  O_ARG_UUID,
  O_RET_UUID,
  O_IDENTITY,
  O_UNKNOWN,
  KIND_HEADER,
  HEADER_INDEX,
  KIND_HEADER_SIZE,
  KIND_RECORD_TOKENS,
  KIND_FILE_TOKENS,
  F_TOKENS_AFTER_HEADER,
  F_END_CLEAN,
  DOMAIN_NAMES,
  SOCKTYPE_NAMES,
  IPC_NAMES,
  FORMAT_NAMES,
  UNIT_NAMES,
  errnoFrags,
  ret32Frags,
  ret64Frags,
} from './fragments.js';

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


function hasIdentity(rec: BsmRecord): boolean {
  const t = rec.tokens;
  for (let i = t.length - 1; i >= 0; i--) if (t[i].type === 'identity') return true;
  return false;
}

/** The renderer of decoded records. Exported for byte-json.ts, which shares its output, caches and XNU state. */
export class Renderer implements JsonRenderer {
  readonly out = new ByteOut();
  private readonly events?: EventDescriber;
  /** Event fragment per event number (`,"event":N[,"eventName":…,"eventDesc":…]`), filled on first use. */
  private readonly eventFrag: Array<Uint8Array | undefined> = new Array(65536);
  readonly time = new IsoTimeWriter();
  private readonly errno: Uint8Array[];
  /** Whole return-token openings up to the value, per status byte: `{"type":"return32","status":…,"value":`. */
  private readonly ret32: Uint8Array[];
  private readonly ret64: Uint8Array[];
  private readonly xnuMode: boolean | 'auto';
  /** A stream renderer in 'auto' mode has seen an identity token (shared with the byte renderer). */
  xnuSeen = false;
  private readonly le: boolean;
  private readonly positions: boolean;
  private readonly raw: boolean;
  /** The record being written and whether it counts as XNU (-1: not yet decided). */
  private cur: BsmRecord | undefined;
  private curXnu = -1;

  constructor(opts: JsonOptions, readonly sticky: boolean) {
    this.events = opts.events;
    this.xnuMode = opts.xnu ?? 'auto';
    this.le = opts.dataByteOrder !== 'be';
    this.positions = opts.tokenPositions === true;
    this.raw = opts.raw === true;
    this.errno = errnoFrags();
    this.ret32 = ret32Frags();
    this.ret64 = ret64Frags();
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
    // Sticky XNU detection: an identity token in any record marks the stream, whether or not that record has a
    // socket-inet6 token (docs/json-format.md "socket-inet6 ports").
    if (this.sticky && this.xnuMode === 'auto' && !this.xnuSeen && hasIdentity(rec)) this.xnuSeen = true;
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
  eventFields(event: number): Uint8Array {
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
