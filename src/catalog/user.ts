/**
 * audit_user: `user:alwaysaudit:neveraudit` (config-files.md §6). Applied at login: per side,
 * `(audit_control flags | always) & ~never` becomes the session's mask, inherited by its children.
 */
import { readFileSync } from 'node:fs';
import { BsmkitError } from '../errors.js';
import type { ClassTable } from './class-table.js';
import { diag, type CatalogDiagnostic } from './diagnostics.js';
import { tryParseFlags, type AuMask } from './flags.js';
import { contentLines } from './lines.js';
import { decodeConfigBytes } from './paths.js';

export interface AuditUserEntry {
  user: string;
  /** Flags strings as written. */
  always: string;
  never: string;
  line: number;
}

export function parseAuditUser(
  text: string,
  file: string,
  options: { classes?: ClassTable } = {},
): { entries: AuditUserEntry[]; diagnostics: CatalogDiagnostic[] } {
  const diagnostics: CatalogDiagnostic[] = [];
  const entries: AuditUserEntry[] = [];
  const seen = new Map<string, number>();
  for (const { line, text: t } of contentLines(text, file, diagnostics)) {
    const fields = t.split(':');
    if (fields.length > 3) {
      diagnostics.push(diag('CAT_W_EXTRA_FIELD', file, line, `${fields.length - 3} extra field(s) ignored`));
    }
    const [user = '', always = '', never = ''] = fields;
    if (user === '') {
      diagnostics.push(diag('CAT_E_SYNTAX', file, line, 'user name is missing; line skipped'));
      continue;
    }
    if (fields.length < 3) {
      diagnostics.push(diag('CAT_W_EMPTY_FIELD', file, line, `${user}: missing field(s); read as empty masks`));
    } else if (always === '' && never !== '') {
      diagnostics.push(
        diag('CAT_W_EMPTY_FIELD', file, line, `${user}: empty alwaysaudit field; libbsm collapses it and reads ` +
          `'${never}' as alwaysaudit`),
      );
    }
    if (options.classes) {
      for (const [which, v] of [['alwaysaudit', always], ['neveraudit', never]] as const) {
        const r = tryParseFlags(v, options.classes);
        if (!r.ok) diagnostics.push(diag('CAT_W_UNKNOWN_CLASS', file, line, `${user} ${which}: ${r.error}`));
      }
    }
    const prev = seen.get(user);
    if (prev !== undefined) {
      diagnostics.push(diag('CAT_W_DUPLICATE', file, line, `user ${user} already listed on line ${prev}; the first wins`));
    } else seen.set(user, line);
    entries.push({ user, always, never, line });
  }
  return { entries, diagnostics };
}

export function loadAuditUserFile(path: string, options: { classes?: ClassTable } = {}) {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_CATALOG_READ', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseAuditUser(decodeConfigBytes(bytes), path, options);
}

export function formatAuditUser(entries: Iterable<Pick<AuditUserEntry, 'user' | 'always' | 'never'>>): string {
  let s = '';
  for (const e of entries) s += `${e.user}:${e.always}:${e.never}\n`;
  return s;
}

/** The login-time session mask (libbsm au_user_mask()): per side `(flags | always) & ~never`. */
export function sessionMask(controlFlags: AuMask, user?: { always: AuMask; never: AuMask }): AuMask {
  if (!user) return { ...controlFlags };
  return {
    success: ((controlFlags.success | user.always.success) & ~user.never.success) >>> 0,
    failure: ((controlFlags.failure | user.always.failure) & ~user.never.failure) >>> 0,
  };
}
