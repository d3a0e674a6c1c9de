/**
 * Runs one kernel model in the current process: kernel + auditd + ground truth + endpoint server + scenario.
 * `bsmkit simulate` calls runModel directly; startKernelModel() spawns main.ts, which calls it in a child process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags, type ClassMask } from './event-classes.js';
import { Kernel } from './kernel.js';
import { ENDPOINT } from './protocol.js';
import { commitRandom, ScenarioRunner, type Phase } from './scenario.js';
import { ModelServer } from './server.js';
import { SUMMARY_FILE, TruthWriter } from './truth.js';
import type { EmitSpec } from './workload.js';
import type { Personality } from './audit-pipe.js';

export type MaskSpec = string | ClassMask;

/** Everything a model run is configured with (JSON-serialisable: it crosses the process boundary). */
export interface ModelConfig {
  /** Directory of the device endpoint (control FIFO, control socket, per-pipe FIFOs). */
  endpoint: string;
  /** Ground truth directory (default `<endpoint>/truth`). */
  truthDir?: string;
  /** Trail directories, audit_control `dir:` (default `[<endpoint>/trail]`). */
  trailDirs?: string[];
  personality?: Personality;
  seed?: number;
  /** Trail preselection (audit_control flags / naflags): class names ("lo,aa,+fr"), or masks. Default 'all'. */
  flags?: MaskSpec;
  naflags?: MaskSpec;
  /** audit_user entries: per-auid trail masks. */
  userMasks?: Array<{ auid: number; mask: MaskSpec }>;
  /** Rotate at this trail size in bytes (0: never by size). */
  filesz?: number;
  expireAfter?: { bytes?: number; ageSec?: number };
  symlinkGapMs?: number;
  currentLink?: string;
  allocFailRate?: number;
  trailWriteErrorRate?: number;
  counterBase?: number;
  noSpaceRecoveryMs?: number | null;
  /** Simulated start time, ms since the epoch (default: now). */
  startTime?: number;
  clock?: 'wall' | 'manual';
  tagSeq?: boolean;
  phases?: Phase[];
  loop?: boolean;
  /** Stop (audit -t) and exit once the phases are done. */
  exitWhenDone?: boolean;
  /** Log the sequence numbers each pipe read completed (events.ndjson 'pipe-read'). */
  logReads?: boolean;
}

/** What a started model reports (the `ready` line of the child process). */
export interface ModelInfo {
  pid: number;
  endpoint: string;
  controlSocket: string;
  truthDir: string;
  trailDirs: string[];
  currentLink: string;
  personality: Personality;
  seed: number;
}

export interface RunningModel {
  info: ModelInfo;
  kernel: Kernel;
  server: ModelServer;
  runner: ScenarioRunner;
  /** Resolves when the model stopped (shutdown op, stop(), or the phases ended with exitWhenDone). */
  stopped: Promise<void>;
  /** audit -t, close everything, write summary.json. */
  stop(): Promise<void>;
}

function mask(m: MaskSpec | undefined, dflt: string): ClassMask {
  if (m === undefined) return parseFlags(dflt);
  return typeof m === 'string' ? parseFlags(m) : { success: m.success >>> 0, failure: m.failure >>> 0 };
}

