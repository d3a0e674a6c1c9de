/**
 * Custom classes (config-files.md §2, §9): add a class bit to audit_class and to chosen events' class lists in
 * audit_event, or remove one. Plans are computed on text (only the touched lines change, comments and every
 * other byte stay), shown as a diff for --dry-run, and applied with atomic replaces, a backup, and a lock.
 *
 * Order of the two file replaces keeps every intermediate state valid for libbsm: on add, audit_class gets the
 * class before audit_event uses it; on remove, audit_event stops using it before audit_class drops it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BsmkitError } from '../errors.js';
import { lockDir, removeStaleTemps, replaceFileAtomically } from './atomic-file.js';
import {
  AU_CLASS_ALL,
  AU_CLASS_DESC_MAX,
  AU_CLASS_MASK_RESERVED,
  AU_CLASS_NAME_MAX,
  builtinClassTable,
  formatAuditClassLine,
  hex8,
  parseAuditClass,
} from './class-table.js';
import { unifiedDiff } from './diff.js';
import { parseAuditEvent, stripFlagPrefix } from './event-table.js';
import { decodeConfig } from './paths.js';

/** The range OpenBSM leaves free for custom classes (config-files.md §2). */
export const CUSTOM_CLASS_FIRST_BIT = 0x00008000;
export const CUSTOM_CLASS_LAST_BIT = 0x08000000;

export interface FileEdit {
  path: string;
  before: string;
  after: string;
  /** How the file was decoded (paths.ts decodeConfig); written back the same way. Default utf8. */
  encoding?: 'utf8' | 'latin1';
}

export interface ClassEditPlan {
  action: 'add' | 'remove';
  name: string;
  mask: number;
  /** Event numbers whose class list changes. */
  events: number[];
  /** In the order they must be applied. Files that do not change are left out. */
  edits: FileEdit[];
  /** Things the user should know (e.g. duplicate event numbers edited together). */
  notes: string[];
}

export interface AddClassRequest {
  name: string;
  /** 'auto' picks the lowest free bit in 0x00008000–0x08000000. */
  mask: 'auto' | number;
  /** AUE_ names or event numbers. */
  events: readonly (string | number)[];
  description?: string;
  /** Allow 0x10000000, which XNU protects (au_class_protect()). */
  allowReserved?: boolean;
}

function fail(msg: string): never {
  throw new BsmkitError('BSMKIT_E_CLASS_EDIT', msg);
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v &= v - 1) c++;
  return c;
}

export function validateClassName(name: string): void {
  if (!/^[A-Za-z0-9_]+$/.test(name)) fail(`class name '${name}' must be letters, digits or '_'`);
  if (Buffer.byteLength(name) >= AU_CLASS_NAME_MAX) {
    fail(`class name '${name}' is too long: libbsm allows ${AU_CLASS_NAME_MAX - 1} characters`);
  }
}

