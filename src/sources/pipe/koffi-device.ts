/**
 * The real /dev/auditpipe, through koffi (FFI with prebuilt binaries for macOS and FreeBSD: no compiler at install
 * time, ecosystem.md §11). open(2), read(2), poll(2), close(2) and ioctl(2); auditon(2) for A_GETCLASS/A_SETCLASS.
 *
 * ioctl is declared variadic, as in <sys/ioctl.h>: on Apple arm64 variadic arguments travel on the stack, so a
 * fixed three-argument declaration would put the pointer in a register where the kernel stub never looks.
 */
import { createRequire } from 'node:module';
import { BsmkitError } from '../../errors.js';
import { DeviceError, type AuditPipeDevice } from './device.js';

/** The default device node. */
export const AUDITPIPE_PATH = '/dev/auditpipe';

/** auditon(2) commands of sys/bsm/audit.h (kernel-audit-pipe.md §9). */
export const A_GETCLASS = 22;
export const A_SETCLASS = 23;

/** A real pipe as it crosses to a worker thread (structured-clone safe). */
export interface AuditPipeHandle {
  kind: 'auditpipe';
  fd: number;
  path: string;
  libc: string;
}

export interface KoffiOpenOptions {
  /**
   * The C library to bind (default: libSystem.B.dylib on macOS, libc.so.7 on FreeBSD). Setting it also lifts the
   * platform check, which is only useful to exercise the FFI layer on another system (tests).
   */
  libc?: string;
}

/** The C library that holds open/read/ioctl/auditon on this platform, or null where there is no audit pipe. */
export function platformLibc(platform: NodeJS.Platform = process.platform): string | null {
  if (platform === 'darwin') return '/usr/lib/libSystem.B.dylib';
  if (platform === 'freebsd') return 'libc.so.7';
  return null;
}

interface Libc {
  open: (path: string, flags: number) => number;
  read: (fd: number, buf: Buffer, n: number) => number | bigint;
  ioctl: (fd: number, req: number, type: string, arg: Buffer) => number;
  poll: (fds: Buffer, n: number, timeout: number) => number;
  close: (fd: number) => number;
  auditon: (cmd: number, data: Buffer, len: number) => number;
  errno: () => number;
  errnoNames: Map<number, string>;
}

export type KoffiModule = {
  load(name: string): { func(decl: string): (...args: unknown[]) => unknown };
  errno(): number;
  os: { errno: Record<string, number> };
};

const libs = new Map<string, Libc>();

/** koffi, or a BSMKIT_E_NO_FFI error saying how to get it. */
export function loadKoffi(): KoffiModule {
  try {
    return createRequire(import.meta.url)('koffi') as KoffiModule;
  } catch (err) {
    throw new BsmkitError(
      'BSMKIT_E_NO_FFI',
      'the audit pipe needs the koffi package (npm install koffi), which could not be loaded: ' + (err as Error).message,
      { cause: err },
    );
  }
}

function bind(libcName: string): Libc {
  const cached = libs.get(libcName);
  if (cached) return cached;
  const koffi = loadKoffi();
  let lib: ReturnType<KoffiModule['load']>;
  try {
    lib = koffi.load(libcName);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_NO_FFI', `cannot load the C library ${libcName}: ${(err as Error).message}`, { cause: err });
  }
  // auditon is a plain syscall wrapper; it may be missing from a test libc (Linux), which is fine until it is used.
  let auditon: Libc['auditon'];
  try {
    auditon = lib.func('int auditon(int cmd, void *data, unsigned int length)') as Libc['auditon'];
  } catch {
    auditon = () => {
      throw new BsmkitError('BSMKIT_E_NO_AUDITON', `${libcName} has no auditon(2): this system has no BSM audit`);
    };
  }
  const l: Libc = {
    open: lib.func('int open(const char *path, int flags, ...)') as Libc['open'],
    read: lib.func('intptr_t read(int fd, void *buf, size_t nbytes)') as Libc['read'],
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)') as Libc['ioctl'],
    poll: lib.func('int poll(void *fds, unsigned int nfds, int timeout)') as Libc['poll'],
    close: lib.func('int close(int fd)') as Libc['close'],
    auditon,
    errno: () => koffi.errno(),
    errnoNames: errnoNamesOf(koffi),
  };
  libs.set(libcName, l);
  return l;
}

let errnoNameMap: Map<number, string> | undefined;

/** errno numbers to their names (EPERM, ...) on this OS. */
function errnoNamesOf(koffi: KoffiModule): Map<number, string> {
  if (!errnoNameMap) {
    errnoNameMap = new Map();
    for (const [name, value] of Object.entries(koffi.os.errno)) if (!errnoNameMap.has(value)) errnoNameMap.set(value, name);
  }
  return errnoNameMap;
}