export async function runModel(config: ModelConfig): Promise<RunningModel> {
  const endpoint = resolve(config.endpoint);
  const truthDir = resolve(config.truthDir ?? join(endpoint, 'truth'));
  const trailDirs = (config.trailDirs ?? [join(endpoint, 'trail')]).map((d) => resolve(d));
  mkdirSync(endpoint, { recursive: true });
  mkdirSync(truthDir, { recursive: true });
  const personality = config.personality ?? 'freebsd';
  const seed = config.seed ?? 1;
  const truth = new TruthWriter(truthDir);
  const kernel = new Kernel(
    {
      personality,
      seed,
      flags: mask(config.flags, 'all'),
      naflags: mask(config.naflags, 'all'),
      userMasks: (config.userMasks ?? []).map((u) => ({ auid: u.auid, mask: mask(u.mask, '') })),
      allocFailRate: config.allocFailRate,
      trailWriteErrorRate: config.trailWriteErrorRate,
      counterBase: config.counterBase,
      noSpaceRecoveryMs: config.noSpaceRecoveryMs,
      auditd: {
        dirs: trailDirs,
        filesz: config.filesz ?? 0,
        expireAfter: config.expireAfter,
        symlinkGapMs: config.symlinkGapMs,
        currentLink: config.currentLink,
      },
      startTime: config.startTime ?? Date.now(),
      clock: config.clock ?? 'wall',
      tagSeq: config.tagSeq,
    },
    truth,
  );
  const runner = new ScenarioRunner(kernel);
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | null = null;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      runner.stop();
      kernel.stopTimers();
      kernel.shutdown();
      await server.close();
      writeFileSync(join(truthDir, SUMMARY_FILE), JSON.stringify(kernel.summary(), null, 2) + '\n');
      truth.close();
      resolveStopped();
    })();
    return stopping;
  };

  const seqRange = (first: number): { first: number; last: number } => ({ first, last: kernel.workload.nextSeq - 1 });

  const handler = async (op: string, args: Record<string, unknown>): Promise<unknown> => {
    switch (op) {
      case 'ping':
        return 'pong';
      case 'emit': {
        const first = kernel.workload.nextSeq;
        kernel.commit(kernel.workload.emit(args.records as EmitSpec[], kernel.now()));
        return seqRange(first);
      }
      case 'generate': {
        const first = kernel.workload.nextSeq;
        let left = Number(args.count ?? 1);
        while (left > 0) {
          const n = Math.min(8192, left);
          commitRandom(kernel, n, Number(args.dtMs ?? 0.001));
          left -= n;
        }
        return seqRange(first);
      }
      case 'run': {
        const first = kernel.workload.nextSeq;
        await runner.run(args.phases as Phase[], false);
        return seqRange(first);
      }
      case 'setAudit':
        kernel.setEnabled(Boolean(args.enabled));
        return kernel.enabled;
      case 'setTrailMasks':
        if (args.flags !== undefined) kernel.flags = mask(args.flags as MaskSpec, '');
        if (args.naflags !== undefined) kernel.naflags = mask(args.naflags as MaskSpec, '');
        if (Array.isArray(args.userMasks)) {
          kernel.userMasks.clear();
          for (const u of args.userMasks as Array<{ auid: number; mask: MaskSpec }>) kernel.userMasks.set(u.auid >>> 0, mask(u.mask, ''));
        }
        return null;
      case 'setEventClass':
        kernel.classes.setEventClass(Number(args.event), Number(args.mask));
        return null;
      case 'setAllocFailRate':
        kernel.allocFailRate = Number(args.rate);
        return null;
      case 'injectTrailFault':
        kernel.injectTrailFault(args.kind === 'enospc' ? 'enospc' : 'eio', Number(args.count ?? 1));
        return null;
      case 'rotate':
        return kernel.rotate(String(args.reason ?? 'user'), Boolean(args.nextDir));
      case 'expire':
        return kernel.auditd.expire();
      case 'advanceClock':
        kernel.advanceClock(Number(args.ms));
        return kernel.now();
      case 'interrupt':
        return server.interrupt(args.pipe === undefined ? undefined : Number(args.pipe));
      case 'summary':
        return kernel.summary();
      case 'sync':
        kernel.truth.flush();
        return null;
      case 'shutdown':
        setImmediate(() => void stop());
        return null;
      default:
        throw new Error(`unknown control op '${op}'`);
    }
  };

  const server = new ModelServer(kernel, endpoint, handler);
  server.logReads = config.logReads ?? false;
  await server.start();
  kernel.start();

  const info: ModelInfo = {
    pid: process.pid,
    endpoint,
    controlSocket: join(endpoint, ENDPOINT.controlSocket),
    truthDir,
    trailDirs,
    currentLink: kernel.auditd.currentLink,
    personality,
    seed,
  };
  writeFileSync(join(endpoint, ENDPOINT.info), JSON.stringify(info, null, 2) + '\n');

  if (config.phases && config.phases.length > 0) {
    void runner.run(config.phases, config.loop ?? false).then(() => {
      if (config.exitWhenDone) void stop();
    });
  } else if (config.exitWhenDone) {
    void stop();
  }
  return { info, kernel, server, runner, stopped, stop };
}
