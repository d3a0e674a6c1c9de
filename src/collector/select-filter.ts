/**
 * `bsmkit collect --select "EXPR"`: auditreduce's selection (the same options as `bsmkit reduce`, e.g.
 * "-c ex,lo -u 501") applied between the spool and the sinks. The spool keeps every record; only what the sinks
 * receive is filtered, so changing the selection later needs no re-collection.
 */
import { UsageError } from '../errors.js';
import { decodeRecord } from '../format/decode-record.js';
import { compileSelection, MATCH, UNSURE } from '../select/compile.js';
import { parseReduceArgs } from '../select/parse-args.js';

/** A predicate over one framed record's bytes. Damaged records are not selected (as `bsmkit reduce` does). */
export function selectionFilter(expr: string): (bytes: Buffer) => boolean {
  const argv = expr.trim().split(/\s+/).filter(Boolean);
  if (argv.length === 0) throw new UsageError('--select needs reduce options, e.g. --select="-c ex -u 501"');
  const args = parseReduceArgs(argv);
  if (args.files.length > 0) throw new UsageError(`--select takes selection options only, not files (${args.files.join(' ')})`);
  if (args.output !== 'bsm') throw new UsageError('--select takes selection options only, not --json or --print');
  const sel = compileSelection(args.select);
  return (bytes: Buffer): boolean => {
    if (bytes[0] === 0x11) return sel.fileTokenMatches;
    const v = sel.matchBytes(bytes, 0, bytes.length, true);
    if (v !== UNSURE) return v === MATCH;
    return sel.matchRecord(decodeRecord(bytes, 0)) === MATCH;
  };
}
