/**
 * `bsmkit tail [DIR...]`: follows auditd's trail (or, with --pipe, the audit pipe) and prints records as they are
 * written, like praudit or as NDJSON. With --cursor-file it resumes where the last run stopped and records its
 * position once the records before it have been printed, so a restart neither skips nor repeats a record.
 * Thin: the work is sources/trail (the follower) and render/.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BsmkitError, UsageError } from '../../errors.js';
import { hostOrBuiltinEventTable, loadAuditEventFile } from '../../catalog/event-table.js';
import { loadAuditControlFile } from '../../catalog/control.js';
import { decodeRecord } from '../../format/decode-record.js';
import type { BsmRecord, Diagnostic } from '../../format/types.js';
import { hostPlatform, parsePlatform, PLATFORMS, type Platform } from '../../render/platform.js';
import { createPrauditRenderer } from '../../render/praudit/index.js';
import { createJsonRenderer } from '../../render/json/index.js';
import type { LossReport, SourceCursor } from '../../sources/source.js';
import { followTrail } from '../../sources/trail/follow.js';
import type { TrailCursor } from '../../sources/trail/cursor.js';
import { readCursorFile, writeCursorFile } from '../../sources/trail/cursor-file.js';
import type { CliIo } from '../io.js';

export const summary = 'follow the audit trail (or the audit pipe) and print records as they are written';

const AUDIT_CONTROL = '/etc/security/audit_control';
const DEFAULT_TRAIL_DIR = '/var/audit';
const DEFAULT_PIPE = '/dev/auditpipe';

const HELP = `usage: bsmkit tail [options] [DIR...]

Follows the BSM audit trail that auditd writes in DIR (default: every dir: of ${AUDIT_CONTROL},
else ${DEFAULT_TRAIL_DIR}) through rotations, crash recovery and expiry, and prints each record as it is
written. Several DIRs are followed as one trail, files ordered by name.

where to start:
  --from-start          every trail file present
  --from-end            only records written from now on (the default when following)
  --cursor-file FILE    resume from the cursor stored in FILE (if it exists, else --from-start/--from-end),
                        and store the position there as records are printed
  --follow              keep following the active file (the default)
  --no-follow           print what is there and exit (starts at the beginning unless told otherwise)
output:
  --json                NDJSON, one object per record (docs/json-format.md)
  -l -n -r -s -x -d DEL praudit's options (text is the default)
  --platform P          whose praudit to imitate: linux, freebsd, macos (default: host)
  --events FILE         audit_event file for event names
other:
  --pipe[=DEVICE]       read the audit pipe (default ${DEFAULT_PIPE}) instead of the trail
  --pipe-endpoint DIR   read a pipe of a running kernel model (bsmkit simulate) instead
  --control FILE        audit_control file for the trail directories (default ${AUDIT_CONTROL})
  --poll MS             poll interval when no file-system notification comes (default 500)
  --no-watch            poll only (network file systems)
Damage goes to stderr as FILE: offset N: message [CODE], lost trail files as "lost: ..." lines.
Exit status: 0 ok, 1 usage error, 2 damage or loss was reported (every intact record is still printed),
3 the trail or the pipe could not be opened.
`;

interface Parsed {
  dirs: string[];
  from?: 'start' | 'end';
  cursorFile?: string;
  follow: boolean;
  json: boolean;
  praudit: { delimiter?: string; oneLine?: boolean; noResolve?: boolean; raw?: boolean; short?: boolean; xml?: boolean };
  platform: Platform;
  events?: string;
  pipe?: string;
  pipeEndpoint?: string;
  control?: string;
  pollMs?: number;
  watch: boolean;
}

function parse(argv: string[]): Parsed | 'help' {
  // `--pipe` takes an optional value, which parseArgs cannot express: a bare --pipe means the default device.
  const args = argv.map((a) => (a === '--pipe' ? `--pipe=${DEFAULT_PIPE}` : a));
  let p;
  try {
    p = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'from-start': { type: 'boolean' },
        'from-end': { type: 'boolean' },
        'cursor-file': { type: 'string' },
        follow: { type: 'boolean' },
        'no-follow': { type: 'boolean' },
        json: { type: 'boolean' },
        d: { type: 'string', short: 'd' },
        l: { type: 'boolean', short: 'l' },
        n: { type: 'boolean', short: 'n' },
        r: { type: 'boolean', short: 'r' },
        s: { type: 'boolean', short: 's' },
        x: { type: 'boolean', short: 'x' },
        platform: { type: 'string' },
        events: { type: 'string' },
        pipe: { type: 'string' },
        'pipe-endpoint': { type: 'string' },
        control: { type: 'string' },
        poll: { type: 'string' },
        'no-watch': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = p.values;
  if (o.help) return 'help';
  if (o['from-start'] && o['from-end']) throw new UsageError('--from-start and --from-end cannot be used together');
  if (o.follow && o['no-follow']) throw new UsageError('--follow and --no-follow cannot be used together');
  if (o.r && o.s) throw new UsageError('-r and -s cannot be used together');
  if (o.json && (o.x || o.l || o.d !== undefined || o.r || o.s || o.n)) throw new UsageError('-d, -l, -n, -r, -s and -x apply to praudit text, not to --json');
  const pipeMode = o.pipe !== undefined || o['pipe-endpoint'] !== undefined;
  if (o.pipe !== undefined && o['pipe-endpoint'] !== undefined) throw new UsageError('--pipe and --pipe-endpoint cannot be used together');
  if (pipeMode && (p.positionals.length || o['cursor-file'] !== undefined || o['from-start'] || o['from-end'] || o['no-follow'] || o.control !== undefined)) {
    throw new UsageError('a pipe has no files, position or end: DIR, --cursor-file, --from-start, --from-end, --no-follow and --control apply to the trail');
  }
  let platform: Platform = hostPlatform();
  if (o.platform !== undefined) {
    const pl = parsePlatform(o.platform);
    if (!pl) throw new UsageError(`--platform must be one of ${PLATFORMS.join(', ')}`);
    platform = pl;
  }
  let pollMs: number | undefined;
  if (o.poll !== undefined) {
    pollMs = Number(o.poll);
    if (!Number.isInteger(pollMs) || pollMs < 1 || pollMs > 3_600_000) throw new UsageError('--poll must be a number of milliseconds (1..3600000)');
  }
  const follow = !o['no-follow'];
  return {
    dirs: p.positionals,
    from: o['from-start'] ? 'start' : o['from-end'] ? 'end' : undefined,
    cursorFile: o['cursor-file'],
    follow,
    json: o.json ?? false,
    praudit: { delimiter: o.d, oneLine: o.l, noResolve: o.n, raw: o.r, short: o.s, xml: o.x },
    platform,
    events: o.events,
    pipe: o.pipe,
    pipeEndpoint: o['pipe-endpoint'],
    control: o.control,
    pollMs,
    watch: !o['no-watch'],
  };
}

/** The trail directories: the arguments, else audit_control's dir: lines, else /var/audit. */
function trailDirs(p: Parsed): string[] {
  if (p.dirs.length) return p.dirs;
  const control = p.control ?? AUDIT_CONTROL;
  if (p.control !== undefined || existsSync(control)) {
    const dirs = loadAuditControlFile(control).control.dirs;
    if (dirs.length) return dirs;
  }
  return [DEFAULT_TRAIL_DIR];
}

