import { loadCatalog } from '../../catalog/catalog.js';
import { hex8 } from '../../catalog/class-table.js';
import { formatCatalogDiagnostic } from '../../catalog/diagnostics.js';
import type { CliIo } from '../io.js';
import { catalogHelp, catalogOptions, platformOption } from '../../catalog/cli-options.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'list audit classes (audit_class) with their masks and event counts';

const usage = `usage: bsmkit classes [OPTIONS]\n\n${catalogHelp}\n`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({ args: argv, options: catalogOptions, allowPositionals: false });
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const cat = loadCatalog({ dir: values.dir, platform: platformOption(values.platform), builtin: values.builtin });
  for (const d of cat.diagnostics) io.stderr.write(formatCatalogDiagnostic(d) + '\n');
  const rows = cat.classes.entries().map((c) => ({
    mask: c.mask,
    name: c.name,
    description: c.description,
    events: c.mask === 0 ? 0 : cat.map.eventsIn(c.mask).length,
  }));
  if (values.json) {
    io.stdout.write(JSON.stringify({ source: cat.classSource, eventSource: cat.eventSource, classes: rows }) + '\n');
    return 0;
  }
  let out = `# classes from ${cat.classSource}, events from ${cat.eventSource}\n`;
  for (const r of rows) out += `0x${hex8(r.mask)}  ${r.name.padEnd(7)} ${String(r.events).padStart(4)}  ${r.description}\n`;
  io.stdout.write(out);
  return 0;
}
