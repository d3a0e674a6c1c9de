/**
 * The trail cursor: (trail file name, byte offset) (kernel-audit-pipe.md §12, §13.7 item 7). The name is the one
 * seen when the cursor was taken; on resume the file is re-found by its 15-character prefix, so a
 * `*.not_terminated` file renamed meanwhile is still found.
 */
import { BsmkitError } from '../../errors.js';
import type { SourceCursor } from '../source.js';
import { parseTrailName } from './names.js';

export interface TrailCursor extends SourceCursor {
  source: 'trail';
  /** Trail file name (no directory). */
  file: string;
  /** Byte offset in that file of the first byte not yet delivered. */
  offset: number;
  /** True when the file was read to its end after termination: nothing of it is left. */
  done?: boolean;
  /** The directory the file was in (informational: files are found by name across all directories). */
  dir?: string;
}

/** Reads a cursor back from `formatCursor()` output (or an object); throws BSMKIT_E_CURSOR when it is not one. */
export function parseTrailCursor(input: string | unknown): TrailCursor {
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = JSON.parse(input);
    } catch {
      throw new BsmkitError('BSMKIT_E_CURSOR', `not a cursor: ${JSON.stringify(input.slice(0, 80))}`);
    }
  }
  const c = v as Partial<TrailCursor> | null;
  if (
    !c || typeof c !== 'object' || c.source !== 'trail' || typeof c.file !== 'string' || !parseTrailName(c.file) ||
    typeof c.offset !== 'number' || !Number.isSafeInteger(c.offset) || c.offset < 0 ||
    (c.done !== undefined && typeof c.done !== 'boolean') || (c.dir !== undefined && typeof c.dir !== 'string')
  ) {
    throw new BsmkitError('BSMKIT_E_CURSOR', `not a trail cursor: ${JSON.stringify(v)}`);
  }
  const out: TrailCursor = { source: 'trail', file: c.file, offset: c.offset };
  if (c.done) out.done = true;
  if (c.dir !== undefined) out.dir = c.dir;
  return out;
}
