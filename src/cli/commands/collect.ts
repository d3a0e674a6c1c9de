import { chownSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { constants as osConstants } from 'node:os';
import { execFileSync } from 'node:child_process';
import { BsmkitError, UsageError } from '../../errors.js';
import { lockSpool } from '../../spool/spool-lock.js';
import { formatReport, type CollectorStats } from '../../collector/accounting.js';
import { Collector } from '../../collector/collector.js';
import { selectionFilter } from '../../collector/select-filter.js';
import { createSinks, defaultMode, isByteCount, isPort, isQlimit, parseSinkFlag, readConfigFile, sinkNames, type CollectConfig } from '../../collector/config.js';
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

SIGINT/SIGTERM/SIGHUP: clean shutdown (the pipe is read to empty, sinks catch up) and a final report on stderr.
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

/** uid and gid of `user`, looked up before anything is opened so that a wrong name stops nothing half-started. */
function lookUpUser(user: string, where: string): { uid: number; gid: number } {
  const id = (flag: string): number => {
    try {
      return Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch {
      return NaN;
    }
  };
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new UsageError(`${where}: no such user '${user}'`);
  return { uid, gid };
}

/** POSIX process.initgroups (Node has it; @types/node does not declare it). */
const initgroups = (process as { initgroups?: (user: string, extraGroup: number) => void }).initgroups?.bind(process);

/**
 * Drops root for `user`: its supplementary groups (initgroups: root's own would otherwise stay, group 0 among them),
 * then setgid, then setuid. The spool is handed over so the collector can go on writing; the trail must be readable
 * by one of the user's groups (auditd's audit_review group).
 */
function dropPrivileges(user: string, ids: { uid: number; gid: number }, spool: string, log: (l: string) => void): void {
  chownTree(spool, ids.uid, ids.gid);
  initgroups!(user, ids.gid);
  process.setgid!(ids.gid);
  process.setuid!(ids.uid);
  log(`bsmkit collect: running as ${user} (uid ${ids.uid}, gid ${ids.gid})`);
}

/** Parses a numeric flag with `ok`; the error names the flag, the value and what is expected. */
function numFlag<T extends number>(v: string | undefined, flag: string, ok: (n: number) => n is T, expected: string): T | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!ok(n)) throw new UsageError(`--${flag} needs ${expected}, got '${v}'`);
  return n;
}
const isSeconds = (n: number): n is number => Number.isFinite(n) && n >= 0;

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
  const cfgPath = values.config !== undefined ? resolve(io.cwd, values.config) : undefined;
  const cfg: CollectConfig = cfgPath ? readConfigFile(cfgPath) : {};
  // Settings from the config file were checked by readConfigFile (errors name the file); flags are checked here.
  const trailDirsFrom = values['trail-dir'] ? '--trail-dir' : cfg.trailDirs ? `${cfgPath}: trailDirs` : undefined;
  const trailDirs = values['trail-dir']?.map((d) => resolve(io.cwd, d)) ?? cfg.trailDirs ?? auditControlDirs();
  const modelEndpoint = values.model ? resolve(io.cwd, values.model) : cfg.modelEndpoint;
  const devicePath = values.device ?? cfg.device ?? '/dev/auditpipe';
  const source = values.source ?? cfg.source ?? defaultMode(trailDirs, devicePath, modelEndpoint);
  if (source !== 'trail' && source !== 'pipe' && source !== 'hybrid') throw new UsageError(`--source must be trail, pipe or hybrid, got '${source}'`);
  const qlimit = values.qlimit === 'max' ? 'max' : numFlag(values.qlimit, 'qlimit', (n): n is number => isQlimit(n), 'a whole number of records (at least 1) or max') ?? cfg.qlimit ?? 'max';
  const drainPriority = values['drain-priority'] ?? cfg.drainPriority ?? 'high';
  if (drainPriority !== 'high' && drainPriority !== 'normal') throw new UsageError(`--drain-priority must be high or normal, got '${drainPriority}'`);
  const from = values.from ?? cfg.from ?? 'start';
  if (from !== 'start' && from !== 'end') throw new UsageError(`--from must be start or end, got '${from}'`);
  const spool = values.spool ? resolve(io.cwd, values.spool) : cfg.spool ?? '/var/db/bsmkit/spool';
  const spoolMaxBytes = numFlag(values['spool-max'], 'spool-max', isByteCount, 'a whole number of bytes (at least 1)') ?? cfg.spoolMaxBytes;
  const sinkSpecs = values.sink?.map((s) => parseSinkFlag(s, io.cwd)) ?? cfg.sinks ?? [{ type: 'duckdb' as const }];
  sinkNames(sinkSpecs); // the same target twice stops here, before anything is opened
  const statsSec = numFlag(values['stats-interval'], 'stats-interval', isSeconds, 'a number of seconds (0: no stats lines)') ?? cfg.statsIntervalSec ?? 10;
  const metricsPort = numFlag(values['metrics-port'], 'metrics-port', isPort, 'a port number from 1 to 65535') ?? cfg.metricsPort;
  const user = values.user ?? cfg.user;
  const selectExpr = values.select ?? cfg.select;
  let select: ReturnType<typeof selectionFilter> | undefined;
  try {
    select = selectExpr !== undefined ? selectionFilter(selectExpr) : undefined;
  } catch (err) {
    // name the setting the expression came from (some of the filter's own messages already speak of --select)
    if (!(err instanceof UsageError)) throw err;
    const fromFlag = values.select !== undefined;
    if (fromFlag && err.message.startsWith('--select')) throw err;
    throw new UsageError(`${fromFlag ? '--select' : `${cfgPath}: select`} "${selectExpr}": ${err.message.replace(/^--select /, '')}`);
  }
  const log = (l: string): void => void io.stderr.write(l + '\n');

  // The trail follower needs its directories at start (it stops with an error otherwise): say so now, naming where
  // the directory came from, rather than run a collector that collects nothing.
  if (source !== 'pipe') {
    for (const d of trailDirs) {
      let problem: string | undefined;
      try {
        if (!statSync(d).isDirectory()) problem = 'is not a directory';
      } catch (err) {
        problem = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message;
      }
      const origin = trailDirsFrom ?? (existsSync('/etc/security/audit_control') ? 'the dir: lines of /etc/security/audit_control' : 'the default');
      if (problem) throw new UsageError(`trail directory ${d} (${origin}) ${problem}; ${source} mode reads the trail there (--trail-dir DIR, or --source pipe)`);
    }
  }
  let ids: { uid: number; gid: number } | undefined;
  if (user) {
    if (process.setuid && process.setgid && initgroups && process.getuid?.() === 0) ids = lookUpUser(user, values.user ? '--user' : `${cfgPath}: user`);
    else log(`bsmkit collect: --user ${user}: not running as root, privileges unchanged`);
  }

  // Signals are taken from here on: one during start-up stops the collector as soon as it has started; a second
  // one exits at once (what is spooled is safe, docs/collector.md "Crash safety").
  let signalled: string | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      log(`bsmkit collect: second ${sig}: exiting now without waiting for the sinks; the spool keeps what was spooled and the next start resumes from it`);
      process.exit(128 + (osConstants.signals[sig] ?? 15));
    }
    signalled = sig;
    log(`bsmkit collect: ${sig}: shutting down`);
    wake?.();
  };
  // SIGHUP too (the terminal it ran in closed): a stop with the final report rather than the default abrupt exit
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  let unlock: (() => void) | undefined;
  const onExit = (): void => unlock?.();
  process.on('exit', onExit);
  try {
    // Collector.start locks the spool too (taking over its own process's lock): taken here first so that a busy
    // spool stops the command before anything is started or logged.
    unlock = lockSpool(spool);
    // Opening a device or a store can take a while (or block on a stopped kernel model): say what is happening.
    log(`bsmkit collect: starting, source ${source}, spool ${spool}`);
    const sinks = await createSinks(sinkSpecs);
    const options: Parameters<typeof Collector.start>[0] = {
      mode: source,
      spoolDir: spool,
      spoolMaxBytes,
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
    };
    const collector = await Collector.start(options).catch((err: unknown) => {
      if (err instanceof BsmkitError && err.code === 'BSMKIT_E_METRICS') {
        const where = values['metrics-port'] !== undefined ? '--metrics-port' : `${cfgPath}: metricsPort`;
        throw new BsmkitError(err.code, `${err.message} (${where}: choose a free port)`, { cause: err });
      }
      throw err;
    });
    let fin: CollectorStats | undefined;
    try {
      log(`bsmkit collect: ${source} mode, spool ${spool}, sinks ${sinks.map((s) => s.name).join(', ')}${metricsPort ? `, metrics on 127.0.0.1:${collector.metricsPort}` : ''}`);
      if (user && ids) dropPrivileges(user, ids, spool, log);
      if (!signalled) await new Promise<void>((r) => (wake = r));
    } finally {
      fin = await collector.stop();
      io.stderr.write(formatReport(fin));
    }
    return fin.errors.length && fin.records.total === 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('exit', onExit);
    unlock?.();
  }
}
