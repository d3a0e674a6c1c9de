import { UsageError } from '../../errors.js';
import { addClass, planDiff, removeClass, type ClassEditPlan } from '../../catalog/class-editor.js';
import { hex8 } from '../../catalog/class-table.js';
import { DEFAULT_CONFIG_DIR } from '../../catalog/paths.js';
import type { CliIo } from '../io.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'add or remove a custom audit class (edits audit_class and audit_event safely)';

const usage = `usage: bsmkit class add NAME --events EV[,EV…] [--mask auto|0xBIT] [--description TEXT] [OPTIONS]
       bsmkit class remove NAME [--force] [OPTIONS]

  --events EV,…      events by AUE_ name or number (add)
  --mask M           auto (lowest free bit from 0x00008000) or one free bit such as 0x00400000
  --description T    the class description (default "custom class NAME")
  --force            remove one of OpenBSM's default classes
  --dir DIR          directory with audit_class and audit_event (default ${DEFAULT_CONFIG_DIR})
  --dry-run          print the diff, change nothing
  --no-backup        do not keep FILE.bak copies

Files are replaced atomically (temporary file in the same directory, fsync, rename) keeping their mode and
owner. auditd reloads the kernel's event→class map only when it starts: restart it (or apply the bit with
auditon A_SETCLASS) for the kernel to see the change.
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      mask: { type: 'string' },
      description: { type: 'string' },
      force: { type: 'boolean' },
      dir: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'no-backup': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const [action, name, ...extra] = positionals;
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (!name) throw new UsageError(`expected 'class add NAME …' or 'class remove NAME'`);
  const dir = values.dir ?? DEFAULT_CONFIG_DIR;
  const opts = { dryRun: values['dry-run'], backup: !values['no-backup'], stderr: io.stderr };
  let plan: ClassEditPlan;
  if (action === 'add') {
    if (!values.events) throw new UsageError('class add needs --events');
    let mask: 'auto' | number = 'auto';
    if (values.mask !== undefined && values.mask !== 'auto') {
      if (!/^(0x[0-9a-fA-F]{1,8}|[0-9]+)$/.test(values.mask)) throw new UsageError(`--mask must be auto or a number, not '${values.mask}'`);
      mask = Number(values.mask);
    }
    const events = values.events.split(',').filter((e) => e !== '');
    plan = await addClass(dir, { name, mask, events, description: values.description }, opts);
  } else if (action === 'remove') {
    if (values.events || values.mask) throw new UsageError('class remove takes no --events or --mask');
    plan = await removeClass(dir, { name, force: values.force }, opts);
  } else {
    throw new UsageError(`unknown action '${action ?? ''}': expected add or remove`);
  }
  if (values.json) {
    io.stdout.write(JSON.stringify({ dryRun: !!values['dry-run'], action: plan.action, name: plan.name, mask: plan.mask, events: plan.events, files: plan.edits.map((e) => e.path), notes: plan.notes }) + '\n');
    return 0;
  }
  if (values['dry-run']) io.stdout.write(planDiff(plan));
  for (const n of plan.notes) io.stderr.write(`note: ${n}\n`);
  const verb = values['dry-run'] ? 'would ' + plan.action : plan.action === 'add' ? 'added' : 'removed';
  io.stdout.write(`${verb} class ${plan.name} 0x${hex8(plan.mask)}: ${plan.events.length} event number(s), ` +
    `${plan.edits.length} file(s)${values['dry-run'] ? '' : ' replaced'}\n`);
  return 0;
}
