/**
 * BSM token ids (sys/bsm/audit_record.h plus the Apple and FreeBSD extensions).
 * A plain object (not a const enum) so the ids are usable from JavaScript callers too.
 */
export const TokenId = {
  OTHER_FILE32: 0x11,
  OHEADER: 0x12,
  TRAILER: 0x13,
  HEADER32: 0x14,
  HEADER32_EX: 0x15,
  DATA: 0x21,
  IPC: 0x22,
  PATH: 0x23,
  SUBJECT32: 0x24,
  XATPATH: 0x25,
  PROCESS32: 0x26,
  RETURN32: 0x27,
  TEXT: 0x28,
  OPAQUE: 0x29,
  IN_ADDR: 0x2a,
  IP: 0x2b,
  IPORT: 0x2c,
  ARG32: 0x2d,
  SOCKET: 0x2e,
  SEQ: 0x2f,
  IPC_PERM: 0x32,
  PRIV: 0x38,
  UPRIV: 0x39,
  NEWGROUPS: 0x3b,
  EXEC_ARGS: 0x3c,
  EXEC_ENV: 0x3d,
  ATTR32: 0x3e,
  EXIT: 0x52,
  ZONENAME: 0x60,
  ARG64: 0x71,
  RETURN64: 0x72,
  ATTR64: 0x73,
  HEADER64: 0x74,
  SUBJECT64: 0x75,
  PROCESS64: 0x77,
  HEADER64_EX: 0x79,
  SUBJECT32_EX: 0x7a,
  PROCESS32_EX: 0x7b,
  SUBJECT64_EX: 0x7c,
  PROCESS64_EX: 0x7d,
  IN_ADDR_EX: 0x7e,
  SOCKET_EX: 0x7f,
  SOCKINET32: 0x80,
  SOCKINET128: 0x81,
  SOCKUNIX: 0x82,
  RIGHTS: 0x83,
  ARG_UUID: 0x84,
  RETURN_UUID: 0x85,
  IDENTITY: 0xed,
  KRB5_PRINCIPAL: 0xee,
  CERT_HASH: 0xef,
} as const;

export type TokenIdValue = (typeof TokenId)[keyof typeof TokenId];

/** The four header ids a record can start with. */
export function isHeaderId(id: number): boolean {
  return id === 0x14 || id === 0x15 || id === 0x74 || id === 0x79;
}

/** Trailer magic (AUT_TRAILER_MAGIC). */
export const TRAILER_MAGIC = 0xb105;
export const TRAILER_SIZE = 7;
/** MAXAUDITDATA: the largest kernel record. */
export const MAX_KERNEL_RECORD = 32767;
/** AQ_MAXBUFSZ: the largest user record audit(2) accepts; the default framing limit. */
export const MAX_USER_RECORD = 1024 * 1024;

/** BSM address types (the value is the address length). */
export const AU_IPv4 = 4;
export const AU_IPv6 = 16;

/** The auid of a non-attributable process (AU_DEFAUDITID). */
export const AU_DEFAUDITID = 0xffffffff;
