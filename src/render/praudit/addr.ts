/** Address text as praudit prints it: inet_ntoa for IPv4, glibc-style inet_ntop for IPv6 (bsm-format.md §7.2). */

/** Dotted quad of 4 bytes at `at`. */
export function ipv4(b: Buffer, at = 0): string {
  return b[at] + '.' + b[at + 1] + '.' + b[at + 2] + '.' + b[at + 3];
}

/**
 * inet_ntop(AF_INET6): the longest run (first of equals) of two or more zero groups becomes "::";
 * ::a.b.c.d and ::ffff:a.b.c.d keep their IPv4 tail in dotted form.
 */
export function ipv6(b: Buffer, at = 0): string {
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) w[i] = (b[at + 2 * i] << 8) | b[at + 2 * i + 1];
  const run = ipv6ZeroRun(b, at);
  const bestBase = run < 0 ? -1 : run >> 4, bestLen = run & 15;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      return s + ipv4(b, at + 12);
    }
    s += w[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ':';
  return s;
}

/**
 * The run of zero groups inet_ntop writes as "::" in the 16-byte address at b[at]: the longest (the first of equal
 * ones) of at least two groups, as `base << 4 | length`, or -1. Shared by the string and the byte renderers.
 */
export function ipv6ZeroRun(b: Uint8Array, at: number): number {
  let bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (b[at + 2 * i] === 0 && b[at + 2 * i + 1] === 0) {
      if (curBase === -1) { curBase = i; curLen = 1; } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen; }
  return bestBase !== -1 && bestLen >= 2 ? (bestBase << 4) | bestLen : -1;
}

/** An `_ex` address by its type (4 or 16); praudit prints `invalid` for any other type. */
export function ipEx(type: number, b: Buffer): string {
  return type === 4 ? ipv4(b) : type === 16 ? ipv6(b) : 'invalid';
}
