/**
 * Pipe setup in the order kernel-audit-pipe.md §19.3 gives: queue limit to the maximum, optional LOCAL preselection,
 * FLUSH, then the counter baseline the drop accounting starts from.
 */
import { BsmkitError } from '../../errors.js';
import { hostOrBuiltinClassTable, type ClassTable } from '../../catalog/class-table.js';
import { parseFlags, type AuMask } from '../../catalog/flags.js';
import {
  AUDITPIPE,
  DeviceError,
  ioctlGetCounter,
  ioctlGetU32,
  ioctlSetAuidMask,
  ioctlSetMask,
  ioctlSetU32,
  PRESELECT_MODE,
  type AuditPipeDevice,
} from './device.js';

/** A class expression in audit_control syntax ("lo,aa,+fr,^-fc") or masks. */
export type ClassExpr = string | AuMask;

/** LOCAL-mode preselection: the pipe selects kernel records with its own masks (§8.1). User records always come. */
export interface PipePreselection {
  /** Attributable records (auid set). Default: nothing. */
  flags?: ClassExpr;
  /** Non-attributable records (auid −1). Default: nothing. */
  naflags?: ClassExpr;
  /** Per-auid masks; they replace `flags` for that auid. */
  auids?: Array<{ auid: number; flags: ClassExpr }>;
  /** Class table for the names (default: the host's audit_class, else the built-in table). */
  classes?: ClassTable;
}

export interface PipeSetupOptions {
  /** 'max' (default): AUDITPIPE_GET_QLIMIT_MAX; a number is set as is (XNU accepts any value, FreeBSD [1, 1024]). */
  qlimit?: number | 'max';
  /** Switch to LOCAL mode with these masks; absent: TRAIL mode (the records the trail selects). */
  preselect?: PipePreselection;
  /** Discard what was queued before setup (default true). */
  flush?: boolean;
}

/** The state the drop accounting starts from. */
export interface PipeBaseline {
  qlimit: number;
  mode: 'trail' | 'local';
  /**
   * GET_DROPS right before the FLUSH (u32; without a FLUSH, before the setup). Read after it, records dropped
   * between the FLUSH and that reading (the queue filled within a few system calls) would be missed; read before,
   * a drop in the one system call before the FLUSH is counted as in the stream: the safe side.
   */
  drops: number;
  /** GET_INSERTS minus the records inserted since the FLUSH (u32): record 0 of the stream is insert base+1. */
  inserts: number;
  reads: number;
  /** False when the pipe was too busy to take a consistent snapshot (drop positions may be off at the start). */
  exact: boolean;
}

const U32 = 0x100000000;
const u32 = (v: number): number => ((v % U32) + U32) % U32;

export function maskOf(expr: ClassExpr, classes: ClassTable): AuMask {
  if (typeof expr === 'string') return parseFlags(expr, classes);
  return { success: expr.success >>> 0, failure: expr.failure >>> 0 };
}

/** Configures an opened pipe and takes the counter baseline. Throws a BsmkitError naming the failing step. */
export function configurePipe(dev: AuditPipeDevice, opts: PipeSetupOptions = {}): PipeBaseline {
  const step = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof BsmkitError && err.code.startsWith('BSMKIT_')) throw err;
      // the step names the request already: keep only the device's errno text ("invalid argument (EINVAL)")
      const text = err instanceof DeviceError ? err.message.replace(/^ioctl [^:]*: /, '') : (err as Error).message;
      throw new BsmkitError('BSMKIT_E_PIPE_SETUP', `audit pipe setup: ${what}: ${text}`, { cause: err });
    }
  };
  const flush = opts.flush ?? true;
  let dropsBefore = flush ? 0 : u32(step('AUDITPIPE_GET_DROPS', () => ioctlGetCounter(dev, AUDITPIPE.GET_DROPS)));
  const want = opts.qlimit ?? 'max';
  const limit = want === 'max' ? step('AUDITPIPE_GET_QLIMIT_MAX', () => ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT_MAX)) : want;
  step(`AUDITPIPE_SET_QLIMIT ${limit}`, () => ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, limit));
  const qlimit = step('AUDITPIPE_GET_QLIMIT', () => ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT));
  let mode: 'trail' | 'local' = 'trail';
  const pre = opts.preselect;
  if (pre) {
    const classes = pre.classes ?? hostOrBuiltinClassTable();
    const none: AuMask = { success: 0, failure: 0 };
    const flags = pre.flags === undefined ? none : maskOf(pre.flags, classes);
    const naflags = pre.naflags === undefined ? none : maskOf(pre.naflags, classes);
    const auids = (pre.auids ?? []).map((a) => ({ auid: a.auid >>> 0, mask: maskOf(a.flags, classes) }));
    step('AUDITPIPE_SET_PRESELECT_MODE LOCAL', () => ioctlSetU32(dev, AUDITPIPE.SET_PRESELECT_MODE, PRESELECT_MODE.LOCAL));
    step('AUDITPIPE_SET_PRESELECT_FLAGS', () => ioctlSetMask(dev, AUDITPIPE.SET_PRESELECT_FLAGS, flags));
    step('AUDITPIPE_SET_PRESELECT_NAFLAGS', () => ioctlSetMask(dev, AUDITPIPE.SET_PRESELECT_NAFLAGS, naflags));
    step('AUDITPIPE_FLUSH_PRESELECT_AUID', () => dev.ioctlSync(AUDITPIPE.FLUSH_PRESELECT_AUID, Buffer.alloc(4)));
    for (const a of auids) step(`AUDITPIPE_SET_PRESELECT_AUID ${a.auid}`, () => ioctlSetAuidMask(dev, a.auid, a.mask));
    mode = 'local';
  }
  if (flush) {
    dropsBefore = u32(step('AUDITPIPE_GET_DROPS', () => ioctlGetCounter(dev, AUDITPIPE.GET_DROPS)));
    step('AUDITPIPE_FLUSH', () => dev.ioctlSync(AUDITPIPE.FLUSH, Buffer.alloc(4)));
  }
  // Records keep arriving: take drops/inserts/qlen until two inserts readings agree around the qlen reading, so
  // `inserts − qlen` is the insert count at the FLUSH. (The drops baseline is the reading before the FLUSH.)
  let snap = { inserts: 0, exact: false };
  for (let i = 0; i < 50; i++) {
    const d1 = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS);
    const i1 = ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS);
    const q = ioctlGetU32(dev, AUDITPIPE.GET_QLEN);
    const i2 = ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS);
    const d2 = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS);
    // A full queue may already have dropped records that came after the FLUSH: we cannot tell, so not exact.
    snap = { inserts: u32(i2 - q), exact: i1 === i2 && d1 === d2 && q < qlimit };
    if (i1 === i2 && d1 === d2) break;
  }
  const reads = u32(ioctlGetCounter(dev, AUDITPIPE.GET_READS));
  return { qlimit, mode, drops: dropsBefore, inserts: snap.inserts, reads, exact: snap.exact };
}
