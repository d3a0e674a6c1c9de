/**
 * What selection needs from the catalog (src/catalog): event names → numbers, each event's class for
 * preselection (last audit_event line, config-files.md §3), and the flags syntax (§7). Which tables: the host's
 * /etc/security files when present (what the trail's kernel used), a platform's built-in tables, or files named
 * by the user.
 */
import { builtinClassTable, hostOrBuiltinClassTable, loadAuditClassFile, type ClassTable } from '../catalog/class-table.js';
import { builtinEventTable, hostOrBuiltinEventTable, loadAuditEventFile, type EventTable } from '../catalog/event-table.js';
import { tryParseFlags } from '../catalog/flags.js';
import type { Platform } from '../catalog/paths.js';
import type { ClassMask } from './options.js';

export interface SelectCatalog {
  /** The number of an event name (first line with that name), or undefined. */
  eventNumber(name: string): number | undefined;
  /** The class mask au_preselect() uses for an event: the success mask of its last line's class list; 0 if none. */
  eventClass(event: number): number;
  /** A flags string as getauditflagsbin(); a string describing the problem when it is invalid. */
  parseFlags(text: string): ClassMask | string;
}

export interface CatalogChoice {
  /** Use this platform's built-in tables (ignores the host's files). */
  platform?: Platform;
  /** Explicit table files (override platform and host). */
  eventFile?: string;
  classFile?: string;
}

export function catalogFromTables(events: EventTable, classes: ClassTable): SelectCatalog {
  const classCache = new Map<number, number>();
  return {
    eventNumber: (name) => events.byName(name)?.number,
    eventClass(event) {
      let c = classCache.get(event);
      if (c === undefined) {
        const e = events.lookupForClass(event);
        const r = e ? tryParseFlags(e.classes.join(','), classes) : undefined;
        // An unknown class name in the list gives the event class 0, as in libbsm.
        c = r && r.ok ? r.mask.success : 0;
        classCache.set(event, c);
      }
      return c;
    },
    parseFlags(text) {
      const r = tryParseFlags(text, classes);
      return r.ok ? { success: r.mask.success, failure: r.mask.failure } : r.error;
    },
  };
}

export function selectCatalog(choice: CatalogChoice = {}): SelectCatalog {
  const events = choice.eventFile
    ? loadAuditEventFile(choice.eventFile).table
    : choice.platform
      ? builtinEventTable(choice.platform)
      : hostOrBuiltinEventTable();
  const classes = choice.classFile
    ? loadAuditClassFile(choice.classFile).table
    : choice.platform
      ? builtinClassTable()
      : hostOrBuiltinClassTable();
  return catalogFromTables(events, classes);
}

/** The event table for names in --print / --json output, chosen like selectCatalog's. */
export function eventTableFor(choice: CatalogChoice = {}): EventTable {
  if (choice.eventFile) return loadAuditEventFile(choice.eventFile).table;
  return choice.platform ? builtinEventTable(choice.platform) : hostOrBuiltinEventTable();
}
