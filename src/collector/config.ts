/**
 * `bsmkit collect` configuration: a JSON file (docs/collector.md) merged under the command-line flags.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Sink } from '../sinks/sink.js';
import type { CollectMode } from './accounting.js';

export type SinkSpec =
  | { type: 'duckdb'; path?: string }
  | { type: 'ndjson'; dir: string; maxBytes?: number; maxAgeSec?: number }
  | { type: 'stdout'; format?: 'praudit' | 'json' };

export interface CollectConfig {
  source?: CollectMode;
  spool?: string;
  spoolMaxBytes?: number;
  trailDirs?: string[];
  /** The audit pipe device (default /dev/auditpipe). */
  device?: string;
  /** A kernel model endpoint instead of the device (testing, demos). */
  modelEndpoint?: string;
  qlimit?: number | 'max';
  /** The pipe drain thread's scheduling: "high" (real-time where the OS allows, the default) or "normal". */
  drainPriority?: 'high' | 'normal';
  from?: 'start' | 'end';
  sinks?: SinkSpec[];
  statsIntervalSec?: number;
  metricsPort?: number;
  user?: string;
  /** auditreduce selection options applied before the sinks (e.g. "-c ex -u 501"); the spool keeps everything. */
  select?: string;
}

const KEYS = new Set(['source', 'spool', 'spoolMaxBytes', 'trailDirs', 'device', 'modelEndpoint', 'qlimit', 'drainPriority', 'from', 'sinks', 'statsIntervalSec', 'metricsPort', 'user', 'select']);
const SINK_KEYS: Record<SinkSpec['type'], Set<string>> = {
  duckdb: new Set(['type', 'path']),
  ndjson: new Set(['type', 'dir', 'maxBytes', 'maxAgeSec']),
  stdout: new Set(['type', 'format']),
};

/** A pipe queue limit: "max" or a whole number of records, at least 1 (the kernel checks its own maximum). */
export function isQlimit(v: unknown): v is number | 'max' {
  return v === 'max' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1);
}

/** A TCP port to listen on: 1…65535. */
export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/** A byte count or size cap: a whole number, at least 1. */
export function isByteCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

/**
 * Reads and checks a config file. Unknown keys and wrong types or values are usage errors naming the file and the
 * setting. Relative paths in it (spool, trailDirs, device, modelEndpoint, sink paths) are taken relative to the
 * file's own directory, so a service started from `/` reads the same configuration as a shell in another directory.
 */
export function readConfigFile(path: string): CollectConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a configuration file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`${path}: ${why}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${path}: the configuration must be a JSON object`);
  const c = v as Record<string, unknown>;
  const bad = (k: string, what: string): never => {
    throw new UsageError(`${path}: '${k}' must be ${what}, got ${JSON.stringify(c[k])}`);
  };
  for (const k of Object.keys(c)) if (!KEYS.has(k)) throw new UsageError(`${path}: unknown setting '${k}' (settings: ${[...KEYS].join(', ')})`);
  for (const k of ['spool', 'device', 'modelEndpoint', 'user', 'select']) if (c[k] !== undefined && (typeof c[k] !== 'string' || c[k] === '')) bad(k, 'a non-empty string');
  if (c.source !== undefined && !['trail', 'pipe', 'hybrid'].includes(c.source as string)) bad('source', '"trail", "pipe" or "hybrid"');
  if (c.from !== undefined && c.from !== 'start' && c.from !== 'end') bad('from', '"start" or "end"');
  if (c.spoolMaxBytes !== undefined && !isByteCount(c.spoolMaxBytes)) bad('spoolMaxBytes', 'a whole number of bytes (at least 1)');
  if (c.statsIntervalSec !== undefined && (typeof c.statsIntervalSec !== 'number' || !Number.isFinite(c.statsIntervalSec) || c.statsIntervalSec < 0)) bad('statsIntervalSec', 'a number of seconds (0: no stats lines)');
  if (c.metricsPort !== undefined && !isPort(c.metricsPort)) bad('metricsPort', 'a port number from 1 to 65535');
  if (c.qlimit !== undefined && !isQlimit(c.qlimit)) bad('qlimit', 'a whole number of records (at least 1) or "max"');
  if (c.drainPriority !== undefined && c.drainPriority !== 'high' && c.drainPriority !== 'normal') bad('drainPriority', '"high" or "normal"');
  if (c.trailDirs !== undefined && (!Array.isArray(c.trailDirs) || c.trailDirs.length === 0 || c.trailDirs.some((d) => typeof d !== 'string' || d === ''))) bad('trailDirs', 'a non-empty list of directories');
  if (c.sinks !== undefined && (!Array.isArray(c.sinks) || c.sinks.length === 0)) bad('sinks', 'a non-empty list of sinks');
  const base = dirname(path);
  const out: CollectConfig = { ...(c as CollectConfig) };
  for (const k of ['spool', 'device', 'modelEndpoint'] as const) if (out[k] !== undefined) out[k] = resolve(base, out[k]);
  if (out.trailDirs) out.trailDirs = out.trailDirs.map((d) => resolve(base, d));
  if (c.sinks) out.sinks = (c.sinks as unknown[]).map((s, i) => parseSinkObject(s, `${path}: sinks[${i}]`, base));
  return out;
}

