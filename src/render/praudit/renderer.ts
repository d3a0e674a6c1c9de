/**
 * praudit-compatible text and XML rendering of decoded records (bsm-format.md §7-§9).
 *
 * Output strings are latin1: each char code is one output byte, so recorded bytes (paths, data items) pass through
 * unchanged; write them with `Buffer.from(s, 'latin1')`. praudit's format oddities (§9.3) are reproduced; its
 * printing bugs (§9.2) and the token-walking bugs of §9.1 are not (docs/praudit-compat.md lists every difference).
 *
 * Everything that depends on the options (text or XML, raw, names, delimiter, zone) is decided once in
 * createPrauditRenderer; per token there is one switch and string concatenation.
 */
import type { BsmRecord, Bytes, DataToken, StringListToken, Token } from '../../format/types.js';
import { returnStatusTable } from '../errno.js';
import { hostPlatform, type Platform } from '../platform.js';
import { hostUserNames, type UserNames } from '../users.js';
import { ipEx, ipv4, ipv6 } from './addr.js';
import { createCtime, defaultTimeZone } from './ctime.js';
import { xmlExecString } from './xml-string.js';

/** What the printer needs from an event table (src/catalog/event-table.ts `EventTable` satisfies it). */
export interface EventDescriber {
  describe(num: number): { name: string; description: string } | undefined;
}

export interface PrauditOptions {
  /** -d: field delimiter (default `,`). */
  delimiter?: string;
  /** -l: one record per line. */
  oneLine?: boolean;
  /** -n: numeric uids/gids. */
  noResolve?: boolean;
  /** -r: raw numbers (token ids, events, errnos, times). */
  raw?: boolean;
  /** -s: event names instead of descriptions. */
  short?: boolean;
  /** -x: XML. */
  xml?: boolean;
  /** Whose praudit to imitate for errno texts (default: the host's). */
  platform?: Platform;
  /** IANA zone for times (default: the process TZ). */
  timeZone?: string;
  events: EventDescriber;
  /** uid/gid names (default: the host's /etc/passwd and /etc/group). */
  users?: UserNames;
}

export interface PrauditRenderer {
  /** Output before the first record (the XML prolog), possibly empty. */
  begin(): string;
  /** One record (or standalone file token), with its line ending(s). */
  record(rec: BsmRecord): string;
  /** Output after the last record (the XML footer), possibly empty. */
  end(): string;
}

/** praudit's token names (print_tok_type), plus names chosen for the ids upstream praudit cannot print. */
const TEXT_NAME: Record<Token['type'], string> = {
  header32: 'header', header32_ex: 'header_ex', header64: 'header', header64_ex: 'header_ex', trailer: 'trailer',
  file: 'file', data: 'arbitrary', ipc: 'IPC', path: 'path', subject32: 'subject', subject64: 'subject',
  subject32_ex: 'subject_ex', subject64_ex: 'subject_ex', process32: 'process', process64: 'process',
  process32_ex: 'process_ex', process64_ex: 'process_ex', return32: 'return', return64: 'return', text: 'text',
  zonename: 'zone', opaque: 'opaque', in_addr: 'ip addr', in_addr_ex: 'ip addr ex', ip: 'ip', iport: 'ip port',
  arg32: 'argument', arg64: 'argument', socket: 'socket', socket_ex: 'socket', seq: 'sequence', ipc_perm: 'IPC perm',
  privset: 'privilege', upriv: 'use of privilege', newgroups: 'group', exec_args: 'exec arg', exec_env: 'exec env',
  path_attr: 'path_attr', krb5_principal: 'krb5_principal', cert_hash: 'cert_hash', attr32: 'attribute',
  attr64: 'attribute', exit: 'exit', sockinet32: 'socket-inet', sockinet128: 'socket-inet6', sockunix: 'socket-unix',
  rights: 'rights', arg_uuid: 'arg_uuid', ret_uuid: 'ret_uuid', identity: 'identity', unknown: 'unknown',
};

