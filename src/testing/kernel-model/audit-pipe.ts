/**
 * One simulated audit pipe: the state `audit_pipe_alloc()` creates per open, its record queue and its ioctls
 * (kernel-audit-pipe.md §3–§8, §10, §18). Pure logic, no I/O: the server moves bytes, the kernel appends.
 */
import { AUDITPIPE, PRESELECT_MODE } from '../../sources/pipe/device.js';
import { preselect, type ClassMask } from './event-classes.js';

export type Personality = 'xnu' | 'freebsd';

export const QLIMIT_DEFAULT = 128;
export const QLIMIT_MIN = 1;
export const QLIMIT_MAX = 1024;
export const MAXAUDITDATA = 32767;
/** XNU MAX_AUDIT_PIPES: the 33rd concurrent open fails with EBUSY. */
export const XNU_MAX_PIPES = 32;

/** Why a record did not reach a pipe's queue. */
export type AppendResult = 'queued' | 'qlimit' | 'alloc';

/** Result of an ioctl: an errno name, or the bytes to copy out (IOC_OUT requests). */
export interface IoctlResult {
  errno?: string;
  out?: Buffer;
}

const U32 = 0x100000000;

/**
 * The queue: parallel arrays of (buffer, start, length, sequence number). Queued records point into the batch
 * buffers the workload generated: those are never written again, so they serve as the kernel's bcopy'd copies
 * without a copy per record, and a read copies runs of adjacent records at once.
 */
export class AuditPipe {
  readonly id: number;
  mode: number = PRESELECT_MODE.TRAIL;
  qlimit = QLIMIT_DEFAULT;
  flags: ClassMask = { success: 0, failure: 0 };
  naflags: ClassMask = { success: 0, failure: 0 };
  readonly auidMasks = new Map<number, ClassMask>();
  nbio = false;
  async = false;

  // Counters as unbounded numbers; the ioctls report them mod 2^32 like the kernels' u_int fields.
  inserts: number;
  reads: number;
  drops: number;

  private qbuf: Buffer[] = [];
  private qstart: number[] = [];
  private qlenOf: number[] = [];
  /** Ground-truth sequence number of each queued record. */
  private seqs: number[] = [];
  private head = 0;
  /** Bytes of all queued records (ap_qbyteslen) and bytes already read of the head record (ap_qoffset). */
  qbyteslen = 0;
  qoffset = 0;
  /** Sequence numbers of the records the last read() completed (kept only with `trackReads`). */
  lastReadSeqs: number[] = [];
  trackReads = false;

  constructor(id: number, counterBase = 0) {
    this.id = id;
    this.inserts = counterBase;
    this.reads = counterBase;
    this.drops = counterBase;
  }

  get qlen(): number {
    return this.qbuf.length - this.head;
  }

  /** LOCAL-mode check (audit_pipe_preselect_check): per-auid mask if set, else naflags (auid −1) or flags. */
  selectsLocal(auid: number, eventClass: number, failed: boolean): boolean {
    const mask = this.auidMasks.get(auid) ?? (auid === 0xffffffff ? this.naflags : this.flags);
    return preselect(eventClass, mask, failed);
  }

  /** Whether a kernel record goes to this pipe (audit_pipe_submit): TRAIL mode follows the trail bit. */
  wants(trailSelected: boolean, auid: number, eventClass: number, failed: boolean): boolean {
    if (this.mode === PRESELECT_MODE.TRAIL) return trailSelected;
    return this.selectsLocal(auid, eventClass, failed);
  }

  /**
   * audit_pipe_append for the record buf[start, start+len) (memory that is never written again): tail drop when
   * full, then the NOWAIT allocations (allocFails injects their failure).
   */
  append(buf: Buffer, start: number, len: number, allocFails: boolean, seq = 0): AppendResult {
    if (this.qbuf.length - this.head >= this.qlimit) {
      this.drops++;
      return 'qlimit';
    }
    if (allocFails) {
      this.drops++;
      return 'alloc';
    }
    this.qbuf.push(buf);
    this.qstart.push(start);
    this.qlenOf.push(len);
    this.seqs.push(seq);
    this.inserts++;
    this.qbyteslen += len;
    return 'queued';
  }

