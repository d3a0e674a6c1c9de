/**
 * audit_event: `number:AUE_name:description:class[,class…]` (config-files.md §3, §11).
 *
 * Lookups are maps built once: praudit re-parses the file linearly for every record, which is its main cost.
 * Duplicate numbers are kept: names come from the first line (getauevnum), classes from the last (au_preselect).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BsmkitError } from '../errors.js';
import { diag, type CatalogDiagnostic } from './diagnostics.js';
import { contentLines, splitFields } from './lines.js';
import { dataFile, decodeConfigBytes, DEFAULT_CONFIG_DIR, hostPlatform, type Platform } from './paths.js';

export interface EventEntry {
  number: number;
  name: string;
  description: string;
  /** Class list items as written (a flags list: `pc,ex`; prefixes kept). Empty when the field is empty. */
  classes: string[];
  /** 1-based line in the file it came from. */
  line: number;
}

/** libbsm limits (bsm/libbsm.h): a name or description this long or longer makes libbsm skip the line. */
export const AU_EVENT_NAME_MAX = 30;
export const AU_EVENT_DESC_MAX = 50;

export class EventTable {
  readonly #entries: readonly EventEntry[];
  readonly #first = new Map<number, EventEntry>();
  readonly #last = new Map<number, EventEntry>();
  readonly #byName = new Map<string, EventEntry>();