/** praudit's token names by token id, for the ids the byte renderer prints (byte-renderer.ts). */
export const TEXT_NAME_BY_ID: readonly (string | undefined)[] = (() => {
  const t = new Array<string | undefined>(256);
  const ids: [number, Token['type']][] = [
    [0x14, 'header32'], [0x15, 'header32_ex'], [0x74, 'header64'], [0x79, 'header64_ex'], [0x13, 'trailer'], [0x11, 'file'],
    [0x21, 'data'], [0x22, 'ipc'], [0x23, 'path'], [0x24, 'subject32'], [0x75, 'subject64'], [0x7a, 'subject32_ex'],
    [0x7c, 'subject64_ex'], [0x26, 'process32'], [0x77, 'process64'], [0x7b, 'process32_ex'], [0x7d, 'process64_ex'],
    [0x27, 'return32'], [0x72, 'return64'], [0x28, 'text'], [0x60, 'zonename'], [0x29, 'opaque'], [0x2a, 'in_addr'],
    [0x7e, 'in_addr_ex'], [0x2b, 'ip'], [0x2c, 'iport'], [0x2d, 'arg32'], [0x71, 'arg64'], [0x2e, 'socket'],
    [0x7f, 'socket_ex'], [0x2f, 'seq'], [0x32, 'ipc_perm'], [0x38, 'privset'], [0x39, 'upriv'], [0x3b, 'newgroups'],
    [0x3c, 'exec_args'], [0x3d, 'exec_env'], [0x3e, 'attr32'], [0x73, 'attr64'], [0x52, 'exit'], [0x80, 'sockinet32'],
    [0x81, 'sockinet128'], [0x82, 'sockunix'],
  ];
  for (const [id, type] of ids) t[id] = TEXT_NAME[type];
  return t;
})();

const DATA_HOW = ['binary', 'octal', 'decimal', 'hex', 'string'];
const DATA_UNIT = ['byte', 'short', 'int', 'int64'];
const DATA_SIZE = [1, 2, 4, 8];
const IPC_TYPE = ['', 'Message IPC', 'Semaphore IPC', 'Shared Memory IPC'];

/** praudit's print_string: the bytes as latin1 chars, NUL bytes skipped. */
export function latin1NoNul(b: Bytes): string {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0) end--;
  const nul = b.indexOf(0);
  if (nul < 0 || nul >= end) return b.toString('latin1', 0, end);
  let s = '';
  for (let i = 0; i < end; i++) if (b[i] !== 0) s += String.fromCharCode(b[i]);
  return s;
}

/** C-string view: the bytes up to the first NUL (strlen semantics, used for exec args and socket-unix paths). */
function cstr(b: Bytes): string {
  const nul = b.indexOf(0);
  return b.toString('latin1', 0, nul < 0 ? b.length : nul);
}

/** `%#x`: 0 prints as `0`. */
function altHex(v: number): string {
  return v === 0 ? '0' : '0x' + v.toString(16);
}

/** print_mem: `0x` and two hex digits per byte; nothing at all for no bytes. */
function mem(b: Bytes): string {
  return b.length === 0 ? '' : '0x' + b.toString('hex');
}

function byteHex(v: number): string {
  return v < 16 ? '0x0' + v.toString(16) : '0x' + v.toString(16);
}

