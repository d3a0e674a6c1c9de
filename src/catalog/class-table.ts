/**
 * audit_class: `mask:name:description` (config-files.md §2). Masks are 32-bit; libbsm reads them with
 * strtoul(…, 0), so hex and decimal both work.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BsmkitError } from '../errors.js';
import { diag, type CatalogDiagnostic } from './diagnostics.js';
import { contentLines, parseCUnsigned, splitFields } from './lines.js';
import { dataFile, decodeConfigBytes, DEFAULT_CONFIG_DIR } from './paths.js';

export interface AuditClass {
  /** Unsigned 32-bit mask. */
  mask: number;
  name: string;
  description: string;
  /** 1-based line in the file it came from (0 for classes made in code). */
  line: number;
}

/** libbsm limits (bsm/libbsm.h): name < 8 bytes, description < 72 bytes. */
export const AU_CLASS_NAME_MAX = 8;
export const AU_CLASS_DESC_MAX = 72;
export const AU_CLASS_ALL = 0xffffffff;
/** XNU protects this bit (au_class_protect()): it cannot be added or removed without an Apple entitlement. */
export const AU_CLASS_MASK_RESERVED = 0x10000000;

export class ClassTable {
  readonly #entries: readonly AuditClass[];
  readonly #byName = new Map<string, AuditClass>();

  constructor(entries: readonly AuditClass[]) {
    this.#entries = entries;
    for (const c of entries) if (!this.#byName.has(c.name)) this.#byName.set(c.name, c);
  }

  /** First line with this name, as libbsm's getauclassnam(). */
  byName(name: string): AuditClass | undefined {
    return this.#byName.get(name);
  }

  /** The first class whose mask is exactly `mask`. */
  byMask(mask: number): AuditClass | undefined {
    const m = mask >>> 0;
    return this.#entries.find((c) => c.mask === m);
  }

  entries(): readonly AuditClass[] {
    return this.#entries;
  }

  names(): ReadonlySet<string> {
    return new Set(this.#byName.keys());
  }

  /** Union of every class mask except `all` (0xffffffff): the bits that have a name. */
  usedBits(): number {
    let bits = 0;
    for (const c of this.#entries) if (c.mask !== AU_CLASS_ALL) bits |= c.mask;
    return bits >>> 0;
  }
}

export function parseAuditClass(text: string, file: string): { table: ClassTable; diagnostics: CatalogDiagnostic[] } {
  const diagnostics: CatalogDiagnostic[] = [];
  const entries: AuditClass[] = [];
  const seenNames = new Map<string, number>();
  const seenMasks = new Map<number, string>();
  for (const { line, text: t } of contentLines(text, file, diagnostics)) {
    const { fields, collapsed, hasEmptyInside } = splitFields(t);
    if (hasEmptyInside) {
      diagnostics.push(
        diag('CAT_W_EMPTY_FIELD', file, line, `empty field; libbsm collapses empty fields and reads mask ` +
          `'${collapsed[0] ?? ''}', name '${collapsed[1] ?? ''}', description '${collapsed[2] ?? ''}'; bsmkit reads ` +
          `the fields by position`),
      );
    }
    if (fields.length > 3) {
      diagnostics.push(diag('CAT_W_EXTRA_FIELD', file, line, `${fields.length - 3} extra field(s) after the description ignored`));
    }
    const [maskText = '', name = '', description] = fields;
    const mask = parseCUnsigned(maskText);
    if (mask === undefined || mask > AU_CLASS_ALL) {
      diagnostics.push(diag('CAT_E_NUMBER', file, line, `class mask '${maskText}' is not a 32-bit number; line skipped`));
      continue;
    }
    if (name === '') {
      diagnostics.push(diag('CAT_E_SYNTAX', file, line, 'class name is missing; line skipped'));
      continue;
    }
    if (description === undefined) {
      diagnostics.push(
        diag('CAT_W_EMPTY_FIELD', file, line, `class ${name} has no description field; libbsm rejects such a line`),
      );
    }
    if (Buffer.byteLength(name) >= AU_CLASS_NAME_MAX) {
      diagnostics.push(
        diag('CAT_W_TOO_LONG', file, line, `class name '${name}' is ${Buffer.byteLength(name)} bytes, libbsm keeps ` +
          `only ${AU_CLASS_NAME_MAX - 1}`),
      );
    }
    if (description !== undefined && Buffer.byteLength(description) >= AU_CLASS_DESC_MAX) {
      diagnostics.push(
        diag('CAT_W_TOO_LONG', file, line, `description of class ${name} is ${Buffer.byteLength(description)} bytes, ` +
          `libbsm keeps only ${AU_CLASS_DESC_MAX - 1}`),
      );
    }
    const prev = seenNames.get(name);
    if (prev !== undefined) {
      diagnostics.push(diag('CAT_W_DUPLICATE', file, line, `class ${name} already defined on line ${prev}; the first wins`));
    } else seenNames.set(name, line);
    if (mask !== 0 && mask !== AU_CLASS_ALL) {
      const other = seenMasks.get(mask);
      if (other !== undefined && other !== name) {
        diagnostics.push(
          diag('CAT_W_DUPLICATE', file, line, `class ${name} has the same mask 0x${hex8(mask)} as class ${other}`),
        );
      } else seenMasks.set(mask, name);
    }
    entries.push({ mask, name, description: description ?? '', line });
  }
  return { table: new ClassTable(entries), diagnostics };
}

export function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** One audit_class line in the upstream style: `0x00004000:ap:application`. */
export function formatAuditClassLine(c: Pick<AuditClass, 'mask' | 'name' | 'description'>): string {
  return `0x${hex8(c.mask)}:${c.name}:${c.description}`;
}

/** A whole audit_class file (comments are not kept; the class editor edits files in place instead). */
export function formatAuditClass(classes: Iterable<Pick<AuditClass, 'mask' | 'name' | 'description'>>): string {
  let s = '';
  for (const c of classes) s += formatAuditClassLine(c) + '\n';
  return s;
}

let builtin: ClassTable | undefined;

/**
 * The shipped default classes (OpenBSM's audit_class; macOS ships the same 20 classes, so one table serves both
 * platforms).
 */
export function builtinClassTable(): ClassTable {
  if (!builtin) {
    const path = dataFile('openbsm', 'audit_class');
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new BsmkitError('BSMKIT_E_CATALOG_MISSING', `built-in class table ${path} cannot be read`, { cause: err });
    }
    builtin = parseAuditClass(decodeConfigBytes(bytes), path).table;
  }
  return builtin;
}

export function loadAuditClassFile(path: string): { table: ClassTable; diagnostics: CatalogDiagnostic[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_CATALOG_READ', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseAuditClass(decodeConfigBytes(bytes), path);
}

const hostCache = new Map<string, { mtimeMs: number; size: number; table: ClassTable }>();

/** The host's audit_class when it exists, else the built-in table. Re-read only when the file changes. */
export function hostOrBuiltinClassTable(options: { dir?: string } = {}): ClassTable {
  const path = join(options.dir ?? DEFAULT_CONFIG_DIR, 'audit_class');
  let st;
  try {
    st = statSync(path);
  } catch {
    return builtinClassTable();
  }
  if (!st.isFile()) return builtinClassTable();
  const cached = hostCache.get(path);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.table;
  try {
    const { table } = loadAuditClassFile(path);
    hostCache.set(path, { mtimeMs: st.mtimeMs, size: st.size, table });
    return table;
  } catch {
    return builtinClassTable();
  }
}
