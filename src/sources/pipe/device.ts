/**
 * The audit pipe device as bsmkit sees it: the same synchronous interface for the real `/dev/auditpipe` (through a
 * native helper) and for the kernel model's simulated pipes (testing/kernel-model). The calls block, so they run on
 * a dedicated worker thread (kernel-audit-pipe.md §7, §19.4).
 */
import { BsmkitError } from '../../errors.js';

export interface AuditPipeDevice {
  /**
   * Blocking read (used on a dedicated worker thread): bytes read into buf[offset..offset+length); may return
   * several or partial records (kernel-audit-pipe.md §6). Throws a DeviceError: EAGAIN when non-blocking (FIONBIO)
   * and empty, EINTR when interrupted, ENXIO/EIO when the device went away.
   */
  readSync(buf: Buffer, offset: number, length: number): number;
  /**
   * ioctl with the request numbers of kernel-audit-pipe.md §10; arg is the in/out buffer (at least the size encoded
   * in the request). Throws a DeviceError carrying the errno name (EINVAL, ENOENT, EBUSY, ENOTTY, ...) on failure.
   */
  ioctlSync(request: number, arg: Buffer): void;
  close(): void;
}

/** Request numbers of sys/security/audit/audit_ioctl.h and sys/filio.h (identical on macOS and FreeBSD amd64). */
export const AUDITPIPE = {
  GET_QLEN: 0x40044101,
  GET_QLIMIT: 0x40044102,
  SET_QLIMIT: 0x80044103,
  GET_QLIMIT_MIN: 0x40044104,
  GET_QLIMIT_MAX: 0x40044105,
  GET_PRESELECT_FLAGS: 0x40084106,
  SET_PRESELECT_FLAGS: 0x80084107,
  GET_PRESELECT_NAFLAGS: 0x40084108,
  SET_PRESELECT_NAFLAGS: 0x80084109,
  GET_PRESELECT_AUID: 0x400c410a,
  SET_PRESELECT_AUID: 0x800c410b,
  DELETE_PRESELECT_AUID: 0x8004410c,
  FLUSH_PRESELECT_AUID: 0x2000410d,
  GET_PRESELECT_MODE: 0x4004410e,
  SET_PRESELECT_MODE: 0x8004410f,
  FLUSH: 0x20004110,
  GET_MAXAUDITDATA: 0x40044111,
  GET_INSERTS: 0x40084164,
  GET_READS: 0x40084165,
  GET_DROPS: 0x40084166,
  GET_TRUNCATES: 0x40084167,
  FIOASYNC: 0x8004667d,
  FIONBIO: 0x8004667e,
  FIONREAD: 0x4004667f,
} as const;

export type AuditPipeRequest = (typeof AUDITPIPE)[keyof typeof AUDITPIPE];

/** AUDITPIPE_PRESELECT_MODE_* values. */
export const PRESELECT_MODE = { TRAIL: 1, LOCAL: 2 } as const;

/** BSD _IOC direction bits (sys/ioccom.h). */
export const IOC_VOID = 0x20000000;
export const IOC_OUT = 0x40000000;
export const IOC_IN = 0x80000000;

/** The argument size encoded in a request number. */
export function ioctlArgSize(request: number): number {
  return (request >>> 16) & 0x1fff;
}

/** The request's name (for messages), or its hex value. */
export function ioctlName(request: number): string {
  for (const [name, value] of Object.entries(AUDITPIPE)) {
    if (value === request >>> 0) return name.startsWith('FIO') ? name : 'AUDITPIPE_' + name;
  }
  return '0x' + (request >>> 0).toString(16);
}

const errnoText: Record<string, string> = {
  EAGAIN: 'resource temporarily unavailable',
  EINTR: 'interrupted system call',
  EINVAL: 'invalid argument',
  ENOENT: 'no such entry',
  EBUSY: 'device busy',
  ENOTTY: 'inappropriate ioctl for device',
  ENXIO: 'device not configured',
  EIO: 'input/output error',
  EFAULT: 'bad address',
  EBADF: 'bad file descriptor',
};

/** A failed device call: `code` and `errno` are the errno name (EAGAIN, EINVAL, ...). */
export class DeviceError extends BsmkitError {
  readonly errno: string;
  constructor(errno: string, what: string, options?: { cause?: unknown }) {
    super(errno, `${what}: ${errnoText[errno] ?? errno} (${errno})`, options);
    this.errno = errno;
    this.name = 'DeviceError';
  }
}

/** True when err is a device error with the given errno name. */
export function isErrno(err: unknown, errno: string): boolean {
  return err instanceof BsmkitError && err.code === errno;
}

/** Runs an ioctl whose argument is one u_int/int and returns it (GET_QLEN, FIONREAD, ...). */
export function ioctlGetU32(dev: AuditPipeDevice, request: number): number {
  const arg = Buffer.alloc(Math.max(4, ioctlArgSize(request)));
  dev.ioctlSync(request, arg);
  return arg.readUInt32LE(0);
}

/** Runs an ioctl with one u_int/int input argument (SET_QLIMIT, FIONBIO, SET_PRESELECT_MODE, ...). */
export function ioctlSetU32(dev: AuditPipeDevice, request: number, value: number): void {
  const arg = Buffer.alloc(Math.max(4, ioctlArgSize(request)));
  arg.writeUInt32LE(value >>> 0, 0);
  dev.ioctlSync(request, arg);
}

/**
 * Reads a statistics counter (GET_INSERTS/READS/DROPS/TRUNCATES): an 8-byte buffer of which the kernels fill only
 * the low 32 bits, so the value wraps at 2^32 (kernel-audit-pipe.md §10). Returns the full 64-bit little-endian
 * value as a number so a kernel that ever reports 64 bits is not truncated here.
 */
export function ioctlGetCounter(dev: AuditPipeDevice, request: number): number {
  const arg = Buffer.alloc(8);
  dev.ioctlSync(request, arg);
  return Number(arg.readBigUInt64LE(0));
}

/** An au_mask_t: success and failure class masks. */
export interface AuMask {
  success: number;
  failure: number;
}

export function ioctlGetMask(dev: AuditPipeDevice, request: number): AuMask {
  const arg = Buffer.alloc(8);
  dev.ioctlSync(request, arg);
  return { success: arg.readUInt32LE(0), failure: arg.readUInt32LE(4) };
}

export function ioctlSetMask(dev: AuditPipeDevice, request: number, mask: AuMask): void {
  const arg = Buffer.alloc(8);
  arg.writeUInt32LE(mask.success >>> 0, 0);
  arg.writeUInt32LE(mask.failure >>> 0, 4);
  dev.ioctlSync(request, arg);
}

/** AUDITPIPE_SET_PRESELECT_AUID: struct auditpipe_ioctl_preselect { au_id_t aip_auid; au_mask_t aip_mask; }. */
export function ioctlSetAuidMask(dev: AuditPipeDevice, auid: number, mask: AuMask): void {
  const arg = Buffer.alloc(12);
  arg.writeUInt32LE(auid >>> 0, 0);
  arg.writeUInt32LE(mask.success >>> 0, 4);
  arg.writeUInt32LE(mask.failure >>> 0, 8);
  dev.ioctlSync(AUDITPIPE.SET_PRESELECT_AUID, arg);
}
