/**
 * The BSM event numbers that start, change or end a process (bsm-format.md §6.3, peers.md §9.1).
 *
 * Numbers are from OpenBSM's `sys/bsm/audit_kevents.h` and XNU's `bsd/bsm/audit_kevents.h`. The two tables assign
 * different events to some numbers (config-files.md §4: 233, 43187, 43201–43218), but every number below means the
 * same event on both. The few lifecycle numbers only one platform's table has (AUE_EXECVEAT) are kept apart and
 * looked up by platform.
 */

export type Platform = 'openbsm' | 'macos';

/** What a lifecycle record does to the process table. */
export type LifecycleKind = 'fork' | 'spawn' | 'exec' | 'exit';

export interface LifecycleAction {
  kind: LifecycleKind;
  /** Short syscall name used as the event action (ECS `event.action`). */
  action: string;
}

const TABLE: ReadonlyMap<number, LifecycleAction> = new Map<number, LifecycleAction>([
  [1, { kind: 'exit', action: 'exit' }], // AUE_EXIT
  [2, { kind: 'fork', action: 'fork' }], // AUE_FORK
  [25, { kind: 'fork', action: 'vfork' }], // AUE_VFORK
  [241, { kind: 'fork', action: 'fork1' }], // AUE_FORK1
  [353, { kind: 'fork', action: 'rfork' }], // AUE_DARWIN_RFORK
  [43043, { kind: 'fork', action: 'rfork' }], // AUE_RFORK
  [43197, { kind: 'fork', action: 'pdfork' }], // AUE_PDFORK (FreeBSD)
  [43190, { kind: 'spawn', action: 'posix_spawn' }], // AUE_POSIX_SPAWN (macOS)
  [7, { kind: 'exec', action: 'exec' }], // AUE_EXEC (Solaris exec(2), in OpenBSM's audit_event)
  [23, { kind: 'exec', action: 'execve' }], // AUE_EXECVE
  [43131, { kind: 'exec', action: 'mac_execve' }], // AUE_MAC_EXECVE
  [43144, { kind: 'exec', action: 'fexecve' }], // AUE_FEXECVE (FreeBSD)
]);

/** Numbers only one platform's table assigns to a lifecycle event. */
const OPENBSM_ONLY: ReadonlyMap<number, LifecycleAction> = new Map<number, LifecycleAction>([
  [43262, { kind: 'exec', action: 'execveat' }], // AUE_EXECVEAT (OpenBSM table; absent from macOS's)
]);

/** The lifecycle meaning of an event number, or undefined for every other event. */
export function lifecycleAction(event: number, platform: Platform = 'openbsm'): LifecycleAction | undefined {
  return TABLE.get(event) ?? (platform === 'openbsm' ? OPENBSM_ONLY.get(event) : undefined);
}

/** Every lifecycle event number (for docs and tests). */
export function lifecycleEventNumbers(): number[] {
  return [...TABLE.keys(), ...OPENBSM_ONLY.keys()].sort((a, b) => a - b);
}