  /**
   * audit_pipe_read after the queue was found non-empty: copies across records until `max` bytes or the queue is
   * empty; a record leaves the queue only once fully read. Counts one read per call. Returns the bytes copied,
   * after `headroom` bytes left for the caller (the response header, saving a copy).
   */
  read(max: number, headroom = 0): Buffer {
    this.reads++;
    if (this.trackReads) this.lastReadSeqs = [];
    const avail = this.qbyteslen - this.qoffset;
    const out = Buffer.allocUnsafe(headroom + Math.min(max, avail));
    let n = headroom;
    const qbuf = this.qbuf;
    const qstart = this.qstart;
    const qlen = this.qlenOf;
    while (this.head < qbuf.length && n < out.length) {
      // a run of records adjacent in the same buffer is one copy
      const b = qbuf[this.head]!;
      const from = qstart[this.head]! + this.qoffset;
      let to = qstart[this.head]! + qlen[this.head]!;
      let room = out.length - n;
      if (to - from > room) {
        b.copy(out, n, from, from + room);
        this.qoffset += room;
        n += room;
        break;
      }
      this.completeHead();
      let h = this.head;
      while (h < qbuf.length && qbuf[h] === b && qstart[h] === to && to + qlen[h]! - from <= room) {
        to += qlen[h]!;
        h++;
        this.completeHead();
      }
      b.copy(out, n, from, to);
      n += to - from;
      room = out.length - n;
    }
    this.compact();
    return out;
  }

  /** The head record has been read completely: it leaves the queue. */
  private completeHead(): void {
    const h = this.head;
    this.qbyteslen -= this.qlenOf[h]!;
    this.qoffset = 0;
    if (this.trackReads) this.lastReadSeqs.push(this.seqs[h]!);
    this.qbuf[h] = undefined as unknown as Buffer;
    this.head = h + 1;
  }

  /** audit_pipe_flush: discard everything queued; no counter changes. Returns the number of records discarded. */
  flush(): number {
    const n = this.qlen;
    this.qbuf = [];
    this.qstart = [];
    this.qlenOf = [];
    this.seqs = [];
    this.head = 0;
    this.qbyteslen = 0;
    this.qoffset = 0;
    return n;
  }

  private compact(): void {
    if (this.head === this.qbuf.length) {
      this.qbuf.length = 0;
      this.qstart.length = 0;
      this.qlenOf.length = 0;
      this.seqs.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.qbuf.length) {
      const h = this.head;
      this.qbuf = this.qbuf.slice(h);
      this.qstart = this.qstart.slice(h);
      this.qlenOf = this.qlenOf.slice(h);
      this.seqs = this.seqs.slice(h);
      this.head = 0;
    }
  }

  /** Sequence numbers of the records queued now (head first). */
  queuedSeqs(): number[] {
    return this.seqs.slice(this.head);
  }

