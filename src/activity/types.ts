/**
 * The process model built from BSM records: processes, their images and credentials, and the events that
 * start and end them. Values here are presentation-ready (strings decoded as UTF-8, times in ms since the epoch);
 * the raw record model stays in format/types.ts.
 */
import type { LifecycleKind } from './lifecycle-events.js';

/** The subject of a record: who did it (bsm-format.md §5.2). */
export interface Credentials {
  /** Audit (login) user id; 0xffffffff = unset. */
  auid: number;
  euid: number;
  egid: number;
  ruid: number;
  rgid: number;
  /** Audit session id. */
  sid: number;
  /** Terminal id: port and address text. */
  terminal: { port: number; addr: string };
}

/** The vnode attributes of an executable (attr32/attr64 token of an exec record). */
export interface ExecutableFile {
  mode: number;
  uid: number;
  gid: number;
  fsid: number;
  inode: number;
  dev: number;
}

/** macOS code identity: the exec record's cdhash data token and the identity token (bsm-format.md §5.7). */
export interface CodeIdentity {
  /** Hex of the code-directory hash (identity token, else the AUP_HEX data token). */
  cdhash?: string;
  signingId?: string;
  teamId?: string;
  /** 1 = platform binary. */
  signerType?: number;
  /** True when the kernel flagged the signing id or team id as truncated. */
  truncated?: boolean;
}

/** One program image a process ran (from an exec or spawn record, or inherited across fork). */
export interface ProcessImage {
  /** The first path token of the exec record; absent when the record had none. */
  executable?: string;
  /** Every path token of the exec record (the image, then e.g. an interpreter's script path). */
  paths: string[];
  /** exec args, when the `argv` policy recorded them. */
  argv?: string[];
  /** True when the kernel wrote fewer strings than its count (XNU truncation, bsm-format.md §5.4). */
  argvTruncated?: boolean;
  /** exec env, only with the `arge` policy. */
  env?: string[];
  file?: ExecutableFile;
  code?: CodeIdentity;
  /** Time of the exec/spawn that loaded this image (ms since the epoch). */
  time: number;
}

export interface ProcessExit {
  time: number;
  /** The exit token's status (process exit status, not an errno); absent when the end was inferred. */
  status?: number;
  value?: number;
  /** `exit` from an exit record; `pid-reused` when a launch reported this pid while it was still live. */
  reason: 'exit' | 'pid-reused';
}

/**
 * A process as known at one moment. Event payloads are snapshots: later changes never alter an emitted event.
 * Nested objects (image, credentials, arrays) are never mutated, only replaced.
 */
export interface ProcessInfo {
  /** Unique within one reconstruction: pid, start (or first-seen) time and a sequence number. */
  entityId: string;
  pid: number;
  /** Parent pid, from the fork/spawn record; undefined when unknown (the process was seen without its launch). */
  ppid?: number;
  parentEntityId?: string;
  /** Time of the fork/spawn that created it; undefined when reconstructed. */
  start?: number;
  /** Time of the first record that named this process (its launch when known). */
  firstSeen: number;
  lastSeen: number;
  /** True when the process was seen without its fork/spawn (collector started late, records lost). */
  reconstructed: boolean;
  /** How it was created: fork, vfork, posix_spawn … (undefined when reconstructed). */
  launchedBy?: string;
  /** The image it runs: set by exec/spawn, inherited on fork; undefined when never seen. */
  image?: ProcessImage;
  /** Earlier images of this pid, oldest first (at most `ProcessTableOptions.maxPreviousImages`). */
  previous: ProcessImage[];
  /** Credentials from the latest record whose subject was this process. */
  cred: Credentials;
  exit?: ProcessExit;
}

export type LaunchType = 'fork' | 'exec' | 'spawn';

export interface ProcessEvent {
  kind: 'launch' | 'terminate';
  /** For launches: Fork, Exec or Spawn (OCSF launch_type_id). */
  launchType?: LaunchType;
  /** Lifecycle record kind, or undefined for an inferred end (pid reuse). */
  record?: LifecycleKind;
  /** Syscall-level action: fork, vfork, execve, posix_spawn, exit …, or pid-reused for an inferred end. */
  action: string;
  /** ms since the epoch (header seconds × 1000 + msec). */
  time: number;
  /** BSM event number (0 for an inferred end). */
  event: number;
  /** Return token status 0 (a failed call changes nothing in the table). */
  success: boolean;
  /** Return token BSM errno and value. */
  status: number;
  retval: number;
  /**
   * The process launched, changed or ended. For a failed fork or spawn no process exists: this is then the
   * caller, and `attempted` holds the image it tried to start.
   */
  process: ProcessInfo;
  /** The parent, when known (for fork/spawn: the caller). */
  parent?: ProcessInfo;
  /** The caller (record subject): the parent for fork/spawn, the process itself for exec/exit. */
  actor: ProcessInfo;
  /** exec: the image replaced. */
  previousImage?: ProcessImage;
  /** A failed exec/spawn: what it tried to run. */
  attempted?: ProcessImage;
  /** Byte offset of the record in its source (-1 for inferred ends). */
  recordOffset: number;
  /** Name of the input the record came from (file name), when the caller gave one. */
  source?: string;
  /** True for ends inferred by the table rather than recorded. */
  inferred?: boolean;
}

/** Reconstruction quality counters (xnumon's miss_* metrics, peers.md §9.2). */
export interface ActivityStats {
  records: number;
  lifecycleRecords: number;
  /** Processes first seen through a subject with no known fork. */
  missForkSubject: number;
  /** exec records whose process was not in the table. */
  missExecSubject: number;
  /** exit records whose process was not in the table. */
  missExitSubject: number;
  /** Live pids replaced by a launch reporting the same pid. */
  pidReused: number;
  /** Records that arrived later than the reorder bound and were applied out of order. */
  lateRecords: number;
  /** Late records that belonged to an exited process or to an earlier holder of a live pid (ignored). */
  staleRecords: number;
  /** Backward jumps in record time too large to be reordering (concatenated trails, clock resets). */
  timeJumps: number;
  /** Processes dropped because the table reached its cap. */
  evicted: number;
  /** Successful fork/spawn records without a usable "child PID" argument. */
  forkWithoutChild: number;
  /** Records whose decoding failed badly enough that they were skipped. */
  undecodable: number;
}
