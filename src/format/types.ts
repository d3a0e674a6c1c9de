/**
 * The raw record model: every value exactly as recorded.
 *
 * - Integers are unsigned as on the wire; 64-bit fields are `bigint`.
 * - Strings are `Buffer` views of the recorded bytes, including a terminating NUL when one was recorded
 *   (paths need not be UTF-8). Presentation layers (render/) turn them into text.
 * - Addresses are the raw 4 or 16 bytes.
 * - `offset` of a token is its byte offset inside the record; a record's `offset` is its byte offset in the source.
 *
 * Views share memory with the chunk they were framed from; that memory is never reused by bsmkit, so keeping
 * a record keeps its chunk alive. Copy (`Buffer.from(record.bytes)`) to keep a record without its chunk.
 */
export type Bytes = Buffer;

interface Base {
  /** Token id byte. */
  id: number;
  /** Byte offset of the token id inside the record (or frame). */
  offset: number;
  /** Total token length in bytes, id included. */
  length: number;
}

export interface Header32Token extends Base {
  type: 'header32';
  size: number;
  version: number;
  event: number;
  modifier: number;
  sec: number;
  msec: number;
}
export interface Header32ExToken extends Base {
  type: 'header32_ex';
  size: number;
  version: number;
  event: number;
  modifier: number;
  addrType: number;
  addr: Bytes;
  sec: number;
  msec: number;
}
export interface Header64Token extends Base {
  type: 'header64';
  size: number;
  version: number;
  event: number;
  modifier: number;
  sec: bigint;
  msec: bigint;
}
export interface Header64ExToken extends Base {
  type: 'header64_ex';
  size: number;
  version: number;
  event: number;
  modifier: number;
  addrType: number;
  addr: Bytes;
  sec: bigint;
  msec: bigint;
}
export type HeaderToken = Header32Token | Header32ExToken | Header64Token | Header64ExToken;

export interface TrailerToken extends Base {
  type: 'trailer';
  magic: number;
  count: number;
}
export interface FileToken extends Base {
  type: 'file';
  sec: number;
  msec: number;
  name: Bytes;
}
export interface DataToken extends Base {
  type: 'data';
  /** 0 binary, 1 octal, 2 decimal, 3 hex, 4 string; other values are kept as recorded. */
  howToPrint: number;
  /** 0 byte, 1 short, 2 int32, 3 int64. */
  unit: number;
  count: number;
  /** count × unit size bytes of the writer's host-order memory. */
  items: Bytes;
}
export interface IpcToken extends Base {
  type: 'ipc';
  ipcType: number;
  ipcId: number;
}
export interface PathToken extends Base {
  type: 'path';
  path: Bytes;
}

interface SubjectFields {
  auid: number;
  euid: number;
  egid: number;
  ruid: number;
  rgid: number;
  pid: number;
  sid: number;
  /** Address type of the terminal id: 4 for the non-_ex forms. */
  addrType: number;
  addr: Bytes;
}
export interface Subject32Token extends Base, SubjectFields {
  type: 'subject32' | 'process32' | 'subject32_ex' | 'process32_ex';
  port: number;
}
export interface Subject64Token extends Base, SubjectFields {
  type: 'subject64' | 'process64' | 'subject64_ex' | 'process64_ex';
  port: bigint;
}
export type SubjectToken = Subject32Token | Subject64Token;

