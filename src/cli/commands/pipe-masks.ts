import { UsageError } from '../../errors.js';
import { loadCatalog } from '../../catalog/catalog.js';
import { hex8 } from '../../catalog/class-table.js';
import { formatCatalogDiagnostic } from '../../catalog/diagnostics.js';
import { tryParseFlags, type AuMask } from '../../catalog/flags.js';
import { pipeMasksFor } from '../../catalog/preselect.js';
import type { CliIo } from '../io.js';
import { catalogHelp, catalogOptions, platformOption } from '../../catalog/cli-options.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'print the preselection masks a LOCAL audit pipe needs for a class expression';

const usage = `usage: bsmkit pipe-masks [OPTIONS] FLAGS

Prints the au_mask_t values for AUDITPIPE_SET_PRESELECT_FLAGS and _NAFLAGS (with
AUDITPIPE_SET_PRESELECT_MODE = 2, LOCAL) that select the classes in FLAGS (e.g. ex,pc or lo,+ex,-fr).

  --naflags FLAGS    a different expression for non-attributable records (default: FLAGS)
  --events           also list the events the masks select
${catalogHelp}
`;

function parse(expr: string, what: string, cat: ReturnType<typeof loadCatalog>): AuMask {
  const r = tryParseFlags(expr, cat.classes);
  if (!r.ok) throw new UsageError(`${what}: ${r.error}`);
  return r.mask;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: { ...catalogOptions, naflags: { type: 'string' }, events: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expected one flags expression (e.g. ex,pc)');
  const cat = loadCatalog({ dir: values.dir, platform: platformOption(values.platform), builtin: values.builtin });
  for (const d of cat.diagnostics) io.stderr.write(formatCatalogDiagnostic(d) + '\n');
  const expr = positionals[0]!;
  const flags = parse(expr, 'flags', cat);
  const na = values.naflags !== undefined ? parse(values.naflags, '--naflags', cat) : flags;
  const masks = pipeMasksFor(flags, na);
  const selected = cat.map.eventsIn((flags.success | flags.failure | na.success | na.failure) >>> 0);
  if (values.json) {
    io.stdout.write(JSON.stringify({ expression: expr, mode: 2, ...masks, classSource: cat.classSource, events: values.events ? selected : selected.length }) + '\n');
    return 0;
  }
  const m = (x: AuMask) => `am_success=0x${hex8(x.success)} am_failure=0x${hex8(x.failure)}`;
  let out = `# ${expr} (classes from ${cat.classSource}, events from ${cat.eventSource})\n`;
  out += `preselect_mode: 2 (AUDITPIPE_PRESELECT_MODE_LOCAL)\n`;
  out += `flags:          ${m(masks.flags)}\n`;
  out += `naflags:        ${m(masks.naflags)}\n`;
  out += `events:         ${selected.length}\n`;
  if (values.events) for (const n of selected) out += `  ${n} ${cat.events.describe(n)?.name ?? ''}\n`;
  io.stdout.write(out);
  return 0;
}
