/**
 * IPv4 / IPv6 address text from raw address bytes, as glibc inet_ntop prints it (the reference praudit output
 * uses inet_ntop too, so the NDJSON and text forms of one address agree).
 */

/** "0".."255", built once: dotted quads are four lookups and three concatenations. */
const DEC: string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Dotted quad of 4 bytes at `o`. */
export function ipv4Text(b: Uint8Array, o = 0): string {
  return DEC[b[o]] + '.' + DEC[b[o + 1]] + '.' + DEC[b[o + 2]] + '.' + DEC[b[o + 3]];
}

/**
 * IPv6 text of 16 bytes at `o`: lowercase hex groups without leading zeros, the first longest run of two or more
 * zero groups written as "::", and the IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms
 * ending in a dotted quad, exactly as glibc's inet_ntop6.
 */
export function ipv6Text(b: Uint8Array, o = 0): string {
  const w = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) w[i] = (b[o + 2 * i] << 8) | b[o + 2 * i + 1];
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase >= 0) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && curLen > bestLen) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    // Embedded IPv4 (glibc: only when the zero run starts at 0 and covers words 0-5, or 0-4 with ffff in word 5).
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      return s + ipv4Text(b, o + 12);
    }
    s += w[i].toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) s += ':';
  return s;
}

/** Text of a 4- or 16-byte address; any other length (never produced by the decoder) becomes hex. */
export function addrText(b: Uint8Array): string {
  if (b.length === 4) return ipv4Text(b, 0);
  if (b.length === 16) return ipv6Text(b, 0);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}