function parseSinkObject(s: unknown, where: string, base: string): SinkSpec {
  const o = s as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new UsageError(`${where}: a sink must be an object with a 'type'`);
  if (typeof o.type !== 'string' || !Object.hasOwn(SINK_KEYS, o.type)) throw new UsageError(`${where}: unknown sink type ${JSON.stringify(o.type)} (duckdb, ndjson, stdout)`);
  const keys = SINK_KEYS[o.type as SinkSpec['type']];
  for (const k of Object.keys(o)) if (!keys.has(k)) throw new UsageError(`${where}: unknown setting '${k}' for the ${o.type as string} sink (${[...keys].join(', ')})`);
  const bad = (k: string, what: string): never => {
    throw new UsageError(`${where}: '${k}' must be ${what}, got ${JSON.stringify(o[k])}`);
  };
  const path = (k: string, need: boolean): string | undefined => {
    if (o[k] === undefined && !need) return undefined;
    if (typeof o[k] !== 'string' || o[k] === '') bad(k, 'a non-empty path');
    return resolve(base, o[k] as string);
  };
  if (o.type === 'duckdb') return { type: 'duckdb', path: path('path', false) };
  if (o.type === 'ndjson') {
    const spec: SinkSpec = { type: 'ndjson', dir: path('dir', true)! };
    for (const k of ['maxBytes', 'maxAgeSec'] as const) {
      const n = o[k];
      if (n === undefined) continue;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) bad(k, `a non-negative number (0: no rotation by ${k === 'maxBytes' ? 'size' : 'age'})`);
      spec[k] = n as number;
    }
    return spec;
  }
  if (o.format !== undefined && o.format !== 'json' && o.format !== 'praudit') bad('format', '"praudit" or "json"');
  return { type: 'stdout', format: (o.format as 'json' | 'praudit' | undefined) ?? 'praudit' };
}

/** `--sink duckdb[:PATH]`, `--sink ndjson:DIR`, `--sink stdout[:json|praudit]`. */
export function parseSinkFlag(spec: string, cwd: string): SinkSpec {
  const i = spec.indexOf(':');
  const type = i < 0 ? spec : spec.slice(0, i);
  const arg = i < 0 ? undefined : spec.slice(i + 1);
  switch (type) {
    case 'duckdb':
      if (arg === '') throw new UsageError(`--sink duckdb:PATH needs a path after the colon (or plain 'duckdb' for the default store)`);
      return { type: 'duckdb', path: arg ? resolve(cwd, arg) : undefined };
    case 'ndjson':
      if (!arg) throw new UsageError(`--sink ndjson:DIR needs a directory`);
      return { type: 'ndjson', dir: resolve(cwd, arg) };
    case 'stdout':
      if (arg !== undefined && arg !== 'json' && arg !== 'praudit') throw new UsageError(`--sink ${spec}: the stdout format is json or praudit`);
      return { type: 'stdout', format: (arg as 'json' | 'praudit' | undefined) ?? 'praudit' };
    default:
      throw new UsageError(`--sink '${spec}': unknown sink '${type}' (duckdb[:PATH], ndjson:DIR, stdout[:json|praudit])`);
  }
}

/**
 * Builds the sinks. The DuckDB store and NDJSON files run on worker threads (sinks/worker-sink.ts), so their
 * rendering never holds up intake; stdout stays on the main thread (a worker's stdout goes through it anyway).
 */
export async function createSinks(specs: SinkSpec[]): Promise<Sink[]> {
  const names = sinkNames(specs);
  const out: Sink[] = [];
  const { WorkerSink } = await import('../sinks/worker-sink.js');
  for (const [i, s] of specs.entries()) {
    const name = names[i]!;
    if (s.type === 'duckdb') {
      out.push(new WorkerSink({ kind: 'duckdb', options: { path: s.path, name } }));
    } else if (s.type === 'ndjson') {
      out.push(new WorkerSink({ kind: 'ndjson', options: { dir: s.dir, name, maxBytes: s.maxBytes, maxAgeMs: s.maxAgeSec === undefined ? undefined : s.maxAgeSec * 1000 } }));
    } else {
      const { StdoutSink } = await import('../sinks/stdout-sink.js');
      out.push(new StdoutSink({ format: s.format, name }));
    }
  }
  return out;
}

/**
 * Each sink's name, which keys its checkpoint in the spool: its type when it is the only sink of that type, else
 * `TYPE:TARGET`, so two sinks of one type (NDJSON files in two directories) keep separate checkpoints. The same
 * target twice, or two stdout sinks, is a usage error: they would write over each other.
 */
export function sinkNames(specs: readonly SinkSpec[]): string[] {
  const target = (s: SinkSpec): string => (s.type === 'duckdb' ? s.path ?? '(default store)' : s.type === 'ndjson' ? s.dir : 'stdout');
  const seen = new Set<string>();
  const perType = new Map<string, number>();
  for (const s of specs) {
    const key = `${s.type}:${target(s)}`;
    if (seen.has(key)) throw new UsageError(s.type === 'stdout' ? 'only one stdout sink can be given' : `the ${s.type} sink ${target(s)} is given twice`);
    seen.add(key);
    perType.set(s.type, (perType.get(s.type) ?? 0) + 1);
  }
  return specs.map((s) => (perType.get(s.type) === 1 ? s.type : `${s.type}:${target(s)}`));
}

/** hybrid where both a trail directory and the device exist, else whichever exists (trail by default). */
export function defaultMode(trailDirs: string[], device: string | undefined, modelEndpoint: string | undefined): CollectMode {
  const haveTrail = trailDirs.some((d) => existsSync(d));
  const havePipe = modelEndpoint !== undefined || (device !== undefined && existsSync(device));
  if (haveTrail && havePipe) return 'hybrid';
  if (havePipe) return 'pipe';
  return 'trail';
}
