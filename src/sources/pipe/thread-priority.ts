/**
 * Real-time scheduling for the thread that drains the audit pipe.
 *
 * The pipe's queue holds at most 1024 records: about 1 ms of records at 1M records/s (kernel-audit-pipe.md §4).
 * A reader that is runnable but waits for a CPU behind busy threads (its own process's, or the audited workload's)
 * for longer than that loses records. On the kernel model (bench pipe-drain, 2 cores) the pipe dropped 3.8–6.4% at
 * 1.2M records/s with the drain at normal priority, 0.4–1.8% at SCHED_FIFO (docs/audit-pipe.md, "Scheduling").
 *
 * Each OS has its own call, made by the thread on itself (koffi, as for the device):
 * - Linux: sched_setscheduler(0, SCHED_FIFO) (pid 0 is the calling thread); needs CAP_SYS_NICE or RLIMIT_RTPRIO.
 * - FreeBSD: rtprio_thread(RTP_SET, 0, {RTP_PRIO_REALTIME, prio}); needs root.
 * - macOS: pthread_set_qos_class_self_np(QOS_CLASS_USER_INTERACTIVE, 0), the highest QoS class; no privilege.
 * It must happen before the collector drops privileges. A refusal is reported, never fatal: the thread then runs
 * at normal priority.
 */
import { errnoText, loadKoffi, platformLibc } from './koffi-device.js';

export type DrainPriority = 'high' | 'normal';

export interface PriorityOutcome {
  requested: DrainPriority;
  applied: DrainPriority;
  /** What was set (e.g. "SCHED_FIFO 10"), or why nothing was (e.g. "sched_setscheduler: EPERM"). */
  detail: string;
}

/** Linux SCHED_FIFO priority: above every normal thread, well below the kernel's own real-time threads (50+). */
export const LINUX_FIFO_PRIORITY = 10;
/** FreeBSD RTP_PRIO_REALTIME priority (0 is the highest, 31 the lowest). */
export const FREEBSD_RT_PRIORITY = 10;

const SCHED_FIFO = 1;
const RTP_SET = 1;
const RTP_PRIO_REALTIME = 2;
const QOS_CLASS_USER_INTERACTIVE = 0x21;

/**
 * Asks for the highest scheduling the OS gives the calling thread without harm (`high`: real-time on Linux and
 * FreeBSD, the user-interactive QoS class on macOS), or leaves it alone (`normal`). Call it on the thread itself:
 * every call here applies to the caller.
 */
export function setThreadPriority(requested: DrainPriority, platform: NodeJS.Platform = process.platform): PriorityOutcome {
  if (requested === 'normal') return { requested, applied: 'normal', detail: 'as requested' };
  const refuse = (detail: string): PriorityOutcome => ({ requested, applied: 'normal', detail });
  try {
    const k = loadKoffi();
    const call = (lib: string, decl: string): ((...args: unknown[]) => number) => k.load(lib).func(decl) as (...args: unknown[]) => number;
    if (platform === 'linux') {
      const set = call('libc.so.6', 'int sched_setscheduler(int pid, int policy, const int *param)');
      if (set(0, SCHED_FIFO, [LINUX_FIFO_PRIORITY]) !== 0) return refuse(`sched_setscheduler: ${errnoText(k, k.errno())}`);
      return { requested, applied: 'high', detail: `SCHED_FIFO ${LINUX_FIFO_PRIORITY}` };
    }
    if (platform === 'freebsd') {
      const set = call(platformLibc('freebsd')!, 'int rtprio_thread(int function, int lwpid, void *rtp)');
      // struct rtprio { u_short type; u_short prio; }, in the machine's byte order (FreeBSD also runs big-endian)
      const rtp = new Uint16Array([RTP_PRIO_REALTIME, FREEBSD_RT_PRIORITY]);
      if (set(RTP_SET, 0, Buffer.from(rtp.buffer)) !== 0) return refuse(`rtprio_thread: ${errnoText(k, k.errno())}`);
      return { requested, applied: 'high', detail: `RTP_PRIO_REALTIME ${FREEBSD_RT_PRIORITY}` };
    }
    if (platform === 'darwin') {
      const set = call(platformLibc('darwin')!, 'int pthread_set_qos_class_self_np(unsigned int qos, int relpri)');
      const rc = set(QOS_CLASS_USER_INTERACTIVE, 0);
      if (rc !== 0) return refuse(`pthread_set_qos_class_self_np: ${errnoText(k, rc)}`);
      return { requested, applied: 'high', detail: 'QOS_CLASS_USER_INTERACTIVE' };
    }
    return refuse(`no real-time scheduling call known for ${platform}`);
  } catch (err) {
    return refuse((err as Error).message);
  }
}