/** Where a record or damage came from, for stderr. */
interface Place {
  path?: string;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    return await runTail(argv, io);
  } catch (err) {
    if (err instanceof OperationalError) {
      io.stderr.write(`bsmkit tail: ${err.message} [${err.code}]\n`);
      return 3;
    }
    throw err;
  }
}

async function runTail(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv);
  if (p === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const events = p.events !== undefined ? loadAuditEventFile(p.events).table : hostOrBuiltinEventTable(p.platform === 'macos' ? 'macos' : 'openbsm');
  let render: (rec: BsmRecord) => string;
  let head = '';
  let tail = '';
  const encoding: BufferEncoding = p.json ? 'utf8' : 'latin1';
  if (p.json) {
    const r = createJsonRenderer({ events });
    render = (rec) => r.record(rec);
  } else {
    const r = createPrauditRenderer({ ...p.praudit, platform: p.platform, events, timeZone: io.env.TZ });
    render = (rec) => r.record(rec);
    head = r.begin();
    tail = r.end();
  }

  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // A closed stdout (`| head`) ends the run quietly.
  const onOutError = (): void => ac.abort();
  io.stdout.on('error', onOutError);

  let problems = 0;
  const out = new Output(io, encoding, p.cursorFile);
  const report = (place: Place, d: Diagnostic): void => {
    if (d.severity === 'error') problems++;
    io.stderr.write(`${place.path ?? '(stream)'}: offset ${d.offset}: ${d.message} [${d.code}]\n`);
  };
  const lost = (l: LossReport): void => {
    problems++;
    io.stderr.write(`lost${l.certain ? '' : ' (possibly)'}: ${l.message}\n`);
  };
  out.add(head);

  try {
    if (p.pipe !== undefined || p.pipeEndpoint !== undefined) {
      await tailPipe(p, ac.signal, (bytes, offset, place) => {
        const rec = decodeRecord(bytes, offset);
        for (const d of rec.diagnostics) report(place, d);
        out.add(render(rec));
      }, report, lost, out);
    } else {
      let from: 'start' | 'end' | TrailCursor = p.from ?? (p.follow ? 'end' : 'start');
      if (p.cursorFile !== undefined) from = readCursorFile(p.cursorFile) ?? from;
      let dirs: string[];
      try {
        dirs = trailDirs(p);
      } catch (err) {
        throw operational(err);
      }
      const source = followTrail({ dirs, from, once: !p.follow, signal: ac.signal, pollIntervalMs: p.pollMs, watch: p.watch });
      try {
        for await (const it of source) {
          if (it.type === 'record') {
            const rec = decodeRecord(it.bytes, it.offset);
            for (const d of rec.diagnostics) report(it.meta, d);
            out.add(render(rec));
          } else if (it.type === 'diagnostic') report(it.meta, it.diagnostic);
          else if (it.type === 'loss') lost(it.loss);
          out.passed(it.cursor);
          if (out.size >= FLUSH_AT) await out.flush();
          else out.flushSoon();
        }
      } catch (err) {
        throw operational(err);
      } finally {
        await source.close();
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    out.add(tail);
    await out.close(); // the error listener stays: an EPIPE can still be reported after the last write
  }
  return problems > 0 ? 2 : 0;
}

/** Exit status 3 for a trail or pipe that cannot be opened (permissions, missing directory or device). */
function operational(err: unknown): unknown {
  if (err instanceof BsmkitError && !(err instanceof UsageError) && !(err instanceof OperationalError)) return new OperationalError(err);
  return err;
}

class OperationalError extends BsmkitError {
  constructor(cause: BsmkitError) {
    super(cause.code, cause.message, { cause });
  }
}

async function tailPipe(
  p: Parsed,
  signal: AbortSignal,
  onRecord: (bytes: Buffer, offset: number, place: Place) => void,
  report: (place: Place, d: Diagnostic) => void,
  lost: (l: LossReport) => void,
  out: Output,
): Promise<void> {
  // Loaded only here: the pipe needs koffi (FFI) for the real device, which a trail follower never does.
  const pipe = await import('../../sources/pipe/index.js').catch((err: unknown) => {
    throw new BsmkitError('BSMKIT_E_PIPE_UNAVAILABLE', `the audit pipe source is not available in this build: ${(err as Error).message}`, { cause: err });
  });
  const device = p.pipeEndpoint !== undefined ? { endpoint: p.pipeEndpoint } : { path: p.pipe };
  let source;
  try {
    source = await pipe.openPipeSource({ device, signal });
  } catch (err) {
    throw operational(err);
  }
  const place: Place = { path: source.device };
  try {
    for await (const it of source) {
      if (it.type === 'record') onRecord(it.bytes, it.offset, place);
      else if (it.type === 'diagnostic') report(place, it.diagnostic);
      else if (it.type === 'loss') lost(it.loss);
      if (out.size >= FLUSH_AT) await out.flush();
      else out.flushSoon();
    }
  } finally {
    await source.close();
  }
}

const FLUSH_AT = 256 * 1024;

/**
 * Batches printed text and writes it with backpressure; after each write, stores the cursor of the last item
 * whose output it contained. A flush is scheduled for when the source waits (setImmediate runs after pending
 * I/O), so output is prompt when records trickle and batched when they stream.
 */
class Output {
  private parts: string[] = [];
  private len = 0;
  private cursor?: SourceCursor;
  private cursorDirty = false;
  private timer?: NodeJS.Immediate;
  private chain: Promise<void> = Promise.resolve();
  private failed?: unknown;

  constructor(
    private readonly io: CliIo,
    private readonly encoding: BufferEncoding,
    private readonly cursorFile: string | undefined,
  ) {}

  get size(): number {
    return this.len;
  }

  add(s: string): void {
    if (!s) return;
    this.parts.push(s);
    this.len += s.length;
  }

  /** Everything up to this cursor has been added (printed once flushed). */
  passed(c: SourceCursor): void {
    this.cursor = c;
    this.cursorDirty = true;
  }

  flushSoon(): void {
    if (this.timer) return;
    this.timer = setImmediate(() => {
      this.timer = undefined;
      void this.flush();
    });
  }

  flush(): Promise<void> {
    const text = this.parts.join('');
    this.parts = [];
    this.len = 0;
    const cursor = this.cursorDirty ? this.cursor : undefined;
    this.cursorDirty = false;
    this.chain = this.chain.then(async () => {
      if (this.failed) return;
      try {
        if (text) await writeOut(this.io.stdout, Buffer.from(text, this.encoding));
        if (cursor && this.cursorFile !== undefined) writeCursorFile(this.cursorFile, cursor as TrailCursor);
      } catch (err) {
        this.failed = err;
      }
    });
    return this.chain;
  }

  async close(): Promise<void> {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    await this.flush();
    // A reader that went away (`| head`) ends the run quietly, as for any Unix filter.
    const code = (this.failed as NodeJS.ErrnoException | undefined)?.code;
    if (this.failed && code !== 'EPIPE' && code !== 'ERR_STREAM_DESTROYED' && (this.failed as Error).message !== 'output closed') throw this.failed;
  }
}

/** Writes with backpressure; a stream that fails or closes (EPIPE) rejects instead of waiting for 'drain' forever. */
function writeOut(stream: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown): void => {
      stream.off('drain', onDrain);
      stream.off('error', done);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('output closed'));
    if (stream.write(chunk)) {
      resolve();
      return;
    }
    stream.once('drain', onDrain);
    stream.once('error', done);
    stream.once('close', onClose);
  });
}