/** Computes the edits that add a class; throws BsmkitError (BSMKIT_E_CLASS_EDIT) when the request is invalid. */
export function planAddClass(classPath: string, classText: string, eventPath: string, eventText: string, req: AddClassRequest): ClassEditPlan {
  validateClassName(req.name);
  const classes = parseAuditClass(classText, classPath).table;
  if (classes.byName(req.name)) fail(`class '${req.name}' already exists in ${classPath}`);
  const used = classes.usedBits();
  let mask: number;
  if (req.mask === 'auto') {
    let bit = 0;
    for (let b = CUSTOM_CLASS_FIRST_BIT; b <= CUSTOM_CLASS_LAST_BIT; b *= 2) {
      if ((used & b) === 0) {
        bit = b;
        break;
      }
    }
    if (!bit) fail(`no free class bit between 0x${hex8(CUSTOM_CLASS_FIRST_BIT)} and 0x${hex8(CUSTOM_CLASS_LAST_BIT)}`);
    mask = bit;
  } else {
    mask = req.mask >>> 0;
    if (req.mask < 0 || req.mask > AU_CLASS_ALL || popcount(mask) !== 1) fail(`mask 0x${hex8(mask)} must be exactly one bit`);
    const owner = classes.entries().find((c) => c.mask !== AU_CLASS_ALL && (c.mask & mask) !== 0);
    if (owner) fail(`bit 0x${hex8(mask)} is already used by class '${owner.name}'`);
    if (mask === AU_CLASS_MASK_RESERVED && !req.allowReserved) {
      fail(`bit 0x${hex8(mask)} is protected on macOS (AU_CLASS_MASK_RESERVED); pick another`);
    }
  }
  const description = req.description ?? `custom class ${req.name}`;
  if (/[:\n\r]/.test(description)) fail(`description must not contain ':' or a line break`);
  if (Buffer.byteLength(description) >= AU_CLASS_DESC_MAX) fail(`description is too long: libbsm allows ${AU_CLASS_DESC_MAX - 1} bytes`);
  if (req.events.length === 0) fail('no events given: a class without events selects nothing');

  const events = parseAuditEvent(eventText, eventPath).table;
  const numbers = new Set<number>();
  const unknown: string[] = [];
  for (const ev of req.events) {
    const e = typeof ev === 'number' || /^[0-9]+$/.test(ev) ? events.describe(Number(ev)) : events.byName(ev);
    if (!e) unknown.push(String(ev));
    else numbers.add(e.number);
  }
  if (unknown.length) fail(`unknown event(s) in ${eventPath}: ${unknown.join(', ')}`);

  // audit_class: insert in mask order (before the first larger mask, i.e. before `all`), keep everything else.
  const classLines = classText.split('\n');
  const newLine = formatAuditClassLine({ mask, name: req.name, description });
  const after = classes.entries().find((c) => c.mask > mask);
  if (after) classLines.splice(after.line - 1, 0, newLine);
  else {
    if (classLines[classLines.length - 1] === '') classLines.splice(classLines.length - 1, 0, newLine);
    else classLines.push(newLine, '');
  }

  const notes: string[] = [];
  const eventLines = eventText.split('\n');
  for (const n of numbers) {
    const lines = events.entries().filter((e) => e.number === n);
    if (lines.length > 1) {
      notes.push(`event ${n} has ${lines.length} lines (${lines.map((e) => e.name).join(', ')}): all get the class, ` +
        `since records carry only the number`);
    }
    for (const e of lines) {
      if (e.classes.some((c) => stripFlagPrefix(c) === req.name)) continue;
      eventLines[e.line - 1] = withClassList(eventLines[e.line - 1]!, [...e.classes, req.name]);
    }
  }
  return {
    action: 'add',
    name: req.name,
    mask,
    events: [...numbers].sort((a, b) => a - b),
    edits: [
      { path: classPath, before: classText, after: classLines.join('\n') },
      { path: eventPath, before: eventText, after: eventLines.join('\n') },
    ].filter((e) => e.before !== e.after),
    notes,
  };
}

/** Rewrites the class-list field (the 4th, by position) of one audit_event line. */
function withClassList(line: string, classes: string[]): string {
  const cr = line.endsWith('\r') ? '\r' : '';
  const fields = (cr ? line.slice(0, -1) : line).split(':');
  while (fields.length < 4) fields.push('');
  fields[3] = classes.join(',');
  return fields.join(':') + cr;
}

export interface RemoveClassRequest {
  name: string;
  /** Allow removing one of OpenBSM's default classes. */
  force?: boolean;
}

