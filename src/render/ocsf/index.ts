/**
 * OCSF Process Activity (class 1007) from bsmkit process events (peers.md §9.3, §9.5; docs/process-activity.md).
 * Pure: one event in, one plain JSON-ready object out, usable by the CLI and by collector sinks alike.
 * Written against ocsf-schema 1.9.0-dev (launch_type_id). Types cover only the attributes bsmkit fills.
 */
import { AUID_UNSET, baseName, commandLine, imageName, isoTime, splitEnv } from '../../activity/present.js';
import type { ProcessEvent, ProcessImage, ProcessInfo } from '../../activity/types.js';

export const OCSF_SCHEMA_VERSION = '1.9.0-dev';
export const OCSF_CLASS_UID = 1007;
export const OCSF_CATEGORY_UID = 1;

export interface OcsfUser {
  uid: string;
}
export interface OcsfFile {
  name?: string;
  path?: string;
  type_id: number;
  type: string;
  owner?: OcsfUser;
  /** Mode bits in octal text, e.g. "100755". */
  mode?: string;
  uid?: string;
  /** Vnode attributes of the executable that have no OCSF attribute. */
  xattributes?: { fsid: number; inode: number; dev: number; gid: number };
  signature?: {
    algorithm_id: number;
    algorithm: string;
    certificate?: { subject: string };
    developer_uid?: string;
    digest?: { algorithm_id: number; algorithm: string; value: string };
  };
  hashes?: { algorithm_id: number; algorithm: string; value: string }[];
}
export interface OcsfProcess {
  pid: number;
  /** bsmkit's entity id; absent for a parent known by pid only. */
  uid?: string;
  name?: string;
  cmd_line?: string;
  path?: string;
  file?: OcsfFile;
  user?: { uid: string };
  group?: { uid: string };
  session?: { uid: string; terminal?: string };
  created_time?: number;
  terminated_time?: number;
  exit_code?: number;
  environment_variables?: { name: string; value: string }[];
  parent_process?: OcsfProcess;
  /** Not OCSF: kept under `xattributes` as OCSF allows for extension attributes. */
  xattributes?: { reconstructed: boolean; real_uid: number; real_gid: number; effective_gid: number };
}
export interface OcsfProcessActivity {
  activity_id: 1 | 2;
  activity_name: 'Launch' | 'Terminate';
  category_uid: 1;
  category_name: 'System Activity';
  class_uid: 1007;
  class_name: 'Process Activity';
  type_uid: number;
  type_name: string;
  severity_id: 1;
  severity: 'Informational';
  time: number;
  launch_type_id?: 1 | 2 | 3;
  launch_type?: 'Spawn' | 'Fork' | 'Exec';
  status_id: 1 | 2;
  status: 'Success' | 'Failure';
  status_code?: string;
  exit_code?: number;
  actor: { process: OcsfProcess; user?: OcsfUser; session?: { uid: string; terminal?: string } };
  device: { type_id: number; type: string; hostname?: string };
  process: OcsfProcess;
  metadata: {
    version: string;
    product: { name: 'bsmkit'; vendor_name: 'bsmkit'; version: string };
    log_name?: string;
    event_code: string;
    uid?: string;
  };
  unmapped: Record<string, unknown>;
}

export interface OcsfOptions {
  /** device.hostname (the host the trail came from). */
  hostname?: string;
  /** metadata.product.version. */
  productVersion?: string;
}

const LAUNCH_TYPES = { spawn: [1, 'Spawn'], fork: [2, 'Fork'], exec: [3, 'Exec'] } as const;

function fileOf(img: ProcessImage): OcsfFile | undefined {
  if (!img.executable && !img.file && !img.code) return undefined;
  const f: OcsfFile = { type_id: 1, type: 'Regular File' };
  if (img.executable) {
    f.path = img.executable;
    f.name = baseName(img.executable);
  }
  if (img.file) {
    f.mode = (img.file.mode >>> 0).toString(8);
    f.owner = { uid: String(img.file.uid) };
    f.xattributes = { fsid: img.file.fsid, inode: img.file.inode, dev: img.file.dev, gid: img.file.gid };
  }
  const c = img.code;
  if (c?.cdhash) f.hashes = [{ algorithm_id: 0, algorithm: 'cdhash', value: c.cdhash }];
  if (c && (c.signingId !== undefined || c.teamId)) {
    f.signature = { algorithm_id: 0, algorithm: 'Apple code signature' };
    if (c.signingId) f.signature.certificate = { subject: c.signingId };
    if (c.teamId) f.signature.developer_uid = c.teamId;
    if (c.cdhash) f.signature.digest = { algorithm_id: 0, algorithm: 'cdhash', value: c.cdhash };
  }
  return f;
}

