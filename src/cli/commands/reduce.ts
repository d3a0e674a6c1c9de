/**
 * `bsmkit reduce [options] [FILE...]`: auditreduce's selection without its bugs (docs/reduce.md). Thin: argv,
 * inputs, output and exit status; the work is src/select/.
 */
import { createReadStream } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { Diagnostic } from '../../format/types.js';
import { compileSelection } from '../../select/compile.js';
import { parseReduceArgs, type ReduceArgs } from '../../select/parse-args.js';
import { runReduce, type ReduceInput, type Write } from '../../select/reduce-run.js';
import type { ReduceStats } from '../../select/reduce-stream.js';
import type { CliIo } from '../io.js';

export const summary = 'select records like auditreduce (-A -a -b -c -d -e -f -g -j -m -o -r -u -v -z), without its bugs';

const HELP = `usage: bsmkit reduce [options] [FILE...]

Selects records from BSM audit trails (stdin when no FILE, or FILE is -) and writes them unchanged (binary BSM)
to stdout, like auditreduce: bsmkit reduce -m AUE_EXECVE trail | bsmkit print

selection (auditreduce's letters; several options are ANDed):
  -A              all records
  -a TIME         at or after TIME: YYYYMMDD[HH[MM[SS]]] (local time, or UTC with --utc) or ISO 8601 with offset
  -b TIME         at or before TIME (inclusive, as auditreduce)
  -d YYYYMMDD     on that day (00:00:00-23:59:59)
  -c FLAGS        audit classes in audit flags syntax (lo,+ex,-fr,^fa ...), outcome-aware
  -m EVENT        event number or AUE_ name; repeatable (ORed)
  -u USER         audit user (number or name)      -e USER   effective user     -r USER   real user
  -f GROUP        effective group                  -g GROUP  real group
  -j PID          subject process id
  -o file=RE,...  path regexes (POSIX ERE, first match wins, ~RE excludes, \\, escapes a comma)
  -o pid=N        target process id (process tokens)
  -o msgqid=N | semid=N | shmid=N   SysV IPC object id
  -o sock=SPEC    socket endpoint: ADDR, ADDR:PORT, [V6ADDR]:PORT, :PORT or /unix/path
  -z GLOB         zone (jail) name
  -v              invert the selection
other options:
  --json | --print     NDJSON or praudit text instead of binary BSM
  --concat             several inputs one after the other, as auditreduce (default: merged by record time,
                       each input being in time order itself; --merge says so explicitly)
  --utc                read -a/-b/-d times as UTC
  --path-match any     -o file=: one included path suffices (default: every path must be included)
  --keep-errors        judge damaged records on what decoded and emit them when selected
  --stats              summary on stderr
  --passwd FILE, --group FILE   user/group names from these files (default /etc/passwd, /etc/group)
  --platform P         built-in event/class tables: openbsm or macos (default: /etc/security, else built-in)
  --event-table FILE, --class-table FILE   audit_event / audit_class files
  --compat=openbsm     reproduce OpenBSM auditreduce exactly, known bugs included (for differential tests)
Exit status: 0 all good, 1 usage error (64 with --compat=openbsm), 2 damage or unreadable input found (every
intact record is still processed). Diagnostics go to stderr as FILE: offset N: message [CODE].
`;

/** auditreduce's usage text, for --compat=openbsm usage errors (status 64, as upstream's EX_USAGE). */
const COMPAT_USAGE = `Usage: auditreduce [options] [file ...]
\tOptions are : 
\t-A : all records
\t-a YYYYMMDD[HH[[MM[SS]]] : after date
\t-b YYYYMMDD[HH[[MM[SS]]] : before date
\t-c <flags> : matching class
\t-d YYYYMMDD : on date
\t-e <uid|name>  : effective user
\t-f <gid|group> : effective group
\t-g <gid|group> : real group
\t-j <pid> : subject id 
\t-m <evno|evname> : matching event
\t-o objecttype=objectvalue
\t\t file=<pathname>
\t\t msgqid=<ID>
\t\t pid=<ID>
\t\t semid=<ID>
\t\t shmid=<ID>
\t-r <uid|name> : real user
\t-u <uid|name> : audit user
\t-v : select non-matching records
\t-z <zonename> : name of jail
`;

function diagnosticLine(file: string, d: Diagnostic): string {
  return `${file}: offset ${d.offset}: ${d.message} [${d.code}]\n`;
}

