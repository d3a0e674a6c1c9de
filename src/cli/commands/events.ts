import { UsageError } from '../../errors.js';
import { loadCatalog } from '../../catalog/catalog.js';
import { hex8 } from '../../catalog/class-table.js';
import { formatCatalogDiagnostic } from '../../catalog/diagnostics.js';
import { tryParseFlags } from '../../catalog/flags.js';
import type { CliIo } from '../io.js';
import { catalogHelp, catalogOptions, platformOption } from '../../catalog/cli-options.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'list audit events (audit_event), optionally those of some classes';

const usage = `usage: bsmkit events [--class FLAGS] [OPTIONS]

  --class FLAGS      only events whose class (last audit_event line, as au_preselect) matches the flags,
                     e.g. ex, lo,aa, all,^fr
  --all-lines        list every line, duplicates included (default: one line per number, the name praudit prints)
${catalogHelp}
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: { ...catalogOptions, class: { type: 'string' }, 'all-lines': { type: 'boolean' } },
    allowPositionals: false,
  });
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const cat = loadCatalog({ dir: values.dir, platform: platformOption(values.platform), builtin: values.builtin });
  for (const d of cat.diagnostics) io.stderr.write(formatCatalogDiagnostic(d) + '\n');
  let want: number | undefined;
  if (values.class !== undefined) {
    const r = tryParseFlags(values.class, cat.classes);
    if (!r.ok) throw new UsageError(`--class: ${r.error}`);
    want = (r.mask.success | r.mask.failure) >>> 0;
  }
  const seen = new Set<number>();
  const rows = [];
  for (const e of cat.events.entries()) {
    if (!values['all-lines']) {
      if (seen.has(e.number)) continue;
      seen.add(e.number);
    }
    const cls = cat.map.classOf(e.number);
    if (want !== undefined && (cls & want) >>> 0 === 0) continue;
    const shown = values['all-lines'] ? e : cat.events.describe(e.number)!;
    rows.push({ number: e.number, name: shown.name, description: shown.description, classes: shown.classes, classMask: cls });
  }
  if (values.json) {
    io.stdout.write(JSON.stringify({ source: cat.eventSource, events: rows }) + '\n');
    return 0;
  }
  let out = `# events from ${cat.eventSource}${values.class !== undefined ? `, class ${values.class}` : ''}: ${rows.length}\n`;
  for (const r of rows) {
    out += `${String(r.number).padStart(5)}  ${r.name.padEnd(30)} 0x${hex8(r.classMask)} ${r.classes.join(',').padEnd(14)} ${r.description}\n`;
  }
  io.stdout.write(out);
  return 0;
}
