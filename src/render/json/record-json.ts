/**
 * BsmRecord → one NDJSON line (field reference: docs/json-format.md).
 *
 * Built by string concatenation rather than JSON.stringify of an object graph: the record model holds Buffers and
 * bigints that would need converting into a second, throw-away object tree first. Constant pieces (the errno and
 * event-name fragments) are computed once per renderer. Measured in bench/micro/json.bench.mjs.
 */
import type { BsmRecord, Diagnostic, HeaderToken, Token } from '../../format/types.js';
import { addrText } from './addr-text.js';
import { IsoTimeCache } from './iso-time.js';
import { stringField, stringLiteral, isUtf8Text } from './json-string.js';
import { socketDomainName } from '../tables/socket-domain.js';
import { socketTypeName } from '../tables/socket-type.js';
import { ipcTypeName, dataFormatName, dataUnitName } from '../tables/small-enums.js';
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
  /** One JSON object and a newline. */
  record(rec: BsmRecord): string;
}

/** Field keys as JSON fragments, built once. */
const K = (name: string): string => ',"' + name + '":';

function hex(b: Buffer): string {
  return '"' + b.toString('hex') + '"';
}

/** Decimal digits of a 64-bit value as a JSON string: exact in every JSON parser. */
function u64(v: bigint): string {
  return '"' + v.toString() + '"';
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}

function uuidText(b: Buffer): string {
  const h = b.toString('hex');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20, 32);
}

function hasIdentity(rec: BsmRecord): boolean {
  const t = rec.tokens;
  for (let i = t.length - 1; i >= 0; i--) if (t[i].type === 'identity') return true;
  return false;
}

/**
 * `,"status":N,"errno":"EX","errnoText":"…"` for every BSM errno byte value, built once. The name is omitted for
 * undefined numbers, the text for numbers OpenBSM's table has no text for (bsm-format.md §11.1).
 */
function errnoFragments(): string[] {
  const out = new Array<string>(256);
  for (let n = 0; n < 256; n++) {
    const e = bsmErrno(n);
    let s = ',"status":' + n;
    if (e.name !== undefined) s += ',"errno":' + JSON.stringify(e.name);
    if (e.text !== undefined) s += ',"errnoText":' + JSON.stringify(e.text);
    out[n] = s;
  }
  return out;
}
let ERRNO: string[] | undefined;

function diagnosticJson(d: Diagnostic): string {
  let s = '{"code":"' + d.code + '","severity":"' + d.severity + '","offset":' + d.offset;
  if (d.recordOffset !== undefined) s += ',"recordOffset":' + d.recordOffset;
  if (d.tokenId !== undefined) s += ',"tokenId":' + d.tokenId;
  if (d.skipped !== undefined) s += ',"skipped":' + d.skipped;
  return s + ',"message":' + JSON.stringify(d.message) + '}';
}

class Renderer implements JsonRenderer {
  private readonly events?: EventDescriber;
  /** Event fragment per event number, filled on first use (65,536 possible numbers). */
  private readonly eventFrag = new Map<number, string>();
  private readonly time = new IsoTimeCache();
  private readonly errno: string[];
  private readonly xnuMode: boolean | 'auto';
  private xnuSeen = false;
  private readonly le: boolean;
  private readonly positions: boolean;
  private readonly raw: boolean;
  /** Set per record: the record being rendered (for the XNU check). */
  private cur: BsmRecord | undefined;
  private curXnu = -1;

  constructor(opts: JsonOptions, private readonly sticky: boolean) {
    this.events = opts.events;
    this.xnuMode = opts.xnu ?? 'auto';
    this.le = opts.dataByteOrder !== 'be';
    this.positions = opts.tokenPositions === true;
    this.raw = opts.raw === true;
    this.errno = ERRNO ??= errnoFragments();
  }

  record(rec: BsmRecord): string {
    return this.line(rec) + '\n';
  }

