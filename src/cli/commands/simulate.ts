import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { parsePhase, runModel, type ModelConfig, type Phase } from '../../testing/kernel-model/index.js';
import type { CliIo } from '../io.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'run the kernel model: a simulated audit pipe device, trail and auditd, with ground truth';

const usage = `usage: bsmkit simulate [OPTIONS]

Plays the BSD kernel audit subsystem and auditd (docs/kernel-model.md): writes a trail as auditd does and serves
simulated /dev/auditpipe devices (SimulatedPipeDevice.open(ENDPOINT)), logging what happened to every record.

  --seed N             workload seed (default 1)
  --personality P      freebsd (default) or xnu
  --endpoint DIR       device endpoint directory (default: a new temporary directory)
  --dir DIR            trail directory, repeatable (audit_control dir:; default ENDPOINT/trail)
  --truth DIR          ground truth directory (default ENDPOINT/truth)
  --rate R             steady workload, records/s or 'max' (default 1000)
  --duration S         seconds of steady workload; 0 = until stopped (default 0)
  --burst N            then N records as fast as possible (repeatable)
  --sleep-wake N[:S]   then the machine sleeps S seconds (default 3600) and wakes with N records committed
                       while no reader can run (repeatable)
  --phase SPEC         explicit phases instead: steady:RATE:SECONDS, burst:COUNT, sleep:COUNT[:SECONDS], idle:SECONDS
  --loop               repeat the phases until stopped
  --exit               stop (audit -t) and exit when the phases are done
  --flags F            trail preselection for attributable records (default all)
  --naflags F          trail preselection for non-attributable records (default all)
  --filesz BYTES       rotate the trail at this size (default 0: never by size)
  --expire-bytes N     expire-after: keep at most N bytes of trails
  --expire-age S       expire-after: remove trails that ended more than S seconds ago
  --symlink-gap MS     how long 'current' is absent during a rotation (default 0)
  --alloc-fail P       probability of a pipe allocation failure per append (default 0)
  --write-error P      probability of a trail write error per record (default 0)
  --counter-base N     pipe counters start at N (e.g. 4294967000 to see the 2^32 wrap)
  --start-time ISO     simulated start time (default now)
  --manual-clock       the clock moves only with the workload schedule (deterministic trail names)

SIGINT/SIGTERM stop cleanly (audit -t); SIGKILL leaves a crashed trail for crash_recovery.
`;

function num(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${what} needs a non-negative number, got '${v}'`);
  return n;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      personality: { type: 'string' },
      endpoint: { type: 'string' },
      dir: { type: 'string', multiple: true },
      truth: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      burst: { type: 'string', multiple: true },
      'sleep-wake': { type: 'string', multiple: true },
      phase: { type: 'string', multiple: true },
      loop: { type: 'boolean' },
      exit: { type: 'boolean' },
      flags: { type: 'string' },
      naflags: { type: 'string' },
      filesz: { type: 'string' },
      'expire-bytes': { type: 'string' },
      'expire-age': { type: 'string' },
      'symlink-gap': { type: 'string' },
      'alloc-fail': { type: 'string' },
      'write-error': { type: 'string' },
      'counter-base': { type: 'string' },
      'start-time': { type: 'string' },
      'manual-clock': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const personality = values.personality ?? 'freebsd';
  if (personality !== 'freebsd' && personality !== 'xnu') throw new UsageError(`--personality must be freebsd or xnu`);

  let phases: Phase[];
  try {
    if (values.phase?.length) {
      phases = values.phase.map(parsePhase);
    } else {
      const rate = values.rate === 'max' ? 'max' : num(values.rate, 'rate') ?? 1000;
      const duration = num(values.duration, 'duration') ?? 0;
      // a timed steady phase first, then bursts and sleep/wake cycles, then (without --duration) steady forever
      phases = [];
      if (duration > 0) phases.push({ type: 'steady', rate, seconds: duration });
      for (const b of values.burst ?? []) phases.push(parsePhase(`burst:${b}`));
      for (const sw of values['sleep-wake'] ?? []) phases.push(parsePhase(`sleep:${sw}`));
      if (duration === 0) phases.push({ type: 'steady', rate, seconds: 0 });
    }
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let startTime: number | undefined;
  if (values['start-time'] !== undefined) {
    startTime = Date.parse(values['start-time']);
    if (!Number.isFinite(startTime)) throw new UsageError(`--start-time: not a date: '${values['start-time']}'`);
  }
  const endpoint = values.endpoint ? resolve(io.cwd, values.endpoint) : mkdtempSync(join(tmpdir(), 'bsmkit-model-'));
  const expireBytes = num(values['expire-bytes'], 'expire-bytes');
  const expireAge = num(values['expire-age'], 'expire-age');
  const config: ModelConfig = {
    endpoint,
    truthDir: values.truth ? resolve(io.cwd, values.truth) : undefined,
    trailDirs: values.dir?.map((d) => resolve(io.cwd, d)),
    personality,
    seed: num(values.seed, 'seed') ?? 1,
    flags: values.flags,
    naflags: values.naflags,
    filesz: num(values.filesz, 'filesz'),
    expireAfter: expireBytes !== undefined || expireAge !== undefined ? { bytes: expireBytes, ageSec: expireAge } : undefined,
    symlinkGapMs: num(values['symlink-gap'], 'symlink-gap'),
    allocFailRate: num(values['alloc-fail'], 'alloc-fail'),
    trailWriteErrorRate: num(values['write-error'], 'write-error'),
    counterBase: num(values['counter-base'], 'counter-base'),
    startTime,
    clock: values['manual-clock'] ? 'manual' : 'wall',
    phases,
    loop: values.loop ?? false,
    exitWhenDone: values.exit ?? false,
  };
  let model;
  try {
    model = await runModel(config);
  } catch (err) {
    throw new UsageError(`cannot start the kernel model: ${(err as Error).message}`);
  }
  const i = model.info;
  io.stdout.write(
    [
      `kernel model running (pid ${i.pid}, ${i.personality}, seed ${i.seed})`,
      `  device endpoint: ${i.endpoint}   (openPipeSource({ device: { endpoint } }), docs/audit-pipe.md)`,
      `  control socket:  ${i.controlSocket}`,
      `  trail dirs:      ${i.trailDirs.join(', ')}   (current: ${i.currentLink})`,
      `  ground truth:    ${i.truthDir}   (truth.bin, events.ndjson, summary.json on stop)`,
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    void model.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await model.stopped;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  const s = model.kernel.summary() as { counters: Record<string, number> };
  io.stdout.write(`stopped: ${s.counters.generated} records generated, ${s.counters.trailWritten} written to the trail\n`);
  return 0;
}
