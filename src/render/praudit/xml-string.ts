/**
 * praudit's escaping of exec args/env in XML (print_xml_string): stops at a NUL; `& < > " '` become entities;
 * other bytes go through vis(3) with VIS_CSTYLE in the C locale (graphic ASCII, space, tab and newline unchanged;
 * C escapes for \a \b \f \r \v; `\` doubled; `\^X` for controls, `\M-x` / `\M^X` for bytes ≥ 0x80, octal for
 * 0xa0). Output is a latin1 string (one char per byte).
 */

const TABLE: string[] = new Array(256);
for (let c = 0; c < 256; c++) TABLE[c] = encode(c);

function encode(c: number): string {
  switch (c) {
    case 0x26: return '&amp;';
    case 0x3c: return '&lt;';
    case 0x3e: return '&gt;';
    case 0x22: return '&quot;';
    case 0x27: return '&apos;';
    case 0x5c: return '\\\\';
    case 0x20: case 0x09: case 0x0a: return String.fromCharCode(c);
    case 0x07: return '\\a';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    case 0x0d: return '\\r';
    case 0x0b: return '\\v';
    case 0x00: return '\\0';
  }
  if (c > 0x20 && c < 0x7f) return String.fromCharCode(c);
  if ((c & 0x7f) === 0x20) return '\\' + c.toString(8).padStart(3, '0');
  let s = '\\';
  let v = c;
  if (v & 0x80) {
    v &= 0x7f;
    s += 'M';
  }
  if (v < 0x20 || v === 0x7f) return s + '^' + (v === 0x7f ? '?' : String.fromCharCode(v + 0x40));
  return s + '-' + String.fromCharCode(v);
}

/** Escapes the bytes of `b` up to its first NUL. */
export function xmlExecString(b: Buffer): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0) break;
    s += TABLE[c];
  }
  return s;
}