  constructor(entries: readonly EventEntry[]) {
    this.#entries = entries;
    for (const e of entries) {
      if (!this.#first.has(e.number)) this.#first.set(e.number, e);
      this.#last.set(e.number, e);
      if (!this.#byName.has(e.name)) this.#byName.set(e.name, e);
    }
  }

  /** First line wins (the name and description praudit prints). */
  describe(num: number): EventEntry | undefined {
    return this.#first.get(num);
  }

  /** Last line wins (the class libbsm's au_preselect uses, e.g. auditreduce -c). */
  lookupForClass(num: number): EventEntry | undefined {
    return this.#last.get(num);
  }

  /** First line with this exact name (names are case-sensitive: AUE_login is not AUE_LOGIN). */
  byName(name: string): EventEntry | undefined {
    return this.#byName.get(name);
  }

  /** Every entry in file order, duplicates included. */
  entries(): readonly EventEntry[] {
    return this.#entries;
  }

  get size(): number {
    return this.#entries.length;
  }
}

export interface ParseAuditEventOptions {
  /**
   * Known class names (from audit_class). When given, unknown class names are reported (libbsm then gives the
   * event class 0).
   */
  classNames?: ReadonlySet<string>;
  /** Reproduce libbsm's strtok() collapse of empty fields instead of reading fields by position. */
  collapseEmptyFields?: boolean;
}

export function parseAuditEvent(
  text: string,
  file: string,
  options: ParseAuditEventOptions = {},
): { table: EventTable; diagnostics: CatalogDiagnostic[] } {
  const diagnostics: CatalogDiagnostic[] = [];
  const entries: EventEntry[] = [];
  for (const { line, text: t } of contentLines(text, file, diagnostics)) {
    const e = parseEventLine(t, file, line, options, diagnostics);
    if (e) entries.push(e);
  }
  return { table: new EventTable(entries), diagnostics };
}

function parseEventLine(
  text: string,
  file: string,
  line: number,
  options: ParseAuditEventOptions,
  out: CatalogDiagnostic[],
): EventEntry | undefined {
  const { fields: positional, collapsed, hasEmptyInside } = splitFields(text);
  const fields = options.collapseEmptyFields ? collapsed : positional;
  if (hasEmptyInside) {
    const [n = '', name = '', desc = '', cls = ''] = collapsed;
    out.push(
      diag(
        'CAT_W_EMPTY_FIELD',
        file,
        line,
        `empty field; libbsm collapses empty fields and reads number '${n}', name '${name}', description '${desc}', ` +
          `classes '${cls}'` +
          (options.collapseEmptyFields ? ' (used here)' : '; bsmkit reads the fields by position'),
      ),
    );
  }
  if (fields.length > 4) {
    out.push(diag('CAT_W_EXTRA_FIELD', file, line, `${fields.length - 4} extra field(s) after the class list ignored`));
  }
  const [numText = '', name = '', description = '', classField = ''] = fields;
  if (!/^[0-9]+$/.test(numText)) {
    out.push(diag('CAT_E_NUMBER', file, line, `event number '${numText}' is not a decimal number; line skipped`));
    return undefined;
  }
  const number = Number(numText);
  if (number > 0xffff) {
    out.push(diag('CAT_E_NUMBER', file, line, `event number ${numText} is above 65535 (events are 16-bit); line skipped`));
    return undefined;
  }
  if (name === '') {
    out.push(diag('CAT_E_SYNTAX', file, line, 'event name is missing; line skipped'));
    return undefined;
  }
  if (Buffer.byteLength(name) >= AU_EVENT_NAME_MAX) {
    out.push(
      diag('CAT_W_TOO_LONG', file, line, `event name '${name}' is ${Buffer.byteLength(name)} bytes, libbsm allows ` +
        `${AU_EVENT_NAME_MAX - 1}; line skipped as libbsm does`),
    );
    return undefined;
  }
  if (Buffer.byteLength(description) >= AU_EVENT_DESC_MAX) {
    out.push(
      diag('CAT_W_TOO_LONG', file, line, `description of ${name} is ${Buffer.byteLength(description)} bytes, libbsm ` +
        `allows ${AU_EVENT_DESC_MAX - 1}; line skipped as libbsm does`),
    );
    return undefined;
  }
  const classes = classField === '' ? [] : classField.split(',');
  if (options.classNames) {
    const unknown = classes.map(stripFlagPrefix).filter((c) => !options.classNames!.has(c));
    if (unknown.length > 0) {
      out.push(
        diag('CAT_W_UNKNOWN_CLASS', file, line, `${name}: unknown class ${unknown.map((c) => `'${c}'`).join(', ')}; ` +
          `the whole class list is invalid and the event's class is 0 (libbsm)`),
      );
    }
  }
  return { number, name, description, classes, line };
}

/** One audit_event line: `23:AUE_EXECVE:execve(2):pc,ex`. */
export function formatAuditEventLine(e: Pick<EventEntry, 'number' | 'name' | 'description' | 'classes'>): string {
  return `${e.number}:${e.name}:${e.description}:${e.classes.join(',')}`;
}

/**
 * A whole audit_event file from entries (duplicates written as given, in order). Comments are not kept; the class
 * editor edits existing files in place instead.
 */
export function formatAuditEvent(entries: Iterable<Pick<EventEntry, 'number' | 'name' | 'description' | 'classes'>>): string {
  let s = '';
  for (const e of entries) s += formatAuditEventLine(e) + '\n';
  return s;
}

/** A class list item without its flags prefix (`^-fr` → `fr`). */
export function stripFlagPrefix(item: string): string {
  return item.replace(/^(\^[+-]?|[+-])/, '');
}

const builtinCache = new Map<Platform, EventTable>();

/** bsmkit's shipped table for a platform, parsed once per process. */
export function builtinEventTable(platform: Platform): EventTable {
  let t = builtinCache.get(platform);
  if (!t) {
    const path = dataFile(platform, 'audit_event');
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new BsmkitError('BSMKIT_E_CATALOG_MISSING', `built-in event table ${path} cannot be read`, { cause: err });
    }
    t = parseAuditEvent(decodeConfigBytes(bytes), path).table;
    builtinCache.set(platform, t);
  }
  return t;
}

/** Reads and parses an audit_event file. Throws BsmkitError only when the file cannot be read. */
export function loadAuditEventFile(
  path: string,
  options: ParseAuditEventOptions = {},
): { table: EventTable; diagnostics: CatalogDiagnostic[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_CATALOG_READ', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseAuditEvent(decodeConfigBytes(bytes), path, options);
}

const hostCache = new Map<string, { mtimeMs: number; size: number; table: EventTable }>();

/**
 * The host's audit_event when it exists (it is what the kernel's event→class map was loaded from), else the
 * built-in table for `platform` (default: this host's platform). Re-read only when the file changes.
 */
export function hostOrBuiltinEventTable(
  platform: Platform = hostPlatform(),
  options: { dir?: string } = {},
): EventTable {
  const path = join(options.dir ?? DEFAULT_CONFIG_DIR, 'audit_event');
  let st;
  try {
    st = statSync(path);
  } catch {
    return builtinEventTable(platform);
  }
  if (!st.isFile()) return builtinEventTable(platform);
  const cached = hostCache.get(path);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.table;
  try {
    const { table } = loadAuditEventFile(path);
    hostCache.set(path, { mtimeMs: st.mtimeMs, size: st.size, table });
    return table;
  } catch {
    // Unreadable (permissions): the built-in table is the best remaining answer.
    return builtinEventTable(platform);
  }
}