function uuidText(u: Bytes): string {
  const h = u.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** One data item as praudit's printf formats it (§9.3): host (little-endian) order, 32-bit conversions. */
function dataItems(t: DataToken): string {
  const size = DATA_SIZE[t.unit];
  const b = t.items;
  const how = t.howToPrint;
  let s = '';
  for (let i = 0, p = 0; i < t.count; i++, p += size) {
    // the item as the C varargs see it: u_char/u_int16_t promoted, u_int64_t read as its low 32 bits
    const v = size === 1 ? b[p] : size === 2 ? b.readUInt16LE(p) : b.readUInt32LE(p);
    switch (how) {
      case 0: s += ' ' + String.fromCharCode(v & 0xff); break;
      case 1: s += ' ' + v.toString(8); break;
      case 2: s += ' ' + (size >= 4 ? v | 0 : v); break;
      case 4: s += String.fromCharCode(v & 0xff); break;
      default: s += ' ' + v.toString(16); break; // 3 (hex), and unknown formats printed as hex (§9.1 #11)
    }
  }
  return s;
}

export function createPrauditRenderer(opts: PrauditOptions): PrauditRenderer {
  const D = opts.delimiter ?? ',';
  const raw = opts.raw === true;
  const xml = opts.xml === true;
  const oneLine = opts.oneLine === true;
  const numericIds = raw || opts.noResolve === true;
  const users = numericIds ? undefined : (opts.users ?? hostUserNames());
  const status = returnStatusTable(opts.platform ?? hostPlatform());
  const ctime = raw ? undefined : createCtime(opts.timeZone ?? defaultTimeZone());
  const events = opts.events;
  const short = opts.short === true;

  // ---- field formatters, fixed for this renderer ----
  const user = users
    ? (id: number): string => users.user(id) ?? String(id | 0)
    : (id: number): string => String(id | 0);
  const group = users
    ? (id: number): string => users.group(id) ?? String(id | 0)
    : (id: number): string => String(id | 0);
  const eventCache: (string | undefined)[] = new Array(65536);
  const event = (ev: number): string => {
    let s = eventCache[ev];
    if (s === undefined) {
      const e = raw ? undefined : events.describe(ev);
      s = e === undefined ? String(ev) : short ? e.name : e.description;
      eventCache[ev] = s;
    }
    return s;
  };
  const time32 = ctime ? (sec: number): string => ctime(sec) : (sec: number): string => String(sec);
  /** header64 seconds: ctime of the signed time_t; -r prints the full unsigned value (§9.2). */
  const time64 = ctime
    ? (sec: bigint): string => ctime(Number(BigInt.asIntN(64, sec)))
    : (sec: bigint): string => sec.toString();
  const msec = raw ? (ms: number | bigint): string => String(ms) : (ms: number | bigint): string => ` + ${ms} msec`;
  const retStatus = raw ? (n: number): string => String(n) : (n: number): string => status[n];
  const tokName = raw ? (t: Token): string => String(t.id) : (t: Token): string => TEXT_NAME[t.type];
  const ipcType = raw ? (n: number): string => String(n) : (n: number): string => (n >= 1 && n <= 3 ? IPC_TYPE[n] : String(n));

  // ---- text form: name, then each field after the delimiter ----
  function text(t: Token): string {
    const n = tokName(t);
    switch (t.type) {
      case 'header32':
        return n + D + t.size + D + t.version + D + event(t.event) + D + t.modifier + D + time32(t.sec) + D + msec(t.msec);
      case 'header64':
        return n + D + t.size + D + t.version + D + event(t.event) + D + t.modifier + D + time64(t.sec) + D + msec(t.msec);
      case 'header32_ex':
        return n + D + t.size + D + t.version + D + event(t.event) + D + t.modifier + D + ipEx(t.addrType, t.addr) + D +
          time32(t.sec) + D + msec(t.msec);
      case 'header64_ex':
        return n + D + t.size + D + t.version + D + event(t.event) + D + t.modifier + D + ipEx(t.addrType, t.addr) + D +
          time64(t.sec) + D + msec(t.msec);
      case 'trailer':
        return n + D + t.count;
      case 'arg32':
      case 'arg64':
        return n + D + t.argNo + D + '0x' + t.value.toString(16) + D + latin1NoNul(t.text);
      case 'arg_uuid':
      case 'ret_uuid':
        return n + D + t.num + D + uuidText(t.uuid) + D + latin1NoNul(t.text);
      case 'data':
        return n + D + (DATA_HOW[t.howToPrint] ?? String(t.howToPrint)) + D + DATA_UNIT[t.unit] + D + t.count + D + dataItems(t);
      case 'attr32':
      case 'attr64':
        return n + D + t.mode.toString(8) + D + user(t.uid) + D + group(t.gid) + D + t.fsid + D +
          BigInt.asIntN(64, t.nodeid) + D + t.dev;
      case 'exit':
        return n + D + 'Error ' + t.status + D + t.value;
      case 'exec_args':
      case 'exec_env':
      case 'path_attr':
      case 'krb5_principal':
      case 'cert_hash': {
        let s = n;
        for (const str of t.strings) s += D + cstr(str);
        return s;
      }
      case 'file':
        return n + D + time32(t.sec) + D + msec(t.msec) + D + latin1NoNul(t.name);
      case 'newgroups': {
        let s = n;
        for (const g of t.groups) s += D + group(g);
        return s;
      }
      case 'in_addr':
        return n + D + ipv4(t.addr);
      case 'in_addr_ex':
        return n + D + ipEx(t.addrType, t.addr);
      case 'ip':
        return n + D + byteHex(t.versionIhl) + D + byteHex(t.tos) + D + t.totalLength + D + t.ipId + D + t.fragOffset + D +
          byteHex(t.ttl) + D + byteHex(t.protocol) + D + t.checksum + D + ipv4(t.src) + D + ipv4(t.dst);
      case 'ipc':
        return n + D + ipcType(t.ipcType) + D + t.ipcId;
      case 'ipc_perm':
        return n + D + user(t.uid) + D + group(t.gid) + D + user(t.cuid) + D + group(t.cgid) + D + t.mode.toString(8) + D +
          t.seq + D + t.key;
      case 'iport':
        return n + D + altHex(t.port);
      case 'opaque':
        return n + D + t.data.length + D + mem(t.data);
      case 'path':
        return n + D + latin1NoNul(t.path);
      case 'text':
        return n + D + latin1NoNul(t.text);
      case 'zonename':
        return n + D + latin1NoNul(t.zone);
      case 'subject32':
      case 'subject64':
      case 'subject32_ex':
      case 'subject64_ex':
      case 'process32':
      case 'process64':
      case 'process32_ex':
      case 'process64_ex':
        return n + D + user(t.auid) + D + user(t.euid) + D + group(t.egid) + D + user(t.ruid) + D + group(t.rgid) + D +
          t.pid + D + t.sid + D + t.port + D + (t.id <= 0x77 ? ipv4(t.addr) : ipEx(t.addrType, t.addr));
      case 'return32':
        return n + D + retStatus(t.status) + D + t.value;
      case 'return64':
        return n + D + retStatus(t.status) + D + BigInt.asIntN(64, t.value);
      case 'seq':
        return n + D + t.seq;
      case 'socket':
        return n + D + t.sockType + D + t.localPort + D + ipv4(t.localAddr) + D + t.remotePort + D + ipv4(t.remoteAddr);
      case 'socket_ex':
        return n + D + altHex(t.domain) + D + altHex(t.sockType) + D + altHex(t.localPort) + D + ipEx(t.addrType, t.localAddr) +
          D + altHex(t.remotePort) + D + ipEx(t.addrType, t.remoteAddr);
      case 'sockinet32':
        return n + D + t.family + D + t.port + D + ipv4(t.addr);
      case 'sockinet128':
        return n + D + t.family + D + t.port + D + ipv6(t.addr);
      case 'sockunix':
        return n + D + t.family + D + cstr(t.path);
      case 'upriv':
        return n + D + (t.success ? 'successful use of priv' : 'failed use of priv') + D + latin1NoNul(t.priv);
      case 'privset':
        return n + D + latin1NoNul(t.privType) + D + latin1NoNul(t.privSet);
      case 'rights':
        return n + D + hex64(t.rights[0]) + D + hex64(t.rights[1]);
      case 'identity':
        return n + D + t.signerType + D + latin1NoNul(t.signingId) + D + completeness(t.signingIdTruncated) + D +
          latin1NoNul(t.teamId) + D + completeness(t.teamIdTruncated) + D + mem(t.cdhash);
      case 'unknown':
        return n + D + mem(t.data);
    }
  }

  // ---- XML form: praudit's elements and attribute order ----
  const attr = (name: string, v: string | number | bigint): string => name + '="' + v + '" ';
  function xmlToken(t: Token): string {
    switch (t.type) {
      case 'header32':
      case 'header64':
      case 'header32_ex':
      case 'header64_ex': {
        const wide = t.type === 'header64' || t.type === 'header64_ex';
        let s = '<record ' + attr('version', t.version) + attr('event', event(t.event)) + attr('modifier', t.modifier);
        if (t.type === 'header32_ex' || t.type === 'header64_ex') s += attr('host', ipEx(t.addrType, t.addr));
        return s + attr('time', wide ? time64(t.sec as bigint) : time32(t.sec as number)) + attr('msec', msec(t.msec)) + '>';
      }
      case 'trailer':
        return '</record>';
      case 'arg32':
      case 'arg64':
        return '<argument ' + attr('arg-num', t.argNo) + attr('value', '0x' + t.value.toString(16)) +
          attr('desc', latin1NoNul(t.text)) + '/>';
      case 'arg_uuid':
      case 'ret_uuid':
        return '<' + t.type + ' ' + attr(t.type + '-num', t.num) + attr('uuid', uuidText(t.uuid)) +
          attr('desc', latin1NoNul(t.text)) + '/>';
      case 'data':
        return '<arbitrary ' + attr('print', DATA_HOW[t.howToPrint] ?? String(t.howToPrint)) + attr('type', DATA_SIZE[t.unit]) +
          attr('count', t.count) + '>' + dataItems(t) + '</arbitrary>';
      case 'attr32':
      case 'attr64':
        return '<attribute ' + attr('mode', t.mode.toString(8)) + attr('uid', user(t.uid)) + attr('gid', group(t.gid)) +
          attr('fsid', t.fsid) + attr('nodeid', BigInt.asIntN(64, t.nodeid)) + attr('device', t.dev) + '/>';
      case 'exit':
        return '<exit ' + attr('errval', 'Error ' + t.status) + attr('retval', t.value) + '/>';
      case 'exec_args':
        return stringList(t, 'exec_args', 'arg');
      case 'exec_env':
        return stringList(t, 'exec_env', 'env');
      case 'path_attr':
        return stringList(t, 'path_attr', 'path');
      case 'krb5_principal':
        return stringList(t, 'krb5_principal', 'principal');
      case 'cert_hash':
        return stringList(t, 'cert_hash', 'hash');
      case 'file':
        return '<file ' + attr('time', time32(t.sec)) + attr('msec', msec(t.msec)) + '>' + latin1NoNul(t.name) + '</file>';
      case 'newgroups': {
        let s = '<group>';
        for (const g of t.groups) s += '<gid>' + group(g) + '</gid>';
        return s + '</group>';
      }
      case 'in_addr':
        return '<ip_address>' + ipv4(t.addr) + '</ip_address>';
      case 'in_addr_ex':
        return '<ip_address>' + ipEx(t.addrType, t.addr) + '</ip_address>';
      case 'ip':
        return '<ip ' + attr('version', byteHex(t.versionIhl)) + attr('service_type', byteHex(t.tos)) +
          attr('len', t.totalLength) + attr('id', t.ipId) + attr('offset', t.fragOffset) + attr('time_to_live', byteHex(t.ttl)) +
          attr('protocol', byteHex(t.protocol)) + attr('cksum', t.checksum) + attr('src_addr', ipv4(t.src)) +
          attr('dest_addr', ipv4(t.dst)) + '/>';
      case 'ipc':
        return '<IPC' + attr('ipc-type', ipcType(t.ipcType)) + attr('ipc-id', t.ipcId) + '/>';
      case 'ipc_perm':
        return '<IPC_perm ' + attr('uid', user(t.uid)) + attr('gid', group(t.gid)) + attr('creator-uid', user(t.cuid)) +
          attr('creator-gid', group(t.cgid)) + attr('mode', t.mode.toString(8)) + attr('seq', t.seq) + attr('key', t.key) + '/>';
      case 'iport':
        return '<ip_port>' + altHex(t.port) + '</ip_port>';
      case 'opaque':
        return '<opaque>' + mem(t.data) + '</opaque>';
      case 'path':
        return '<path>' + latin1NoNul(t.path) + '</path>';
      case 'text':
        return '<text>' + latin1NoNul(t.text) + '</text>';
      case 'zonename':
        return '<zone ' + attr('name', latin1NoNul(t.zone)) + '/>';
      case 'subject32':
      case 'subject64':
      case 'subject32_ex':
      case 'subject64_ex':
      case 'process32':
      case 'process64':
      case 'process32_ex':
      case 'process64_ex': {
        const el = t.type.startsWith('subject') ? '<subject ' : '<process ';
        // only subject32 separates port and address (print_4_bytes "%u "), §9.3
        const tid = t.port + (t.id === 0x24 ? ' ' : '') + (t.id <= 0x77 ? ipv4(t.addr) : ipEx(t.addrType, t.addr));
        return el + attr('audit-uid', user(t.auid)) + attr('uid', user(t.euid)) + attr('gid', group(t.egid)) +
          attr('ruid', user(t.ruid)) + attr('rgid', group(t.rgid)) + attr('pid', t.pid) + attr('sid', t.sid) +
          attr('tid', tid) + '/>';
      }
      case 'return32':
        return '<return ' + attr('errval', retStatus(t.status)) + attr('retval', t.value) + '/>';
      case 'return64':
        return '<return ' + attr('errval', retStatus(t.status)) + attr('retval', BigInt.asIntN(64, t.value)) + '/>';
      case 'seq':
        return '<sequence ' + attr('seq-num', t.seq) + '/>';
      case 'socket':
        return '<socket ' + attr('sock_type', t.sockType) + attr('lport', t.localPort) + attr('laddr', ipv4(t.localAddr)) +
          attr('fport', t.remotePort) + attr('faddr', ipv4(t.remoteAddr)) + '/>';
      case 'socket_ex':
        return '<socket ' + attr('sock_dom', altHex(t.domain)) + attr('sock_type', altHex(t.sockType)) +
          attr('lport', altHex(t.localPort)) + attr('laddr', ipEx(t.addrType, t.localAddr)) +
          attr('faddr', ipEx(t.addrType, t.remoteAddr)) + attr('fport', altHex(t.remotePort)) + '/>';
      case 'sockinet32':
        return '<socket-inet ' + attr('type', t.family) + attr('port', t.port) + attr('addr', ipv4(t.addr)) + '/>';
      case 'sockinet128':
        return '<socket-inet6 ' + attr('type', t.family) + attr('port', t.port) + attr('addr', ipv6(t.addr)) + '/>';
      case 'sockunix':
        return '<socket-unix ' + attr('type', t.family) + attr('port', '') + attr('addr', cstr(t.path)) + '/>';
      case 'upriv':
        return '<upriv ' + attr('status', t.success ? 'successful use of priv' : 'failed use of priv') +
          attr('name', latin1NoNul(t.priv)) + '/>';
      case 'privset':
        return '<privset ' + attr('type', latin1NoNul(t.privType)) + attr('priv', latin1NoNul(t.privSet)) + '/>';
      case 'rights':
        return '<rights ' + attr('rights0', hex64(t.rights[0])) + attr('rights1', hex64(t.rights[1])) + '/>';
      case 'identity':
        return '<identity ' + attr('signer-type', t.signerType) + attr('signing-id', latin1NoNul(t.signingId)) +
          attr('signing-id-truncated', completeness(t.signingIdTruncated)) + attr('team-id', latin1NoNul(t.teamId)) +
          attr('team-id-truncated', completeness(t.teamIdTruncated)) + attr('cdhash', mem(t.cdhash)) + '/>';
      case 'unknown':
        return '<unknown ' + attr('id', byteHex(t.id)) + attr('data', mem(t.data)) + '/>';
    }
  }

  function stringList(t: StringListToken, el: string, item: string): string {
    let s = '<' + el + '>';
    for (const str of t.strings) s += '<' + item + '>' + xmlExecString(str) + '</' + item + '>';
    return s + '</' + el + '>';
  }

  // ---- records: token separators per mode, chosen once ----
  const tokenEnd = oneLine ? (xml ? '' : D) : '\n';
  const recordEnd = oneLine ? '\n' : '';
  const fmt = xml ? xmlToken : text;

  return {
    begin: () => (xml ? "<?xml version='1.0' ?>\n<audit>\n" : ''),
    end: () => (xml ? '</audit>\n' : ''),
    record(rec: BsmRecord): string {
      const tokens = rec.tokens;
      if (tokens.length === 0) return '';
      let s = '';
      for (let i = 0; i < tokens.length; i++) s += fmt(tokens[i]) + tokenEnd;
      // A damaged record without its trailer still closes its element, so the XML stays well-formed.
      if (xml && rec.kind === 'record' && tokens[tokens.length - 1].type !== 'trailer') s += '</record>' + tokenEnd;
      return s + recordEnd;
    },
  };
}

function hex64(v: bigint): string {
  return '0x' + v.toString(16).padStart(16, '0');
}

/** The identity token's truncation flags as macOS praudit names them (0 = complete). */
function completeness(flag: number): string {
  return flag === 0 ? 'complete' : 'truncated';
}
