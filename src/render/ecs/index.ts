/**
 * Elastic Common Schema process events from bsmkit process events (peers.md §9.4, §9.5;
 * docs/process-activity.md). Pure: one event in, one plain JSON-ready object out, usable by the CLI and by
 * collector sinks alike. Fields without an ECS home live under the custom `bsm` object.
 */
import { AUID_UNSET, commandLine, imageName, isoTime } from '../../activity/present.js';
import type { ProcessEvent, ProcessImage, ProcessInfo } from '../../activity/types.js';

export const ECS_VERSION = '8.17.0';

export interface EcsProcess {
  pid: number;
  entity_id?: string;
  name?: string;
  executable?: string;
  args?: string[];
  args_count?: number;
  command_line?: string;
  env_vars?: string[];
  start?: string;
  end?: string;
  exit_code?: number;
  user?: { id: string };
  real_user?: { id: string };
  group?: { id: string };
  real_group?: { id: string };
  code_signature?: { exists: boolean; signing_id?: string; team_id?: string; status?: string };
  hash?: { cdhash: string };
  parent?: EcsProcess;
  previous?: { executable?: string; args?: string[]; args_count?: number }[];
}

export interface EcsProcessEvent {
  '@timestamp': string | undefined;
  ecs: { version: string };
  event: {
    kind: 'event';
    category: ['process'];
    type: ('start' | 'end' | 'change')[];
    action: string;
    outcome: 'success' | 'failure';
    code: string;
    module: 'bsm';
    dataset: 'bsm.process';
  };
  process: EcsProcess;
  user?: { id: string };
  host?: { hostname: string };
  error?: { code: string };
  log?: { file: { path: string } };
  /** Executable file attributes (the exec record's attr token). */
  file?: { mode: string; uid: string; gid: string; inode: string; device: string; path?: string };
  /** BSM facts with no ECS field: login (audit) uid, audit session, terminal, record position, reconstruction. */
  bsm: {
    event: number;
    audit_uid?: number;
    session_id: number;
    terminal: { port: number; addr: string };
    record_offset: number;
    status: number;
    retval: number;
    reconstructed: boolean;
    inferred?: boolean;
    launch_type?: string;
  };
}

export interface EcsOptions {
  /** host.hostname (the host the trail came from). */
  hostname?: string;
}

function imageFields(o: EcsProcess, img: ProcessImage | undefined): void {
  if (!img) return;
  const name = imageName(img);
  if (name !== undefined) o.name = name;
  if (img.executable) o.executable = img.executable;
  if (img.argv) {
    o.args = img.argv;
    o.args_count = img.argv.length;
    o.command_line = commandLine(img.argv);
  }
  if (img.env) o.env_vars = img.env;
  const c = img.code;
  if (c) {
    if (c.signingId !== undefined || c.teamId) {
      o.code_signature = { exists: true };
      if (c.signingId) o.code_signature.signing_id = c.signingId;
      if (c.teamId) o.code_signature.team_id = c.teamId;
      if (c.truncated) o.code_signature.status = 'truncated';
    }
    if (c.cdhash) o.hash = { cdhash: c.cdhash };
  }
}

/** ECS process object of a bsmkit process. */
export function ecsProcess(p: ProcessInfo, img: ProcessImage | undefined = p.image, withParent = true): EcsProcess {
  const o: EcsProcess = { pid: p.pid, entity_id: p.entityId };
  imageFields(o, img);
  const start = isoTime(p.start);
  if (start) o.start = start;
  if (p.exit) {
    const end = isoTime(p.exit.time);
    if (end) o.end = end;
    if (p.exit.status !== undefined) o.exit_code = p.exit.status;
  }
  o.user = { id: String(p.cred.euid) };
  o.real_user = { id: String(p.cred.ruid) };
  o.group = { id: String(p.cred.egid) };
  o.real_group = { id: String(p.cred.rgid) };
  if (withParent && p.ppid !== undefined) {
    o.parent = { pid: p.ppid };
    if (p.parentEntityId !== undefined) o.parent.entity_id = p.parentEntityId;
  }
  if (p.previous.length) {
    o.previous = p.previous.map((i) => {
      const prev: { executable?: string; args?: string[]; args_count?: number } = {};
      if (i.executable) prev.executable = i.executable;
      if (i.argv) {
        prev.args = i.argv;
        prev.args_count = i.argv.length;
      }
      return prev;
    });
  }
  return o;
}

/** One process event as an ECS document. */
export function toEcs(e: ProcessEvent, opts: EcsOptions = {}): EcsProcessEvent {
  const launch = e.kind === 'launch';
  const failedLaunch = launch && !e.success && e.launchType !== 'exec';
  const img = failedLaunch ? e.process.image : (e.attempted ?? e.process.image);
  const process = ecsProcess(e.process, img);
  if (e.parent && process.parent && !failedLaunch) process.parent = ecsProcess(e.parent, e.parent.image, false);
  const cred = e.actor.cred;
  const out: EcsProcessEvent = {
    '@timestamp': isoTime(e.time),
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'event',
      category: ['process'],
      type: launch ? ['start'] : ['end'],
      action: e.action,
      outcome: e.success ? 'success' : 'failure',
      code: String(e.event),
      module: 'bsm',
      dataset: 'bsm.process',
    },
    process,
    bsm: {
      event: e.event,
      session_id: cred.sid,
      terminal: cred.terminal,
      record_offset: e.recordOffset,
      status: e.status,
      retval: e.retval,
      reconstructed: e.process.reconstructed,
    },
  };
  if (cred.auid !== AUID_UNSET) {
    out.user = { id: String(cred.auid) };
    out.bsm.audit_uid = cred.auid;
  }
  if (opts.hostname) out.host = { hostname: opts.hostname };
  if (!e.success && e.status > 0) out.error = { code: String(e.status) };
  if (e.source !== undefined) out.log = { file: { path: e.source } };
  if (e.inferred) out.bsm.inferred = true;
  if (e.launchType) out.bsm.launch_type = e.launchType;
  const f = img?.file;
  if (f && launch && !failedLaunch) {
    out.file = { mode: (f.mode >>> 0).toString(8), uid: String(f.uid), gid: String(f.gid), inode: String(f.inode), device: String(f.dev) };
    if (img?.executable) out.file.path = img.executable;
  }
  return out;
}
