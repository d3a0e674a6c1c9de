import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { UsageError } from '../../errors.js';
import { formatReport } from '../../collector/accounting.js';
import { Collector } from '../../collector/collector.js';
import { selectionFilter } from '../../collector/select-filter.js';
import { createSinks, defaultMode, parseSinkFlag, readConfigFile, type CollectConfig } from '../../collector/config.js';
import type { CliIo } from '../io.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'collect audit records loss-free: trail, audit pipe or both (hybrid) → spool → DuckDB/NDJSON/stdout';

const usage = `usage: bsmkit collect [OPTIONS]

Collects BSM audit records without losing any unaccounted (docs/collector.md, docs/accounting.md):
the audit pipe for latency, the trail for completeness, a durable spool in between, then the sinks.

  --source MODE        trail | pipe | hybrid (default: hybrid when both the trail and the device exist)
  --config FILE        JSON configuration (flags override it)
  --spool DIR          spool directory (default /var/db/bsmkit/spool)
  --spool-max BYTES    spool size cap (default 1 GiB): intake pauses at the cap, see docs/collector.md
  --trail-dir DIR      trail directory, repeatable (default: dir: of /etc/security/audit_control, or /var/audit)
  --device PATH        audit pipe device (default /dev/auditpipe)
  --model DIR          read a kernel model's simulated pipe (bsmkit simulate's endpoint) instead of the device
  --qlimit N|max       pipe queue limit to set (default max)
  --drain-priority P   high | normal: scheduling of the pipe drain thread (default high: real-time where
                       the OS allows, so busy threads do not keep it from the queue; docs/audit-pipe.md)
  --from start|end     where to start in the trail on the first run (default start)
  --sink SPEC          duckdb[:PATH] | ndjson:DIR | stdout[:praudit|json], repeatable (default duckdb)
  --stats-interval S   print a stats line every S seconds to stderr (default 10; 0: never)
  --metrics-port PORT  serve Prometheus text on 127.0.0.1:PORT
  --select="OPTS"      deliver only records matching these reduce options (e.g. --select="-c ex -u 501") to the
                       sinks; the spool keeps every record (docs/reduce.md)
  --user NAME          drop privileges to NAME once the device is open (when started as root)

SIGINT/SIGTERM: clean shutdown (the pipe is read to empty, sinks catch up) and a final report on stderr.
\`bsmkit stats --spool DIR\` shows the state of a running or stopped collector.
`;

function auditControlDirs(): string[] {
  try {
    const text = readFileSync('/etc/security/audit_control', 'utf8');
    const dirs = text.split('\n').map((l) => /^dir:(.+)$/.exec(l.trim())?.[1]?.trim()).filter((d): d is string => !!d);
    if (dirs.length) return dirs;
  } catch {
    /* no audit_control */
  }
  return ['/var/audit'];
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const n of readdirSync(path, { withFileTypes: true })) {
    if (n.isDirectory()) chownTree(join(path, n.name), uid, gid);
    else chownSync(join(path, n.name), uid, gid);
  }
}

