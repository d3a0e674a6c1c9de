/**
 * Line splitting shared by the four configuration file parsers. libbsm reads with fgets() and skips lines whose
 * first byte is '#'; it keeps everything else byte for byte, so fields are not trimmed here either.
 */
import { diag, type CatalogDiagnostic } from './diagnostics.js';

export interface ConfigLine {
  /** 1-based. */
  line: number;
  text: string;
}

/** The non-comment, non-blank lines of a file. A CRLF ending is removed with a warning. */
export function contentLines(text: string, file: string, diagnostics: CatalogDiagnostic[]): ConfigLine[] {
  const out: ConfigLine[] = [];
  const raw = text.split('\n');
  // A final newline leaves an empty last element that is not a line.
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  for (let i = 0; i < raw.length; i++) {
    let t = raw[i]!;
    if (t.endsWith('\r')) {
      t = t.slice(0, -1);
      diagnostics.push(diag('CAT_W_CRLF', file, i + 1, 'carriage return at end of line (CRLF file); removed'));
    }
    if (t.startsWith('#') || t.trim() === '') continue;
    out.push({ line: i + 1, text: t });
  }
  return out;
}

/**
 * Splits on ':' keeping empty fields (bsmkit's reading). `collapsed` is what libbsm's strtok_r(":") sees: empty
 * fields removed, so later fields shift left.
 */
export function splitFields(text: string): { fields: string[]; collapsed: string[]; hasEmptyInside: boolean } {
  const fields = text.split(':');
  const collapsed = fields.filter((f) => f !== '');
  // An empty field is only "inside" when a non-empty field follows it: a trailing empty field shifts nothing.
  let lastNonEmpty = -1;
  for (let i = fields.length - 1; i >= 0; i--) {
    if (fields[i] !== '') {
      lastNonEmpty = i;
      break;
    }
  }
  let hasEmptyInside = false;
  for (let i = 0; i < lastNonEmpty; i++) if (fields[i] === '') hasEmptyInside = true;
  return { fields, collapsed, hasEmptyInside };
}

/** Node's strtoul(s, 0)-alike for class masks: 0x… hex, 0… octal, decimal; whole string must be a number. */
export function parseCUnsigned(s: string): number | undefined {
  const t = s.trim();
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^0[0-7]+$/.test(t)) v = parseInt(t.slice(1), 8);
  else if (/^[0-9]+$/.test(t)) v = parseInt(t, 10);
  else return undefined;
  return Number.isSafeInteger(v) ? v : undefined;
}
