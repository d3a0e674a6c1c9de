/**
 * Wire protocol between a SimulatedPipeDevice (client, synchronous) and the kernel model process (server).
 *
 * Each opened pipe has its own FIFO pair in `<endpoint>/pipes/`: `<name>.req` (client → model) and `<name>.resp`
 * (model → client). The client announces the pair by writing `open <name>\n` to `<endpoint>/control.fifo`.
 * Requests and responses strictly alternate, and the model writes record bytes only in answer to a READ request of
 * at most the requested size: the queue lives in the model, never in an OS buffer, so qlimit semantics stay exact.
 *
 * request:  u32le bodyLength | u8 op | body
 * response: u32le payloadLength | u8 status (0 = ok, else an errno code below) | payload
 */

export const OP = {
  /** First request on a new pair; answered with ok or an open error (EBUSY). */
  HELLO: 1,
  /** body: u32le maximum bytes. ok payload: the bytes read (possibly several or partial records). */
  READ: 2,
  /** body: u32le request, then the copied-in argument (IOC_IN requests). ok payload: the copied-out argument. */
  IOCTL: 3,
  /** Closes the pipe (queued records are discarded). ok, then the model closes its ends. */
  CLOSE: 4,
} as const;

export const REQUEST_HEADER = 5;
export const RESPONSE_HEADER = 5;

/** Errno names carried in a response's status byte. */
export const ERRNO_CODES = ['', 'EAGAIN', 'EINTR', 'EINVAL', 'ENOENT', 'EBUSY', 'ENOTTY', 'ENXIO', 'EIO', 'EFAULT', 'EBADF'] as const;

export function errnoCode(name: string): number {
  const i = (ERRNO_CODES as readonly string[]).indexOf(name);
  return i > 0 ? i : ERRNO_CODES.indexOf('EIO');
}

export function errnoName(code: number): string {
  return ERRNO_CODES[code] ?? 'EIO';
}

/** Files of a model endpoint directory. */
export const ENDPOINT = {
  controlFifo: 'control.fifo',
  controlSocket: 'control.sock',
  pipesDir: 'pipes',
  info: 'model.json',
} as const;