/** The name of errno `n` (e.g. "EPERM"), or "E<n>". */
export function errnoText(koffi: KoffiModule, n: number): string {
  return errnoNamesOf(koffi).get(n) ?? `E${n}`;
}

function errnoOf(l: Libc): string {
  const e = l.errno();
  return l.errnoNames.get(e) ?? `E${e}`;
}

/** Why open("/dev/auditpipe") failed, in words that say what to do. */
function openFailure(path: string, errno: string): BsmkitError {
  const cause = new DeviceError(errno, `open ${path}`);
  switch (errno) {
    case 'ENOENT':
    case 'ENXIO':
    case 'ENODEV':
      return new BsmkitError(
        'BSMKIT_E_NO_AUDITPIPE',
        `${path} does not exist (${errno}): the kernel has no audit pipe. FreeBSD: a kernel with "options AUDIT" (GENERIC has it); macOS: the audit subsystem (see docs/audit-pipe.md).`,
        { cause },
      );
    case 'EACCES':
    case 'EPERM':
      return new BsmkitError(
        'BSMKIT_E_AUDITPIPE_ACCESS',
        `${path}: permission denied (${errno}): the device is mode 0600 root:wheel, run bsmkit as root (e.g. with sudo)`,
        { cause },
      );
    case 'EBUSY':
      return new BsmkitError('BSMKIT_E_AUDITPIPE_BUSY', `${path}: too many audit pipes open (EBUSY; macOS allows 32 at once)`, { cause });
    default:
      return new BsmkitError(`BSMKIT_E_AUDITPIPE_OPEN`, `cannot open ${path}: ${cause.message}`, { cause });
  }
}

export class KoffiPipeDevice implements AuditPipeDevice {
  readonly path: string;
  readonly libc: string;
  private fd: number;
  private readonly l: Libc;
  private handedOff = false;
  private readonly pollfd = Buffer.alloc(8);

  private constructor(path: string, libc: string, fd: number) {
    this.path = path;
    this.libc = libc;
    this.fd = fd;
    this.l = bind(libc);
    this.pollfd.writeInt32LE(fd, 0);
  }

  /**
   * Opens a new pipe (each open is an independent pipe: TRAIL mode, qlimit 128). Throws a BsmkitError saying what
   * is missing: BSMKIT_E_UNSUPPORTED_PLATFORM (not macOS or FreeBSD), BSMKIT_E_NO_AUDITPIPE, BSMKIT_E_AUDITPIPE_ACCESS
   * (not root), BSMKIT_E_AUDITPIPE_BUSY, BSMKIT_E_NO_FFI (koffi missing).
   */
  static open(path: string = AUDITPIPE_PATH, opts: KoffiOpenOptions = {}): KoffiPipeDevice {
    const libc = opts.libc ?? platformLibc();
    if (!libc) {
      throw new BsmkitError(
        'BSMKIT_E_UNSUPPORTED_PLATFORM',
        `${path}: the BSM audit pipe exists only on macOS and FreeBSD, not on ${process.platform}; on other systems read trail files, or a kernel model's simulated pipe (bsmkit simulate prints its endpoint DIR: collect --model DIR, tail --pipe-endpoint DIR)`,
      );
    }
    const l = bind(libc);
    // O_RDONLY (0 on every BSD); non-blocking mode is set later with FIONBIO, which the pipe honours (§7).
    const fd = l.open(path, 0);
    if (fd < 0) throw openFailure(path, errnoOf(l));
    return new KoffiPipeDevice(path, libc, fd);
  }

  /** Takes over a pipe handed over by handle() (on a worker thread). */
  static fromHandle(h: AuditPipeHandle): KoffiPipeDevice {
    return new KoffiPipeDevice(h.path, h.libc, h.fd);
  }

  /** Gives the open pipe to another thread (descriptors are process-wide); this object becomes inert. */
  handle(): AuditPipeHandle {
    if (this.fd < 0) throw new DeviceError('EBADF', 'handle');
    const h: AuditPipeHandle = { kind: 'auditpipe', fd: this.fd, path: this.path, libc: this.libc };
    this.handedOff = true;
    this.fd = -1;
    return h;
  }

  readSync(buf: Buffer, offset: number, length: number): number {
    if (offset < 0 || length < 0 || offset + length > buf.length) throw new DeviceError('EFAULT', 'read');
    if (this.fd < 0) throw new DeviceError('EBADF', 'read');
    const n = Number(this.l.read(this.fd, buf.subarray(offset, offset + length), length));
    if (n < 0) throw new DeviceError(errnoOf(this.l), `read ${this.path}`);
    return n;
  }