export interface Return32Token extends Base {
  type: 'return32';
  /** A BSM errno (0 = success). */
  status: number;
  value: number;
}
export interface Return64Token extends Base {
  type: 'return64';
  status: number;
  value: bigint;
}
export interface TextToken extends Base {
  type: 'text';
  text: Bytes;
}
export interface ZonenameToken extends Base {
  type: 'zonename';
  zone: Bytes;
}
export interface OpaqueToken extends Base {
  type: 'opaque';
  data: Bytes;
}
export interface InAddrToken extends Base {
  type: 'in_addr';
  addr: Bytes;
}
export interface InAddrExToken extends Base {
  type: 'in_addr_ex';
  addrType: number;
  addr: Bytes;
}
export interface IpToken extends Base {
  type: 'ip';
  versionIhl: number;
  tos: number;
  totalLength: number;
  ipId: number;
  fragOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: Bytes;
  dst: Bytes;
}
export interface IportToken extends Base {
  type: 'iport';
  /** The 16-bit value as stored (network order read). */
  port: number;
}
export interface Arg32Token extends Base {
  type: 'arg32';
  argNo: number;
  value: number;
  text: Bytes;
}
export interface Arg64Token extends Base {
  type: 'arg64';
  argNo: number;
  value: bigint;
  text: Bytes;
}
export interface SocketToken extends Base {
  type: 'socket';
  sockType: number;
  localPort: number;
  localAddr: Bytes;
  remotePort: number;
  remoteAddr: Bytes;
}
export interface SeqToken extends Base {
  type: 'seq';
  seq: number;
}
export interface IpcPermToken extends Base {
  type: 'ipc_perm';
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  mode: number;
  seq: number;
  key: number;
}
export interface PrivsetToken extends Base {
  type: 'privset';
  privType: Bytes;
  privSet: Bytes;
}
export interface UprivToken extends Base {
  type: 'upriv';
  success: number;
  priv: Bytes;
}
export interface NewgroupsToken extends Base {
  type: 'newgroups';
  groups: number[];
}
/** exec args/env, path_attr, krb5 principal and certificate hash: a count and NUL-terminated strings. */
export interface StringListToken extends Base {
  type: 'exec_args' | 'exec_env' | 'path_attr' | 'krb5_principal' | 'cert_hash';
  /** The count as recorded. */
  declaredCount: number;
  /** The strings present, each with its NUL. */
  strings: Bytes[];
  /** True when fewer strings are present than declared (XNU truncation, bsm-format.md §5.4). */
  truncated: boolean;
}
export interface Attr32Token extends Base {
  type: 'attr32';
  mode: number;
  uid: number;
  gid: number;
  fsid: number;
  nodeid: bigint;
  dev: number;
}
export interface Attr64Token extends Base {
  type: 'attr64';
  mode: number;
  uid: number;
  gid: number;
  fsid: number;
  nodeid: bigint;
  dev: bigint;
}
export interface ExitToken extends Base {
  type: 'exit';
  status: number;
  value: number;
}
export interface SocketExToken extends Base {
  type: 'socket_ex';
  /** BSM domain constant. */
  domain: number;
  /** BSM socket type constant (STREAM = 2, DGRAM = 1). */
  sockType: number;
  addrType: number;
  localPort: number;
  localAddr: Bytes;
  remotePort: number;
  remoteAddr: Bytes;
}
export interface SockInet32Token extends Base {
  type: 'sockinet32';
  family: number;
  port: number;
  addr: Bytes;
}
export interface SockInet128Token extends Base {
  type: 'sockinet128';
  family: number;
  /** The port as recorded (XNU records it byte-swapped; see render for the corrected value). */
  port: number;
  addr: Bytes;
}
export interface SockUnixToken extends Base {
  type: 'sockunix';
  family: number;
  /** The path with its NUL. */
  path: Bytes;
}
export interface RightsToken extends Base {
  type: 'rights';
  rights: [bigint, bigint];
}
export interface UuidToken extends Base {
  type: 'arg_uuid' | 'ret_uuid';
  num: number;
  uuid: Bytes;
  text: Bytes;
}
export interface IdentityToken extends Base {
  type: 'identity';
  signerType: number;
  signingId: Bytes;
  signingIdTruncated: number;
  teamId: Bytes;
  teamIdTruncated: number;
  cdhash: Bytes;
}
/** A token id with no known layout: the bytes from the id up to the trailer. */
export interface UnknownToken extends Base {
  type: 'unknown';
  data: Bytes;
}

export type BodyToken =
  | TrailerToken
  | FileToken
  | DataToken
  | IpcToken
  | PathToken
  | SubjectToken
  | Return32Token
  | Return64Token
  | TextToken
  | ZonenameToken
  | OpaqueToken
  | InAddrToken
  | InAddrExToken
  | IpToken
  | IportToken
  | Arg32Token
  | Arg64Token
  | SocketToken
  | SeqToken
  | IpcPermToken
  | PrivsetToken
  | UprivToken
  | NewgroupsToken
  | StringListToken
  | Attr32Token
  | Attr64Token
  | ExitToken
  | SocketExToken
  | SockInet32Token
  | SockInet128Token
  | SockUnixToken
  | RightsToken
  | UuidToken
  | IdentityToken
  | UnknownToken;

export type Token = HeaderToken | BodyToken;
export type TokenType = Token['type'];

/** Problems in the data become values, never exceptions (style-anchors.md). */
export type DiagnosticCode =
  | 'BSM_E_JUNK'
  | 'BSM_E_BAD_SIZE'
  | 'BSM_E_BAD_TRAILER'
  | 'BSM_E_TRUNCATED'
  | 'BSM_E_BAD_TOKEN'
  | 'BSM_E_UNKNOWN_TOKEN'
  | 'BSM_E_SIZE_MISMATCH'
  | 'BSM_W_EXEC_ARGS_TRUNCATED'
  | 'BSM_W_DATA_FORMAT';

export interface Diagnostic {
  code: DiagnosticCode;
  /** Absolute byte offset in the source where the problem is. */
  offset: number;
  message: string;
  /** Absolute offset of the record the problem belongs to, if any. */
  recordOffset?: number;
  tokenId?: number;
  /** Bytes skipped while resynchronising (BSM_E_JUNK, BSM_E_BAD_SIZE). */
  skipped?: number;
  /** 'error' for damage, 'warning' for data that was decoded but is unusual. */
  severity: 'error' | 'warning';
}

export interface BsmRecord {
  /** 'record' for a header…trailer record; 'file-token' for a standalone file token between records. */
  kind: 'record' | 'file-token';
  /** Absolute byte offset of the record in its source. */
  offset: number;
  /** The record's bytes exactly as framed (for a record: header size bytes). */
  bytes: Bytes;
  /** The header token (absent for a standalone file token). */
  header?: HeaderToken;
  /** Every decoded token in order, header and trailer included. */
  tokens: Token[];
  /** True when every token decoded and ended exactly at a valid trailer. */
  intact: boolean;
  /** Problems found while decoding this record (empty when none). */
  diagnostics: Diagnostic[];
}
