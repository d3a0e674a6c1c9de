/**
 * `bsmkit print [FILE...]`: praudit's output (byte-compatible), NDJSON, or a validation report.
 * Thin: argument handling and exit status; the work is format/print-stream.ts and render/.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import { hostOrBuiltinEventTable, loadAuditEventFile } from '../../catalog/event-table.js';
import { hostPlatform, parsePlatform, PLATFORMS, type Platform } from '../../render/platform.js';
import { printInputs, type PrintMode } from '../print-inputs.js';
import type { CliIo } from '../io.js';

export const summary = 'print records like praudit (-l -n -r -s -x -d), as NDJSON (--json), or check them (--validate)';

const HELP = `usage: bsmkit print [-lnprsx] [-d del] [--json | --validate] [options] [FILE...]

Reads BSM audit trails (stdin when no FILE, or FILE is -) and prints them like praudit.

praudit options:
  -d DEL          field delimiter (default ,)
  -l              one record per line
  -n              do not resolve uids/gids to names
  -p              accepted for compatibility (bsmkit always resynchronises after damage)
  -r              raw: numbers instead of names (not with -s)
  -s              event names (AUE_...) instead of descriptions
  -x              XML
other options:
  --json          NDJSON: one object per record (docs/json-format.md)
  --validate      frame and check only: print counts and diagnostics
  --platform P    whose praudit to imitate for errno texts and event names: linux, freebsd, macos (default: host)
  --events FILE   audit_event file for event names (default: /etc/security/audit_event, else the built-in table)
  --no-progress   no progress bar on a terminal
Exit status: 0 all good, 1 usage error, 2 damage found (every intact record is still printed).
Diagnostics go to stderr as FILE: offset N: message [CODE].
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        d: { type: 'string', short: 'd' },
        l: { type: 'boolean', short: 'l' },
        n: { type: 'boolean', short: 'n' },
        p: { type: 'boolean', short: 'p' },
        r: { type: 'boolean', short: 'r' },
        s: { type: 'boolean', short: 's' },
        x: { type: 'boolean', short: 'x' },
        json: { type: 'boolean' },
        validate: { type: 'boolean' },
        platform: { type: 'string' },
        events: { type: 'string' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (o.r && o.s) throw new UsageError('-r and -s cannot be used together');
  if (o.json && o.validate) throw new UsageError('--json and --validate cannot be used together');
  if ((o.json || o.validate) && (o.x || o.l || o.d !== undefined)) {
    throw new UsageError('-d, -l and -x apply to praudit text, not to --json or --validate');
  }
  let platform: Platform = hostPlatform();
  if (o.platform !== undefined) {
    const p = parsePlatform(o.platform);
    if (!p) throw new UsageError(`--platform must be one of ${PLATFORMS.join(', ')}`);
    platform = p;
  }
  // Event tables come in two flavours: macOS's, and OpenBSM's (FreeBSD and the portable reference).
  const events = o.events !== undefined
    ? loadAuditEventFile(o.events).table
    : hostOrBuiltinEventTable(platform === 'macos' ? 'macos' : 'openbsm');
  const mode: PrintMode = o.validate
    ? { kind: 'validate' }
    : o.json
      ? { kind: 'json', options: { events } }
      : {
          kind: 'praudit',
          options: {
            delimiter: o.d, oneLine: o.l, noResolve: o.n, raw: o.r, short: o.s, xml: o.x,
            platform, events, timeZone: io.env.TZ,
          },
        };
  const files = parsed.positionals.length ? parsed.positionals : ['-'];
  const r = await printInputs(files, mode, io, { progress: !o['no-progress'] });
  return r.errors > 0 ? 2 : 0;
}
