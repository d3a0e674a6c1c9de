/** Command-line options shared by the catalog commands (classes, events, pipe-masks). */
import { UsageError } from '../errors.js';
import type { Platform } from './paths.js';

export const catalogOptions = {
  dir: { type: 'string' },
  platform: { type: 'string' },
  builtin: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function platformOption(v: string | undefined): Platform | undefined {
  if (v === undefined) return undefined;
  if (v === 'openbsm' || v === 'freebsd') return 'openbsm';
  if (v === 'macos' || v === 'darwin') return 'macos';
  throw new UsageError(`--platform must be openbsm (freebsd) or macos, not '${v}'`);
}

export const catalogHelp = `  --dir DIR          read audit_class/audit_event from DIR (default /etc/security; built-in tables when absent)
  --platform P       built-in tables: openbsm (FreeBSD, portable) or macos (default: this host)
  --builtin          ignore files, use the built-in tables
  --json             machine-readable output`;