export function planRemoveClass(classPath: string, classText: string, eventPath: string, eventText: string, req: RemoveClassRequest): ClassEditPlan {
  const classes = parseAuditClass(classText, classPath).table;
  const cls = classes.byName(req.name);
  if (!cls) fail(`class '${req.name}' is not in ${classPath}`);
  if (!req.force && builtinClassTable().byName(req.name)) {
    fail(`'${req.name}' is one of OpenBSM's default classes; use --force to remove it anyway`);
  }
  const classLines = classText.split('\n');
  const drop = new Set(classes.entries().filter((c) => c.name === req.name).map((c) => c.line - 1));
  const newClassText = classLines.filter((_, i) => !drop.has(i)).join('\n');

  const events = parseAuditEvent(eventText, eventPath).table;
  const eventLines = eventText.split('\n');
  const changed = new Set<number>();
  for (const e of events.entries()) {
    if (!e.classes.some((c) => stripFlagPrefix(c) === req.name)) continue;
    const rest = e.classes.filter((c) => stripFlagPrefix(c) !== req.name);
    // An empty list would be read as class 0 anyway; `no` says so explicitly.
    eventLines[e.line - 1] = withClassList(eventLines[e.line - 1]!, rest.length ? rest : ['no']);
    changed.add(e.number);
  }
  return {
    action: 'remove',
    name: req.name,
    mask: cls.mask,
    events: [...changed].sort((a, b) => a - b),
    edits: [
      { path: eventPath, before: eventText, after: eventLines.join('\n') },
      { path: classPath, before: classText, after: newClassText },
    ].filter((e) => e.before !== e.after),
    notes: [],
  };
}

/** The plan as a unified diff of every file it changes. */
export function planDiff(plan: ClassEditPlan): string {
  return plan.edits.map((e) => unifiedDiff(e.path, e.before, e.after)).join('');
}

export interface ApplyOptions {
  /** Keep `FILE.bak` copies of the replaced files (default true). */
  backup?: boolean;
  stderr?: NodeJS.WritableStream;
}

/** Applies a plan: each file replaced atomically, in plan order, and only if still as read. */
export async function applyPlan(plan: ClassEditPlan, opts: ApplyOptions = {}): Promise<void> {
  for (const e of plan.edits) {
    const enc = e.encoding ?? 'utf8';
    await replaceFileAtomically(e.path, Buffer.from(e.after, enc), {
      expected: Buffer.from(e.before, enc),
      backupPath: opts.backup === false ? undefined : e.path + '.bak',
      stderr: opts.stderr,
    });
  }
}

export interface CatalogDir {
  dir: string;
  classPath: string;
  eventPath: string;
}

export function catalogDir(dir: string): CatalogDir {
  return { dir, classPath: join(dir, 'audit_class'), eventPath: join(dir, 'audit_event') };
}

async function readText(path: string): Promise<{ text: string; encoding: 'utf8' | 'latin1' }> {
  try {
    return decodeConfig(await readFile(path));
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_CATALOG_READ', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export interface EditOptions extends ApplyOptions {
  /** Compute and return the plan without changing anything. */
  dryRun?: boolean;
}

/** Adds a custom class to DIR/audit_class and DIR/audit_event (locked, atomic, with backups). */
export async function addClass(dir: string, req: AddClassRequest, opts: EditOptions = {}): Promise<ClassEditPlan> {
  return edit(dir, opts, (d, ct, et) => planAddClass(d.classPath, ct, d.eventPath, et, req));
}

/** Removes a class from DIR/audit_class and from every event's class list in DIR/audit_event. */
export async function removeClass(dir: string, req: RemoveClassRequest, opts: EditOptions = {}): Promise<ClassEditPlan> {
  return edit(dir, opts, (d, ct, et) => planRemoveClass(d.classPath, ct, d.eventPath, et, req));
}

async function edit(
  dir: string,
  opts: EditOptions,
  plan: (d: CatalogDir, classText: string, eventText: string) => ClassEditPlan,
): Promise<ClassEditPlan> {
  const d = catalogDir(dir);
  const planFromDisk = async () => {
    const c = await readText(d.classPath);
    const e = await readText(d.eventPath);
    const p = plan(d, c.text, e.text);
    for (const ed of p.edits) ed.encoding = ed.path === d.classPath ? c.encoding : e.encoding;
    return p;
  };
  if (opts.dryRun) return planFromDisk();
  const release = await lockDir(dir);
  try {
    await removeStaleTemps(dir);
    const p = await planFromDisk();
    await applyPlan(p, opts);
    return p;
  } finally {
    await release();
  }
}
