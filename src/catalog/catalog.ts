/**
 * The tables a command or a collector works with: the host's files (or those of any directory) when present,
 * else the built-in tables of the chosen platform, plus the event → class map built from them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtinClassTable, loadAuditClassFile, type ClassTable } from './class-table.js';
import type { CatalogDiagnostic } from './diagnostics.js';
import { builtinEventTable, loadAuditEventFile, type EventTable } from './event-table.js';
import { DEFAULT_CONFIG_DIR, hostPlatform, type Platform } from './paths.js';
import { EventClassMap } from './preselect.js';

export interface Catalog {
  classes: ClassTable;
  events: EventTable;
  map: EventClassMap;
  platform: Platform;
  /** Where each table came from: a file path, or `builtin:<platform>`. */
  classSource: string;
  eventSource: string;
  diagnostics: CatalogDiagnostic[];
}

export interface LoadCatalogOptions {
  /** Directory holding audit_class / audit_event (default /etc/security). */
  dir?: string;
  /** Built-in table platform (default: this host's). */
  platform?: Platform;
  /** Ignore files and use the built-in tables. */
  builtin?: boolean;
}

export function loadCatalog(opts: LoadCatalogOptions = {}): Catalog {
  const platform = opts.platform ?? hostPlatform();
  const dir = opts.dir ?? DEFAULT_CONFIG_DIR;
  const diagnostics: CatalogDiagnostic[] = [];
  let classes: ClassTable;
  let classSource: string;
  const classPath = join(dir, 'audit_class');
  if (!opts.builtin && existsSync(classPath)) {
    const r = loadAuditClassFile(classPath);
    classes = r.table;
    classSource = classPath;
    diagnostics.push(...r.diagnostics);
  } else {
    classes = builtinClassTable();
    classSource = `builtin:${platform}`;
  }
  let events: EventTable;
  let eventSource: string;
  const eventPath = join(dir, 'audit_event');
  if (!opts.builtin && existsSync(eventPath)) {
    const r = loadAuditEventFile(eventPath, { classNames: classes.names() });
    events = r.table;
    eventSource = eventPath;
    diagnostics.push(...r.diagnostics);
  } else {
    events = builtinEventTable(platform);
    eventSource = `builtin:${platform}`;
  }
  return { classes, events, map: new EventClassMap(events, classes), platform, classSource, eventSource, diagnostics };
}
