/** Small, valid BSM records for spool tests: header32, a text token of varying length, trailer. */
export function makeRecord(i: number, seed = 1): Buffer {
  const text = Buffer.from(`record ${seed}:${i} ${'x'.repeat((i * 7 + seed) % 90)}\0`);
  const size = 18 + 3 + text.length + 7;
  const b = Buffer.alloc(size);
  b[0] = 0x14;
  b.writeUInt32BE(size, 1);
  b[5] = 11;
  b.writeUInt16BE(6153, 6);
  b.writeUInt16BE(0, 8);
  b.writeUInt32BE(1_700_000_000 + i, 10);
  b.writeUInt32BE(i % 1000, 14);
  b[18] = 0x28;
  b.writeUInt16BE(text.length, 19);
  text.copy(b, 21);
  const t = 21 + text.length;
  b[t] = 0x13;
  b.writeUInt16BE(0xb105, t + 1);
  b.writeUInt32BE(size, t + 3);
  return b;
}

export function records(n: number, seed = 1): Buffer[] {
  return Array.from({ length: n }, (_, i) => makeRecord(i, seed));
}