  line(rec: BsmRecord): string {
    this.cur = rec;
    this.curXnu = -1;
    let s = '{"offset":' + rec.offset + ',"length":' + rec.bytes.length + ',"kind":"' + rec.kind + '","intact":' + rec.intact;
    const h = rec.header;
    if (h) s += ',"header":' + this.header(h);
    s += ',"tokens":[';
    const toks = rec.tokens;
    let first = true;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t === h) continue;
      s += first ? this.token(t) : ',' + this.token(t);
      first = false;
    }
    s += '],"diagnostics":[';
    const ds = rec.diagnostics;
    for (let i = 0; i < ds.length; i++) s += (i ? ',' : '') + diagnosticJson(ds[i]);
    s += ']';
    if (this.raw) s += ',"raw":' + hex(rec.bytes);
    this.cur = undefined;
    return s + '}';
  }

  private eventFields(event: number): string {
    let f = this.eventFrag.get(event);
    if (f === undefined) {
      f = ',"event":' + event;
      const d = this.events?.describe(event);
      if (d) f += ',"eventName":' + JSON.stringify(d.name) + ',"eventDesc":' + JSON.stringify(d.description);
      this.eventFrag.set(event, f);
    }
    return f;
  }

  private header(h: HeaderToken): string {
    let s = '{"type":"' + h.type + '"' + this.pos(h) + ',"size":' + h.size + ',"version":' + h.version;
    s += this.eventFields(h.event) + ',"modifier":' + h.modifier;
    if (h.type === 'header32_ex' || h.type === 'header64_ex') s += ',"addrType":' + h.addrType + ',"addr":"' + addrText(h.addr) + '"';
    if (h.type === 'header32' || h.type === 'header32_ex') {
      const t = this.time.text(h.sec, h.msec);
      s += ',"time":' + (t === null ? 'null' : '"' + t + '"') + ',"sec":' + h.sec + ',"msec":' + h.msec;
    } else {
      const t = this.time.text64(h.sec, h.msec);
      s += ',"time":' + (t === null ? 'null' : '"' + t + '"') + ',"sec":' + u64(h.sec) + ',"msec":' + u64(h.msec);
    }
    return s + '}';
  }

  private pos(t: Token): string {
    return this.positions ? ',"offset":' + t.offset + ',"length":' + t.length : '';
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

  private token(t: Token): string {
    let s = '{"type":"' + t.type + '"' + this.pos(t);
    switch (t.type) {
      case 'header32':
      case 'header32_ex':
      case 'header64':
      case 'header64_ex':
        // A header that is not the record's header (never produced by the decoder, but representable).
        return this.header(t);
      case 'trailer':
        return s + ',"magic":' + t.magic + ',"count":' + t.count + '}';
      case 'file': {
        const tm = this.time.text(t.sec, t.msec);
        s += ',"time":' + (tm === null ? 'null' : '"' + tm + '"') + ',"sec":' + t.sec + ',"msec":' + t.msec;
        return s + stringField(',"name":', ',"name_hex":', t.name) + '}';
      }
      case 'data':
        return s + this.data(t.howToPrint, t.unit, t.count, t.items) + '}';
      case 'ipc': {
        const n = ipcTypeName(t.ipcType);
        s += ',"ipcType":' + t.ipcType;
        if (n !== undefined) s += ',"ipcTypeName":"' + n + '"';
        return s + ',"ipcId":' + t.ipcId + '}';
      }
      case 'path':
        return s + stringField(',"path":', ',"path_hex":', t.path) + '}';
      case 'subject32':
      case 'process32':
      case 'subject32_ex':
      case 'process32_ex':
      case 'subject64':
      case 'process64':
      case 'subject64_ex':
      case 'process64_ex':
        return (
          s + ',"auid":' + t.auid + ',"euid":' + t.euid + ',"egid":' + t.egid + ',"ruid":' + t.ruid + ',"rgid":' + t.rgid +
          ',"pid":' + t.pid + ',"sid":' + t.sid + ',"port":' + (typeof t.port === 'bigint' ? u64(t.port) : t.port) +
          ',"addrType":' + t.addrType + ',"addr":"' + addrText(t.addr) + '"}'
        );
      case 'return32':
        return s + this.errno[t.status] + ',"value":' + t.value + '}';
      case 'return64':
        return s + this.errno[t.status] + ',"value":' + u64(t.value) + '}';
      case 'text':
        return s + stringField(',"text":', ',"text_hex":', t.text) + '}';
      case 'zonename':
        return s + stringField(',"zone":', ',"zone_hex":', t.zone) + '}';
      case 'opaque':
        return s + ',"data":' + hex(t.data) + '}';
      case 'in_addr':
        return s + ',"addr":"' + addrText(t.addr) + '"}';
      case 'in_addr_ex':
        return s + ',"addrType":' + t.addrType + ',"addr":"' + addrText(t.addr) + '"}';
      case 'ip':
        return (
          s + ',"versionIhl":' + t.versionIhl + ',"tos":' + t.tos + ',"totalLength":' + t.totalLength + ',"ipId":' + t.ipId +
          ',"fragOffset":' + t.fragOffset + ',"ttl":' + t.ttl + ',"protocol":' + t.protocol + ',"checksum":' + t.checksum +
          ',"src":"' + addrText(t.src) + '","dst":"' + addrText(t.dst) + '"}'
        );
      case 'iport':
        return s + ',"port":' + t.port + '}';
      case 'arg32':
        return s + ',"argNo":' + t.argNo + ',"value":' + t.value + stringField(',"text":', ',"text_hex":', t.text) + '}';
      case 'arg64':
        return s + ',"argNo":' + t.argNo + ',"value":' + u64(t.value) + stringField(',"text":', ',"text_hex":', t.text) + '}';
      case 'socket':
        return (
          s + ',"sockType":' + t.sockType + ',"localPort":' + t.localPort + ',"localAddr":"' + addrText(t.localAddr) +
          '","remotePort":' + t.remotePort + ',"remoteAddr":"' + addrText(t.remoteAddr) + '"}'
        );
      case 'seq':
        return s + ',"seq":' + t.seq + '}';
      case 'ipc_perm':
        return (
          s + ',"uid":' + t.uid + ',"gid":' + t.gid + ',"cuid":' + t.cuid + ',"cgid":' + t.cgid + ',"mode":' + t.mode +
          ',"seq":' + t.seq + ',"key":' + t.key + '}'
        );
      case 'privset':
        return (
          s + stringField(',"privType":', ',"privType_hex":', t.privType) +
          stringField(',"privSet":', ',"privSet_hex":', t.privSet) + '}'
        );
      case 'upriv':
        return s + ',"success":' + t.success + stringField(',"priv":', ',"priv_hex":', t.priv) + '}';
      case 'newgroups':
        return s + ',"groups":[' + t.groups.join(',') + ']}';
      case 'exec_args':
      case 'exec_env':
      case 'path_attr':
      case 'krb5_principal':
      case 'cert_hash':
        return s + ',"declaredCount":' + t.declaredCount + ',"truncated":' + t.truncated + stringList(t.strings) + '}';
      case 'attr32':
      case 'attr64':
        return (
          s + ',"mode":' + t.mode + ',"uid":' + t.uid + ',"gid":' + t.gid + ',"fsid":' + t.fsid + ',"nodeid":' + u64(t.nodeid) +
          ',"dev":' + (typeof t.dev === 'bigint' ? u64(t.dev) : t.dev) + '}'
        );
      case 'exit':
        return s + ',"status":' + t.status + ',"value":' + t.value + '}';
      case 'socket_ex': {
        const dn = socketDomainName(t.domain);
        const tn = socketTypeName(t.sockType);
        s += ',"domain":' + t.domain;
        if (dn !== undefined) s += ',"domainName":"' + dn + '"';
        s += ',"sockType":' + t.sockType;
        if (tn !== undefined) s += ',"sockTypeName":"' + tn + '"';
        return (
          s + ',"addrType":' + t.addrType + ',"localPort":' + t.localPort + ',"localAddr":"' + addrText(t.localAddr) +
          '","remotePort":' + t.remotePort + ',"remoteAddr":"' + addrText(t.remoteAddr) + '"}'
        );
      }
      case 'sockinet32':
        return s + ',"family":' + t.family + ',"port":' + t.port + ',"addr":"' + addrText(t.addr) + '"}';
      case 'sockinet128': {
        const x = this.isXnu();
        return (
          s + ',"family":' + t.family + ',"port":' + (x ? swap16(t.port) : t.port) + ',"portRecorded":' + t.port +
          ',"portSwapped":' + x + ',"addr":"' + addrText(t.addr) + '"}'
        );
      }
      case 'sockunix':
        return s + ',"family":' + t.family + stringField(',"path":', ',"path_hex":', t.path) + '}';
      case 'rights':
        return s + ',"rights":[' + u64(t.rights[0]) + ',' + u64(t.rights[1]) + ']}';
      case 'arg_uuid':
      case 'ret_uuid':
        return s + ',"num":' + t.num + ',"uuid":"' + uuidText(t.uuid) + '"' + stringField(',"text":', ',"text_hex":', t.text) + '}';
      case 'identity':
        return (
          s + ',"signerType":' + t.signerType + stringField(',"signingId":', ',"signingId_hex":', t.signingId) +
          ',"signingIdTruncated":' + t.signingIdTruncated + stringField(',"teamId":', ',"teamId_hex":', t.teamId) +
          ',"teamIdTruncated":' + t.teamIdTruncated + ',"cdhash":' + hex(t.cdhash) + '}'
        );
      case 'unknown':
        return s + ',"id":' + t.id + ',"data":' + hex(t.data) + '}';
    }
  }

  /** Data token fields: raw items as hex plus one decoded value per item (docs/json-format.md "Data tokens"). */
  private data(how: number, unit: number, count: number, items: Buffer): string {
    const fmt = dataFormatName(how);
    const un = dataUnitName(unit);
    let s = ',"howToPrint":' + how;
    if (fmt !== undefined) s += ',"format":"' + fmt + '"';
    s += ',"unit":' + unit;
    if (un !== undefined) s += ',"unitName":"' + un + '"';
    s += ',"count":' + count + ',"items":' + hex(items) + ',"values":[';
    const le = this.le;
    const n = items.length;
    switch (unit) {
      case 0:
        for (let i = 0; i < n; i++) s += (i ? ',' : '') + items[i];
        break;
      case 1:
        for (let i = 0; i + 2 <= n; i += 2) s += (i ? ',' : '') + (le ? items.readUInt16LE(i) : items.readUInt16BE(i));
        break;
      case 2:
        for (let i = 0; i + 4 <= n; i += 4) s += (i ? ',' : '') + (le ? items.readUInt32LE(i) : items.readUInt32BE(i));
        break;
      case 3:
        for (let i = 0; i + 8 <= n; i += 8) s += (i ? ',' : '') + u64(le ? items.readBigUInt64LE(i) : items.readBigUInt64BE(i));
        break;
    }
    s += ']';
    if (how === 4) s += stringField(',"text":', ',"text_hex":', items);
    return s;
  }
}

/** `,"strings":[…]` plus `,"strings_hex":[…]` (hex for each invalid UTF-8 string, null for the others) if needed. */
function stringList(strings: Buffer[]): string {
  let s = ',"strings":[';
  let bad = false;
  for (let i = 0; i < strings.length; i++) {
    s += (i ? ',' : '') + stringLiteral(strings[i]);
    if (!bad && !isUtf8Text(strings[i])) bad = true;
  }
  s += ']';
  if (bad) {
    s += ',"strings_hex":[';
    for (let i = 0; i < strings.length; i++) s += (i ? ',' : '') + (isUtf8Text(strings[i]) ? 'null' : hex(strings[i]));
    s += ']';
  }
  return s;
}

/**
 * A renderer for a stream of records: caches per-renderer fragments (event names, the current second's time
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
