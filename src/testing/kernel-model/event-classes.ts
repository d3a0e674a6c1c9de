/**
 * The kernel's event→class map (what auditd loads from audit_event, kernel-audit-pipe.md §8.1) for the events the
 * model generates, plus au_preselect. Values are those of OpenBSM's etc/audit_event. The model keeps its own small
 * map so it does not depend on the catalog; A_SETCLASS-style changes go through `setEventClass`.
 */

/** Class bits of the default audit_class (config-files.md §2). */
export const AuditClass = {
  fr: 0x00000001,
  fw: 0x00000002,
  fa: 0x00000004,
  fm: 0x00000008,
  fc: 0x00000010,
  fd: 0x00000020,
  cl: 0x00000040,
  pc: 0x00000080,
  nt: 0x00000100,
  ip: 0x00000200,
  na: 0x00000400,
  ad: 0x00000800,
  lo: 0x00001000,
  aa: 0x00002000,
  ap: 0x00004000,
  io: 0x20000000,
  ex: 0x40000000,
  ot: 0x80000000,
} as const;

/** Event numbers the workload uses. */
export const AuditEvent = {
  EXIT: 1,
  FORK: 2,
  UNLINK: 6,
  EXECVE: 23,
  VFORK: 25,
  CONNECT: 32,
  ACCEPT: 33,
  OPEN_R: 72,
  OPEN_WC: 77,
  OPEN_RW: 80,
  CLOSE: 112,
  AUDIT: 211,
  LOGIN: 6152,
  LOGOUT: 6153,
  SU: 6159,
  OPENSSH: 32800,
  POSIX_SPAWN: 43190,
  SESSION_START: 44901,
  SESSION_UPDATE: 44902,
  SESSION_END: 44903,
  SESSION_CLOSE: 44904,
  AUDIT_STARTUP: 45000,
  AUDIT_SHUTDOWN: 45001,
  AUTH_USER: 45023,
  SUDO: 45028,
  AUDIT_RECOVERY: 45029,
} as const;

const C = AuditClass;
const defaults: Array<[number, number]> = [
  [AuditEvent.EXIT, C.pc],
  [AuditEvent.FORK, C.pc],
  [AuditEvent.UNLINK, C.fd],
  [AuditEvent.EXECVE, C.pc | C.ex],
  [AuditEvent.VFORK, C.pc],
  [AuditEvent.CONNECT, C.nt],
  [AuditEvent.ACCEPT, C.nt],
  [AuditEvent.OPEN_R, C.fr],
  [AuditEvent.OPEN_WC, C.fc | C.fw | C.fa | C.fm],
  [AuditEvent.OPEN_RW, C.fr | C.fw],
  [AuditEvent.CLOSE, C.cl],
  [AuditEvent.LOGIN, C.lo],
  [AuditEvent.LOGOUT, C.lo],
  [AuditEvent.SU, C.lo],
  [AuditEvent.OPENSSH, C.lo],
  [AuditEvent.POSIX_SPAWN, C.pc],
  [AuditEvent.AUDIT, C.ot],
  // macOS session events are not in OpenBSM's table; XNU's audit_event gives them class aa.
  [AuditEvent.SESSION_START, C.aa],
  [AuditEvent.SESSION_UPDATE, C.aa],
  [AuditEvent.SESSION_END, C.aa],
  [AuditEvent.SESSION_CLOSE, C.aa],
  [AuditEvent.AUDIT_STARTUP, C.ad],
  [AuditEvent.AUDIT_SHUTDOWN, C.ad],
  [AuditEvent.AUTH_USER, C.aa],
  [AuditEvent.SUDO, C.aa],
  [AuditEvent.AUDIT_RECOVERY, C.ad],
];

/** The mutable event→class table of one simulated kernel (auditon A_GETCLASS / A_SETCLASS). */
export class EventClassMap {
  private readonly map = new Map<number, number>(defaults);

  classOf(event: number): number {
    return this.map.get(event) ?? 0;
  }

  setEventClass(event: number, mask: number): void {
    this.map.set(event & 0xffff, mask >>> 0);
  }
}

export interface ClassMask {
  success: number;
  failure: number;
}

export const NO_MASK: ClassMask = { success: 0, failure: 0 };

/** au_preselect on the real outcome (config-files.md §8.1): class 0 is never selected. */
export function preselect(eventClass: number, mask: ClassMask, failed: boolean): boolean {
  const effective = failed ? mask.failure : mask.success;
  return (effective & eventClass) !== 0;
}

/** Parses "pc,ex" / "0x80" / "all" into a class bitmask (success and failure alike); "+x"/"-x" forms select one side. */
export function parseFlags(flags: string): ClassMask {
  const out = { success: 0, failure: 0 };
  for (const raw of flags.split(',').map((s) => s.trim()).filter(Boolean)) {
    let side: 'both' | 'success' | 'failure' = 'both';
    let name = raw;
    if (name.startsWith('+')) {
      side = 'success';
      name = name.slice(1);
    } else if (name.startsWith('-')) {
      side = 'failure';
      name = name.slice(1);
    }
    const bits =
      name === 'all' ? 0xffffffff : /^0x[0-9a-f]+$/i.test(name) ? parseInt(name, 16) >>> 0 : (AuditClass as Record<string, number>)[name];
    if (bits === undefined) throw new Error(`unknown audit class '${name}'`);
    if (side !== 'failure') out.success = (out.success | bits) >>> 0;
    if (side !== 'success') out.failure = (out.failure | bits) >>> 0;
  }
  return out;
}