/** Drops root for `user` (setgid first, then setuid); the spool is handed over so the collector can go on writing. */
function dropPrivileges(user: string, spool: string, log: (l: string) => void): void {
  if (!process.setuid || !process.setgid || process.getuid?.() !== 0) {
    log(`bsmkit collect: --user ${user}: not running as root, privileges unchanged`);
    return;
  }
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new UsageError(`--user: no such user '${user}'`);
  chownTree(spool, uid, gid);
  process.setgid!(gid);
  process.setuid!(uid);
  log(`bsmkit collect: running as ${user} (uid ${uid}, gid ${gid})`);
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: {
      source: { type: 'string' },
      config: { type: 'string' },
      spool: { type: 'string' },
      'spool-max': { type: 'string' },
      'trail-dir': { type: 'string', multiple: true },
      device: { type: 'string' },
      model: { type: 'string' },
      qlimit: { type: 'string' },
      'drain-priority': { type: 'string' },
      from: { type: 'string' },
      sink: { type: 'string', multiple: true },
      'stats-interval': { type: 'string' },
      'metrics-port': { type: 'string' },
      user: { type: 'string' },
      select: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const cfg: CollectConfig = values.config ? readConfigFile(resolve(io.cwd, values.config)) : {};
  const num = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${what} needs a non-negative number, got '${v}'`);
    return n;
  };
  const trailDirs = values['trail-dir']?.map((d) => resolve(io.cwd, d)) ?? cfg.trailDirs ?? auditControlDirs();
  const modelEndpoint = values.model ? resolve(io.cwd, values.model) : cfg.modelEndpoint;
  const devicePath = values.device ?? cfg.device ?? '/dev/auditpipe';
  const source = (values.source ?? cfg.source ?? defaultMode(trailDirs, devicePath, modelEndpoint)) as CollectConfig['source'];
  if (!['trail', 'pipe', 'hybrid'].includes(source!)) throw new UsageError(`--source must be trail, pipe or hybrid`);
  const qlimitText = values.qlimit ?? (cfg.qlimit === undefined ? 'max' : String(cfg.qlimit));
  const qlimit = qlimitText === 'max' ? 'max' : num(qlimitText, 'qlimit')!;
  const drainPriority = values['drain-priority'] ?? cfg.drainPriority ?? 'high';
  if (drainPriority !== 'high' && drainPriority !== 'normal') throw new UsageError(`--drain-priority must be high or normal`);
  const from = (values.from ?? cfg.from ?? 'start') as 'start' | 'end';
  if (from !== 'start' && from !== 'end') throw new UsageError(`--from must be start or end`);
  const spool = values.spool ? resolve(io.cwd, values.spool) : cfg.spool ?? '/var/db/bsmkit/spool';
  const sinkSpecs = values.sink?.map((s) => parseSinkFlag(s, io.cwd)) ?? cfg.sinks ?? [{ type: 'duckdb' as const }];
  const statsSec = num(values['stats-interval'], 'stats-interval') ?? cfg.statsIntervalSec ?? 10;
  const metricsPort = num(values['metrics-port'], 'metrics-port') ?? cfg.metricsPort;
  const user = values.user ?? cfg.user;
  const selectExpr = values.select ?? cfg.select;
  const select = selectExpr !== undefined ? selectionFilter(selectExpr) : undefined;
  const log = (l: string): void => void io.stderr.write(l + '\n');

  if (source !== 'pipe') for (const d of trailDirs) if (!existsSync(d)) log(`bsmkit collect: trail directory ${d} does not exist (yet)`);
  const sinks = await createSinks(sinkSpecs);
  const collector = await Collector.start({
    mode: source!,
    spoolDir: spool,
    spoolMaxBytes: num(values['spool-max'], 'spool-max') ?? cfg.spoolMaxBytes,
    trailDirs,
    device: modelEndpoint ? { kind: 'simulated', endpoint: modelEndpoint } : { kind: 'native', path: devicePath },
    qlimit,
    drainPriority,
    from,
    sinks,
    select,
    statsIntervalMs: statsSec * 1000,
    prometheusPort: metricsPort,
    log,
  });
  log(`bsmkit collect: ${source} mode, spool ${spool}, sinks ${sinks.map((s) => s.name).join(', ')}${metricsPort ? `, metrics on 127.0.0.1:${collector.metricsPort}` : ''}`);
  if (user) dropPrivileges(user, spool, log);

  await new Promise<void>((resolveStop) => {
    const onSignal = (sig: string): void => {
      log(`bsmkit collect: ${sig}: shutting down`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolveStop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const fin = await collector.stop();
  io.stderr.write(formatReport(fin));
  return fin.errors.length && fin.records.total === 0 ? 1 : 0;
}