  /** audit_pipe_ioctl (plus FIONBIO/FIONREAD/FIOASYNC), for one personality. `arg` holds the copied-in bytes. */
  ioctl(request: number, arg: Buffer, personality: Personality): IoctlResult {
    const u32 = (v: number): IoctlResult => {
      const out = Buffer.alloc(4);
      out.writeUInt32LE(v >>> 0, 0);
      return { out };
    };
    // The u_int64_t statistics: the kernel stores a u_int into a zeroed 8-byte buffer (§10 quirk).
    const counter = (v: number): IoctlResult => {
      const out = Buffer.alloc(8);
      out.writeUInt32LE(v % U32, 0);
      return { out };
    };
    const mask = (m: ClassMask): IoctlResult => {
      const out = Buffer.alloc(8);
      out.writeUInt32LE(m.success >>> 0, 0);
      out.writeUInt32LE(m.failure >>> 0, 4);
      return { out };
    };
    const readMask = (b: Buffer, at: number): ClassMask => ({ success: b.readUInt32LE(at), failure: b.readUInt32LE(at + 4) });

    switch (request >>> 0) {
      case AUDITPIPE.FIONBIO:
        this.nbio = arg.readInt32LE(0) !== 0;
        return {};
      case AUDITPIPE.FIOASYNC:
        this.async = arg.readInt32LE(0) !== 0;
        return {};
      case AUDITPIPE.FIONREAD:
        return u32(this.qbyteslen - this.qoffset);
      case AUDITPIPE.GET_QLEN:
        return u32(this.qlen);
      case AUDITPIPE.GET_QLIMIT:
        return u32(this.qlimit);
      case AUDITPIPE.SET_QLIMIT: {
        const v = arg.readUInt32LE(0);
        // XNU keeps the `||` range check, which every u_int passes (§4); modern FreeBSD checks [MIN, MAX].
        if (personality === 'freebsd' && !(v >= QLIMIT_MIN && v <= QLIMIT_MAX)) return { errno: 'EINVAL' };
        this.qlimit = v;
        return {};
      }
      case AUDITPIPE.GET_QLIMIT_MIN:
        return u32(QLIMIT_MIN);
      case AUDITPIPE.GET_QLIMIT_MAX:
        return u32(QLIMIT_MAX);
      case AUDITPIPE.GET_PRESELECT_FLAGS:
        return mask(this.flags);
      case AUDITPIPE.SET_PRESELECT_FLAGS:
        this.flags = readMask(arg, 0);
        return {};
      case AUDITPIPE.GET_PRESELECT_NAFLAGS:
        return mask(this.naflags);
      case AUDITPIPE.SET_PRESELECT_NAFLAGS:
        this.naflags = readMask(arg, 0);
        return {};
      case AUDITPIPE.GET_PRESELECT_AUID: {
        // _IOR: the buffer arrives zeroed, so the lookup uses whatever is there (auid 0 through a real ioctl).
        const auid = arg.readUInt32LE(0);
        const m = this.auidMasks.get(auid);
        if (!m) return { errno: 'ENOENT' };
        const out = Buffer.alloc(12);
        out.writeUInt32LE(auid, 0);
        out.writeUInt32LE(m.success >>> 0, 4);
        out.writeUInt32LE(m.failure >>> 0, 8);
        return { out };
      }
      case AUDITPIPE.SET_PRESELECT_AUID:
        this.auidMasks.set(arg.readUInt32LE(0), readMask(arg, 4));
        return {};
      case AUDITPIPE.DELETE_PRESELECT_AUID:
        return this.auidMasks.delete(arg.readUInt32LE(0)) ? {} : { errno: 'ENOENT' };
      case AUDITPIPE.FLUSH_PRESELECT_AUID:
        this.auidMasks.clear();
        return {};
      case AUDITPIPE.GET_PRESELECT_MODE:
        return u32(this.mode);
      case AUDITPIPE.SET_PRESELECT_MODE: {
        const v = arg.readInt32LE(0);
        if (v !== PRESELECT_MODE.TRAIL && v !== PRESELECT_MODE.LOCAL) return { errno: 'EINVAL' };
        this.mode = v;
        return {};
      }
      case AUDITPIPE.FLUSH:
        this.flush();
        return {};
      case AUDITPIPE.GET_MAXAUDITDATA:
        return u32(MAXAUDITDATA);
      case AUDITPIPE.GET_INSERTS:
        return counter(this.inserts);
      case AUDITPIPE.GET_READS:
        return counter(this.reads);
      case AUDITPIPE.GET_DROPS:
        return counter(this.drops);
      case AUDITPIPE.GET_TRUNCATES:
        return counter(0);
      default:
        return { errno: 'ENOTTY' };
    }
  }
}