  ioctlSync(request: number, arg: Buffer): void {
    if (this.fd < 0) throw new DeviceError('EBADF', 'ioctl');
    if (this.l.ioctl(this.fd, request >>> 0, 'void *', arg) < 0) throw new DeviceError(errnoOf(this.l), `ioctl 0x${(request >>> 0).toString(16)} on ${this.path}`);
  }

  /** poll(2) for POLLIN: true when readable within timeoutMs. EINTR counts as not readable yet. */
  pollSync(timeoutMs: number): boolean {
    if (this.fd < 0) throw new DeviceError('EBADF', 'poll');
    this.pollfd.writeInt16LE(1, 4); // POLLIN
    this.pollfd.writeInt16LE(0, 6);
    const r = this.l.poll(this.pollfd, 1, Math.max(0, Math.floor(timeoutMs)));
    if (r < 0) {
      const e = errnoOf(this.l);
      if (e === 'EINTR') return false;
      throw new DeviceError(e, `poll ${this.path}`);
    }
    return r > 0;
  }

  close(): void {
    if (this.fd < 0 || this.handedOff) return;
    this.l.close(this.fd);
    this.fd = -1;
  }
}

/** au_evclass_map_t on LP64: { u16 ec_number; 2 bytes padding; u32 ec_class } (§9). */
function evclassBuf(event: number, mask: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(event & 0xffff, 0);
  b.writeUInt32LE(mask >>> 0, 4);
  return b;
}

function auditonLib(opts: KoffiOpenOptions): Libc {
  const libc = opts.libc ?? platformLibc();
  if (!libc) {
    throw new BsmkitError('BSMKIT_E_UNSUPPORTED_PLATFORM', `auditon(2) exists only on macOS and FreeBSD, not on ${process.platform}`);
  }
  return bind(libc);
}

function auditonFailure(l: Libc, what: string): BsmkitError {
  const errno = errnoOf(l);
  const cause = new DeviceError(errno, what);
  if (errno === 'EPERM' || errno === 'EACCES') {
    return new BsmkitError('BSMKIT_E_AUDITON_ACCESS', `${what}: permission denied (${errno}): changing the kernel's event→class map needs root (and on macOS the audit subsystem enabled)`, { cause });
  }
  if (errno === 'ENOSYS') return new BsmkitError('BSMKIT_E_NO_AUDITON', `${what}: the kernel has no audit support (ENOSYS)`, { cause });
  return cause;
}

/** auditon(A_GETCLASS): the kernel's class mask of an event. */
export function getKernelEventClass(event: number, opts: KoffiOpenOptions = {}): number {
  const l = auditonLib(opts);
  const b = evclassBuf(event, 0);
  if (l.auditon(A_GETCLASS, b, 8) < 0) throw auditonFailure(l, `auditon(A_GETCLASS, event ${event})`);
  return b.readUInt32LE(4);
}

/** auditon(A_SETCLASS): sets the kernel's class mask of an event (global: the trail's classification changes too). */
export function setKernelEventClass(event: number, mask: number, opts: KoffiOpenOptions = {}): void {
  const l = auditonLib(opts);
  if (l.auditon(A_SETCLASS, evclassBuf(event, mask), 8) < 0) throw auditonFailure(l, `auditon(A_SETCLASS, event ${event})`);
}

/** What addKernelClassBit changed, to undo it (persist it: after a crash, restore on the next start, §9). */
export interface ClassBitChange {
  event: number;
  before: number;
}

/**
 * The runtime custom class pattern (§9): ORs `bit` into the class mask of each event. Returns the original masks;
 * restoreKernelEventClasses() puts them back. Events whose mask already had the bit are not listed.
 */
export function addKernelClassBit(events: Iterable<number>, bit: number, opts: KoffiOpenOptions = {}): ClassBitChange[] {
  const changed: ClassBitChange[] = [];
  try {
    for (const event of events) {
      const before = getKernelEventClass(event, opts);
      if ((before & bit) === bit) continue;
      setKernelEventClass(event, (before | bit) >>> 0, opts);
      changed.push({ event, before });
    }
  } catch (err) {
    restoreKernelEventClasses(changed, opts);
    throw err;
  }
  return changed;
}

export function restoreKernelEventClasses(changes: readonly ClassBitChange[], opts: KoffiOpenOptions = {}): void {
  for (const c of [...changes].reverse()) setKernelEventClass(c.event, c.before, opts);
}
