/**
 * Preselection (config-files.md §8, kernel-audit-pipe.md §8): event → class through the event table (last line
 * wins, unknown class names give 0), then `(effective mask & class) != 0`.
 */
import type { BsmRecord, SubjectToken, Token } from '../format/types.js';
import type { ClassTable } from './class-table.js';
import type { EventTable } from './event-table.js';
import { tryParseFlags, type AuMask } from './flags.js';

export const AU_PRS_SUCCESS = 1;
export const AU_PRS_FAILURE = 2;
export const AU_PRS_BOTH = 3;
export type Sorf = typeof AU_PRS_SUCCESS | typeof AU_PRS_FAILURE | typeof AU_PRS_BOTH;

/** auid of a process that never logged in (AU_DEFAUDITID, −1). */
export const AU_DEFAUDITID = 0xffffffff;

/**
 * The event → class mask map a kernel (or libbsm's au_preselect) uses. Built lazily from the tables, and
 * overridable per event, which is how custom classes (auditon A_SETCLASS) are modelled.
 */
export class EventClassMap {
  readonly #events: EventTable;
  readonly #classes: ClassTable;
  readonly #cache = new Map<number, number>();

  constructor(events: EventTable, classes: ClassTable) {
    this.#events = events;
    this.#classes = classes;
  }

  /** The class mask of an event: 0 when the event is unknown or its class list names an unknown class. */
  classOf(event: number): number {
    let m = this.#cache.get(event);
    if (m === undefined) {
      const e = this.#events.lookupForClass(event);
      m = 0;
      if (e) {
        // The class is the success side of the class list read as flags (libbsm's getauditflagsbin()).
        const r = tryParseFlags(e.classes.join(','), this.#classes);
        m = r.ok ? r.mask.success : 0;
      }
      this.#cache.set(event, m);
    }
    return m;
  }

  /** Overrides one event's class (what auditon(A_SETCLASS) does to the kernel's map). */
  setClass(event: number, mask: number): void {
    this.#cache.set(event, mask >>> 0);
  }

  /** Every event number in the table whose class intersects `mask`. */
  eventsIn(mask: number): number[] {
    const out: number[] = [];
    const seen = new Set<number>();
    for (const e of this.#events.entries()) {
      if (seen.has(e.number)) continue;
      seen.add(e.number);
      if ((this.classOf(e.number) & mask) >>> 0 !== 0) out.push(e.number);
    }
    for (const [n, m] of this.#cache) if (!seen.has(n) && (m & mask) >>> 0 !== 0) out.push(n);
    return out.sort((a, b) => a - b);
  }
}

/** libbsm au_preselect(): is `event` selected by `mask` for this outcome? */
export function auPreselect(event: number, mask: AuMask, sorf: Sorf, map: EventClassMap): boolean {
  return preselectClass(map.classOf(event), mask, sorf);
}

/** The check itself, for callers that already have the event's class. */
export function preselectClass(eventClass: number, mask: AuMask, sorf: Sorf): boolean {
  const effective = ((sorf & AU_PRS_SUCCESS ? mask.success : 0) | (sorf & AU_PRS_FAILURE ? mask.failure : 0)) >>> 0;
  return (effective & eventClass) >>> 0 !== 0;
}

/** What preselection needs from a decoded record. */
export interface RecordOutcome {
  /** Event number from the header; undefined for a standalone file token. */
  event: number | undefined;
  /** One entry per return32/return64 token: SUCCESS when its BSM status is 0, else FAILURE. */
  outcomes: Sorf[];
  /** auid of the first subject token (any subject variant), undefined when there is none. */
  auid: number | undefined;
}

const SUBJECT_TYPES = new Set<Token['type']>(['subject32', 'subject64', 'subject32_ex', 'subject64_ex']);

export function recordOutcome(record: BsmRecord): RecordOutcome {
  const outcomes: Sorf[] = [];
  let auid: number | undefined;
  for (const t of record.tokens) {
    if (t.type === 'return32' || t.type === 'return64') outcomes.push(t.status === 0 ? AU_PRS_SUCCESS : AU_PRS_FAILURE);
    else if (auid === undefined && SUBJECT_TYPES.has(t.type)) auid = (t as SubjectToken).auid >>> 0;
  }
  return { event: record.header?.event, outcomes, auid };
}

/**
 * Masks as a kernel or a LOCAL audit pipe holds them: a per-auid entry wins, else `naflags` for
 * non-attributable records (auid −1) and `flags` for the rest.
 */
export interface PreselectMasks {
  flags: AuMask;
  naflags: AuMask;
  perAuid?: ReadonlyMap<number, AuMask>;
}

/** The mask that applies to a record with this auid (undefined auid: no subject, treated as non-attributable). */
export function maskForAuid(masks: PreselectMasks, auid: number | undefined): AuMask {
  if (auid !== undefined) {
    const own = masks.perAuid?.get(auid >>> 0);
    if (own) return own;
    if (auid >>> 0 !== AU_DEFAUDITID) return masks.flags;
  }
  return masks.naflags;
}

/**
 * Would this record be selected? With a plain mask, or with kernel/pipe masks chosen by the record's auid.
 * The header check uses both outcomes; every return token must then also pass with its own outcome (auditreduce
 * -c semantics, which for kernel records — one return token — is the kernel's commit-time check). A record
 * without a return token is judged by the header check alone. Standalone file tokens are never selected.
 */
export function wouldSelect(record: BsmRecord, masks: AuMask | PreselectMasks, map: EventClassMap): boolean {
  const o = recordOutcome(record);
  if (o.event === undefined) return false;
  const mask = 'flags' in masks ? maskForAuid(masks, o.auid) : masks;
  const cls = map.classOf(o.event);
  if (!preselectClass(cls, mask, AU_PRS_BOTH)) return false;
  for (const sorf of o.outcomes) if (!preselectClass(cls, mask, sorf)) return false;
  return true;
}

/**
 * The masks a LOCAL audit pipe needs to receive records of the classes in `mask` (kernel-audit-pipe.md §8–9):
 * the same mask for attributable (`flags`) and non-attributable (`naflags`) records unless told otherwise.
 */
export function pipeMasksFor(mask: AuMask, naflags: AuMask = mask): { flags: AuMask; naflags: AuMask } {
  return { flags: { ...mask }, naflags: { ...naflags } };
}

/** One auditon(A_SETCLASS) call of a custom-class plan. */
export interface ClassMapChange {
  event: number;
  before: number;
  after: number;
}

/**
 * The A_GETCLASS/A_SETCLASS plan for adding `bit` to the given events in the kernel's map (kernel-audit-pipe.md
 * §9): events already carrying the bit are left out. Keep the `before` values to restore the map on exit.
 */
export function planClassMapAdd(map: EventClassMap, bit: number, events: Iterable<number>): ClassMapChange[] {
  const out: ClassMapChange[] = [];
  for (const event of new Set(events)) {
    const before = map.classOf(event);
    const after = (before | bit) >>> 0;
    if (after !== before) out.push({ event, before, after });
  }
  return out;
}
