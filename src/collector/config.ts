/**
 * `bsmkit collect` configuration: a JSON file (docs/collector.md) merged under the command-line flags.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/** Reads and checks a config file; unknown keys and wrong types are usage errors naming the file. */
export function readConfigFile(path: string): CollectConfig {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not valid JSON: ' + (err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${path}: the configuration must be a JSON object`);
  const c = v as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!KEYS.has(k)) throw new UsageError(`${path}: unknown setting '${k}'`);
  const str = (k: string): void => {
    if (c[k] !== undefined && typeof c[k] !== 'string') throw new UsageError(`${path}: '${k}' must be a string`);
  };
  const num = (k: string): void => {
    if (c[k] !== undefined && (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || (c[k] as number) < 0)) throw new UsageError(`${path}: '${k}' must be a non-negative number`);
  };
  ['source', 'spool', 'device', 'modelEndpoint', 'from', 'user', 'select'].forEach(str);
  ['spoolMaxBytes', 'statsIntervalSec', 'metricsPort'].forEach(num);
  if (c.source !== undefined && !['trail', 'pipe', 'hybrid'].includes(c.source as string)) throw new UsageError(`${path}: 'source' must be trail, pipe or hybrid`);
  if (c.qlimit !== undefined && c.qlimit !== 'max' && typeof c.qlimit !== 'number') throw new UsageError(`${path}: 'qlimit' must be a number or "max"`);
  if (c.drainPriority !== undefined && c.drainPriority !== 'high' && c.drainPriority !== 'normal') throw new UsageError(`${path}: 'drainPriority' must be "high" or "normal"`);
  if (c.trailDirs !== undefined && (!Array.isArray(c.trailDirs) || c.trailDirs.some((d) => typeof d !== 'string'))) throw new UsageError(`${path}: 'trailDirs' must be a list of directories`);
  if (c.sinks !== undefined) {
    if (!Array.isArray(c.sinks)) throw new UsageError(`${path}: 'sinks' must be a list`);
    for (const s of c.sinks) parseSinkObject(s, path);
  }
  return c as CollectConfig;
}

function parseSinkObject(s: unknown, where: string): SinkSpec {
  const o = s as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') throw new UsageError(`${where}: a sink must be an object with a 'type'`);
  if (o.type === 'duckdb') return { type: 'duckdb', path: o.path as string | undefined };
  if (o.type === 'ndjson') {
    if (typeof o.dir !== 'string') throw new UsageError(`${where}: an ndjson sink needs 'dir'`);
    return o as SinkSpec;
  }
  if (o.type === 'stdout') return { type: 'stdout', format: o.format === 'json' ? 'json' : 'praudit' };
  throw new UsageError(`${where}: unknown sink type ${JSON.stringify(o.type)} (duckdb, ndjson, stdout)`);
}

/** `--sink duckdb[:PATH]`, `--sink ndjson:DIR`, `--sink stdout[:json|praudit]`. */
export function parseSinkFlag(spec: string, cwd: string): SinkSpec {
  const i = spec.indexOf(':');
  const type = i < 0 ? spec : spec.slice(0, i);
  const arg = i < 0 ? undefined : spec.slice(i + 1);
  switch (type) {
    case 'duckdb':
      return { type: 'duckdb', path: arg ? resolve(cwd, arg) : undefined };
    case 'ndjson':
      if (!arg) throw new UsageError(`--sink ndjson:DIR needs a directory`);
      return { type: 'ndjson', dir: resolve(cwd, arg) };
    case 'stdout':
      if (arg !== undefined && arg !== 'json' && arg !== 'praudit') throw new UsageError(`--sink stdout:FORMAT: json or praudit`);
      return { type: 'stdout', format: (arg as 'json' | 'praudit' | undefined) ?? 'praudit' };
    default:
      throw new UsageError(`--sink: unknown sink '${type}' (duckdb[:PATH], ndjson:DIR, stdout[:json|praudit])`);
  }
}

/**
 * Builds the sinks. The DuckDB store and NDJSON files run on worker threads (sinks/worker-sink.ts), so their
 * rendering never holds up intake; stdout stays on the main thread (a worker's stdout goes through it anyway).
 */
export async function createSinks(specs: SinkSpec[]): Promise<Sink[]> {
  const out: Sink[] = [];
  const { WorkerSink } = await import('../sinks/worker-sink.js');
  for (const s of specs) {
    if (s.type === 'duckdb') {
      out.push(new WorkerSink({ kind: 'duckdb', options: { path: s.path } }));
    } else if (s.type === 'ndjson') {
      out.push(new WorkerSink({ kind: 'ndjson', options: { dir: s.dir, maxBytes: s.maxBytes, maxAgeMs: s.maxAgeSec === undefined ? undefined : s.maxAgeSec * 1000 } }));
    } else {
      const { StdoutSink } = await import('../sinks/stdout-sink.js');
      out.push(new StdoutSink({ format: s.format }));
    }
  }
  return out;
}

/** hybrid where both a trail directory and the device exist, else whichever exists (trail by default). */
export function defaultMode(trailDirs: string[], device: string | undefined, modelEndpoint: string | undefined): CollectMode {
  const haveTrail = trailDirs.some((d) => existsSync(d));
  const havePipe = modelEndpoint !== undefined || (device !== undefined && existsSync(device));
  if (haveTrail && havePipe) return 'hybrid';
  if (havePipe) return 'pipe';
  return 'trail';
}
