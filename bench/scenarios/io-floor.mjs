// The I/O floor: read the file the way the decoder does (a read stream with 1 MiB chunks) and touch nothing.
// Every other scenario is compared with this one: it is what reading alone costs in the same kind of process.
import { createReadStream } from 'node:fs';

export const description = 'read the file in 1 MiB chunks, no decoding';

export default async function ioFloor({ file }) {
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) bytes += chunk.length;
  return { bytes, records: 0 };
}
