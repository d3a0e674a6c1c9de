/**
 * Linux FIFOs hold 64 KiB by default, so a large read response would be written in several steps, each waiting for
 * the reader. F_SETPIPE_SZ (through koffi, best effort) raises a response FIFO to 1 MiB: a read of a full queue is
 * then one write and one read. Elsewhere, or when it fails, FIFOs keep their size: only speed changes.
 */
import { createRequire } from 'node:module';

const F_SETPIPE_SZ = 1031;
type Fcntl = (fd: number, cmd: number, type: string, value: number) => number;
let fcntl: Fcntl | null | undefined;

function bind(): Fcntl | null {
  if (fcntl !== undefined) return fcntl;
  fcntl = null;
  if (process.platform !== 'linux') return fcntl;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as { load(n: string): { func(d: string): unknown } };
    fcntl = koffi.load('libc.so.6').func('int fcntl(int fd, int cmd, ...)') as Fcntl;
  } catch {
    fcntl = null;
  }
  return fcntl;
}

/** Asks for a FIFO buffer of `bytes` (capped by /proc/sys/fs/pipe-max-size); returns the size set, or -1. */
export function growFifo(fd: number, bytes = 1 << 20): number {
  const f = bind();
  if (!f) return -1;
  try {
    return f(fd, F_SETPIPE_SZ, 'int', bytes);
  } catch {
    return -1;
  }
}