/** OCSF process object of a bsmkit process (image overridable: a failed exec shows what it tried to run). */
export function ocsfProcess(p: ProcessInfo, img: ProcessImage | undefined = p.image, withParent = true): OcsfProcess {
  const o: OcsfProcess = { pid: p.pid, uid: p.entityId, user: { uid: String(p.cred.euid) } };
  const name = imageName(img);
  if (name !== undefined) o.name = name;
  if (img?.argv) o.cmd_line = commandLine(img.argv);
  if (img?.executable) o.path = img.executable;
  const file = img ? fileOf(img) : undefined;
  if (file) o.file = file;
  o.group = { uid: String(p.cred.egid) };
  o.session = { uid: String(p.cred.sid), terminal: p.cred.terminal.addr };
  if (p.start !== undefined) o.created_time = p.start;
  if (p.exit) {
    o.terminated_time = p.exit.time;
    if (p.exit.status !== undefined) o.exit_code = p.exit.status;
  }
  if (img?.env) o.environment_variables = img.env.map((s) => {
    const [name, value] = splitEnv(s);
    return { name, value };
  });
  if (withParent && p.ppid !== undefined) {
    o.parent_process = { pid: p.ppid };
    if (p.parentEntityId !== undefined) o.parent_process.uid = p.parentEntityId;
  }
  o.xattributes = { reconstructed: p.reconstructed, real_uid: p.cred.ruid, real_gid: p.cred.rgid, effective_gid: p.cred.egid };
  return o;
}

/** One process event as an OCSF Process Activity event. */
export function toOcsf(e: ProcessEvent, opts: OcsfOptions = {}): OcsfProcessActivity {
  const launch = e.kind === 'launch';
  const activity = launch ? 1 : 2;
  const failedLaunch = launch && !e.success && e.launchType !== 'exec';
  // A failed fork/spawn started nothing: the process is the caller (as the actor), with what it tried to run.
  const img = e.attempted ?? e.process.image;
  const process = ocsfProcess(e.process, failedLaunch ? e.process.image : img);
  // The parent as it is now, when it is still live (else only its pid and entity id are known).
  if (e.parent && process.parent_process && !failedLaunch) process.parent_process = ocsfProcess(e.parent, e.parent.image, false);
  const actorCred = e.actor.cred;
  const out: OcsfProcessActivity = {
    activity_id: activity,
    activity_name: launch ? 'Launch' : 'Terminate',
    category_uid: 1,
    category_name: 'System Activity',
    class_uid: 1007,
    class_name: 'Process Activity',
    type_uid: OCSF_CLASS_UID * 100 + activity,
    type_name: `Process Activity: ${launch ? 'Launch' : 'Terminate'}`,
    severity_id: 1,
    severity: 'Informational',
    time: e.time,
    status_id: e.success ? 1 : 2,
    status: e.success ? 'Success' : 'Failure',
    actor: { process: ocsfProcess(e.actor), session: { uid: String(actorCred.sid), terminal: actorCred.terminal.addr } },
    device: opts.hostname ? { type_id: 0, type: 'Unknown', hostname: opts.hostname } : { type_id: 0, type: 'Unknown' },
    process,
    metadata: {
      version: OCSF_SCHEMA_VERSION,
      product: { name: 'bsmkit', vendor_name: 'bsmkit', version: opts.productVersion ?? '0.1.0' },
      event_code: String(e.event),
    },
    unmapped: { bsm_event: e.event, bsm_action: e.action, record_offset: e.recordOffset },
  };
  if (launch && e.launchType) {
    const [id, name] = LAUNCH_TYPES[e.launchType];
    out.launch_type_id = id;
    out.launch_type = name;
  }
  if (e.status >= 0) out.status_code = String(e.status);
  if (!launch && e.process.exit?.status !== undefined) out.exit_code = e.process.exit.status;
  if (actorCred.auid !== AUID_UNSET) out.actor.user = { uid: String(actorCred.auid) };
  if (e.source !== undefined) out.metadata.log_name = e.source;
  if (e.recordOffset >= 0) out.metadata.uid = `${e.source ?? ''}:${e.recordOffset}`;
  if (e.inferred) out.unmapped.inferred = true;
  if (e.previousImage?.executable) out.unmapped.previous_executable = e.previousImage.executable;
  if (failedLaunch && e.attempted?.executable) out.unmapped.attempted_executable = e.attempted.executable;
  return out;
}