function statsText(s: ReduceStats): string {
  return (
    `records: ${s.records} read, ${s.selected} selected, ${s.records - s.selected} not selected, ${s.damaged} damaged\n` +
    `file tokens: ${s.fileTokens} read, ${s.fileTokensSelected} passed\n` +
    `diagnostics: ${s.errors} errors, ${s.warnings} warnings; ${s.skippedBytes} bytes skipped while resynchronising\n`
  );
}

/** stdout with backpressure; stops quietly when the reader goes away (EPIPE: `reduce ... | head`). */
function stdoutWriter(io: CliIo): { write: (c: Buffer | string) => void | Promise<void>; closed: () => boolean } {
  let closed = false;
  io.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') closed = true;
    else throw err;
  });
  return {
    write(c) {
      if (closed) return;
      if (io.stdout.write(c)) return;
      return new Promise<void>((resolve) => {
        const done = (): void => {
          io.stdout.off('drain', done);
          io.stdout.off('close', done);
          resolve();
        };
        io.stdout.on('drain', done);
        io.stdout.on('close', done);
      });
    },
    closed: () => closed,
  };
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const compat = argv.some((a) => a === '--compat=openbsm' || a === '--compat');
  let args: ReduceArgs;
  try {
    args = parseReduceArgs(argv);
  } catch (err) {
    if (compat && err instanceof UsageError) {
      io.stderr.write(`${err.message}\n${COMPAT_USAGE}`);
      return 64;
    }
    throw err;
  }
  if (args.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const sel = compileSelection(args.select);
  const out = stdoutWriter(io);
  let inputErrors = 0;

  const files = args.files.length ? args.files : ['-'];
  const inputs: ReduceInput[] = files.map((f) => ({
    name: f === '-' ? '(stdin)' : f,
    open: () => readInput(f),
  }));
  async function* readInput(f: string): AsyncGenerator<Buffer> {
    try {
      const src = f === '-' ? io.stdin : createReadStream(f, { highWaterMark: 1 << 20 });
      for await (const c of src) yield typeof c === 'string' ? Buffer.from(c, 'latin1') : (c as Buffer);
    } catch (err) {
      inputErrors++;
      io.stderr.write(`${f === '-' ? '(stdin)' : f}: ${(err as Error).message}\n`);
    }
  }

  let write: Write;
  let batch = false;
  let finish = (): void | Promise<void> => undefined;
  if (args.output === 'bsm') {
    write = (c) => out.write(c);
    batch = true;
  } else {
    // Loaded only for text and NDJSON output: binary output (the common case) starts faster without them.
    const [{ decodeAll }, { createJsonRenderer }, { createPrauditRenderer }, { eventTableFor }] = await Promise.all([
      import('../../format/read-file.js'),
      import('../../render/json/index.js'),
      import('../../render/praudit/index.js'),
      import('../../select/catalog-port.js'),
    ]);
    const events = eventTableFor(args.catalog);
    const render =
      args.output === 'json'
        ? (() => {
            const r = createJsonRenderer({ events });
            return (rec: Parameters<typeof r.record>[0]) => r.record(rec);
          })()
        : (() => {
            const r = createPrauditRenderer({ events, timeZone: io.env.TZ });
            const begin = r.begin();
            if (begin) io.stdout.write(begin);
            finish = () => {
              const end = r.end();
              if (end) return out.write(end);
            };
            return (rec: Parameters<typeof r.record>[0]) => r.record(rec);
          })();
    write = (c, offset) => {
      // The slice holds whole, already validated records: framing it again is trivial.
      const { records } = decodeAll(c, { startOffset: offset });
      let text = '';
      for (const rec of records) text += render(rec);
      return out.write(text);
    };
  }

  const stats = await runReduce(inputs, sel, (c, o) => (out.closed() ? undefined : write(c, o)), {
    merge: args.merge,
    batch,
    keepErrors: args.keepErrors,
    onDiagnostic: (name, d) => {
      if (d.severity === 'error') io.stderr.write(diagnosticLine(name, d));
    },
  });
  await finish();
  if (args.stats) io.stderr.write(statsText(stats));
  if (args.select.mode === 'openbsm') return inputErrors > 0 ? 1 : 0; // upstream exits 0 whatever the data
  return stats.errors > 0 || inputErrors > 0 ? 2 : 0;
}
