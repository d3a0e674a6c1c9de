/**
 * The audit flags syntax (`lo,+ex,-fr,^fa,^+fc,^-fd`), config-files.md §7: a comma list evaluated left to right
 * into success and failure masks, as libbsm's getauditflagsbin(); and back (getauditflagschar).
 */
import { BsmkitError } from '../errors.js';
import { AU_CLASS_ALL, type ClassTable } from './class-table.js';

/** au_mask_t: which classes are audited on success and on failure. Both unsigned 32-bit. */
export interface AuMask {
  success: number;
  failure: number;
}

export const EMPTY_MASK: Readonly<AuMask> = Object.freeze({ success: 0, failure: 0 });

export type FlagsResult = { ok: true; mask: AuMask } | { ok: false; error: string; item: string };

/**
 * Parses a flags string. An unknown class name makes the whole string invalid (EINVAL in libbsm). Empty items
 * (`lo,,aa`) are skipped, as strtok() does.
 */
export function tryParseFlags(text: string, classes: ClassTable): FlagsResult {
  let success = 0;
  let failure = 0;
  for (const item of text.split(',')) {
    // No trimming: libbsm compares names byte for byte, so ' aa' is an unknown class there too.
    const t = item;
    if (t === '') continue;
    let rest = t;
    let remove = false;
    if (rest.startsWith('^')) {
      remove = true;
      rest = rest.slice(1);
    }
    let side: 'both' | 'success' | 'failure' = 'both';
    if (rest.startsWith('+')) {
      side = 'success';
      rest = rest.slice(1);
    } else if (rest.startsWith('-')) {
      side = 'failure';
      rest = rest.slice(1);
    }
    const cls = classes.byName(rest);
    if (!cls) return { ok: false, error: `unknown audit class '${rest}'`, item: t };
    const m = cls.mask;
    if (remove) {
      if (side !== 'failure') success &= ~m;
      if (side !== 'success') failure &= ~m;
    } else {
      if (side !== 'failure') success |= m;
      if (side !== 'success') failure |= m;
    }
  }
  return { ok: true, mask: { success: success >>> 0, failure: failure >>> 0 } };
}

/** Like tryParseFlags, but throws a BsmkitError (code BSMKIT_E_FLAGS) naming the bad item. */
export function parseFlags(text: string, classes: ClassTable): AuMask {
  const r = tryParseFlags(text, classes);
  if (!r.ok) throw new BsmkitError('BSMKIT_E_FLAGS', `invalid audit flags '${text}': ${r.error}`);
  return r.mask;
}

/**
 * Formats masks as flags, the way getauditflagschar() does it but without its redundancy: `all` when every bit is
 * set on a side, otherwise each class (in table order, `no` and `all` skipped) whose whole mask is set: plain
 * when set on both sides, `+name` for success only, `-name` for failure only. Bits no class names are not
 * representable in the syntax; see unnamedBits().
 */
export function formatFlags(mask: AuMask, classes: ClassTable): string {
  const s = mask.success >>> 0;
  const f = mask.failure >>> 0;
  const out: string[] = [];
  let doneS = 0;
  let doneF = 0;
  const all = classes.byMask(AU_CLASS_ALL);
  if (all) {
    if (s === AU_CLASS_ALL && f === AU_CLASS_ALL) return all.name;
    if (s === AU_CLASS_ALL) {
      out.push('+' + all.name);
      doneS = AU_CLASS_ALL;
    } else if (f === AU_CLASS_ALL) {
      out.push('-' + all.name);
      doneF = AU_CLASS_ALL;
    }
  }
  for (const c of classes.entries()) {
    if (c.mask === 0 || c.mask === AU_CLASS_ALL) continue;
    const inS = (s & c.mask) >>> 0 === c.mask && (doneS & c.mask) >>> 0 !== c.mask;
    const inF = (f & c.mask) >>> 0 === c.mask && (doneF & c.mask) >>> 0 !== c.mask;
    if (inS && inF) out.push(c.name);
    else if (inS) out.push('+' + c.name);
    else if (inF) out.push('-' + c.name);
    if (inS) doneS |= c.mask;
    if (inF) doneF |= c.mask;
  }
  return out.join(',');
}

/** The bits of each side that no class in the table covers (custom bits applied to the kernel only, say). */
export function unnamedBits(mask: AuMask, classes: ClassTable): AuMask {
  const named = classes.usedBits();
  return { success: (mask.success & ~named) >>> 0, failure: (mask.failure & ~named) >>> 0 };
}

export function formatMaskHex(mask: AuMask): string {
  return `success 0x${(mask.success >>> 0).toString(16).padStart(8, '0')} failure 0x${(mask.failure >>> 0)
    .toString(16)
    .padStart(8, '0')}`;
}
