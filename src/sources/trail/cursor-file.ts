/**
 * A cursor file: one line of JSON (formatCursor), replaced atomically (write a temporary file, fsync, rename) so a
 * crash leaves either the old cursor or the new one, never a torn one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { BsmkitError } from '../../errors.js';
import { formatCursor } from '../source.js';
import { parseTrailCursor, type TrailCursor } from './cursor.js';

/** The cursor stored in `path`; undefined when the file does not exist or is empty (a first run). */
export function readCursorFile(path: string): TrailCursor | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BsmkitError('BSMKIT_E_CURSOR', `cannot read cursor file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return undefined;
  try {
    return parseTrailCursor(text.trim());
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_CURSOR', `${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Replaces the cursor file; `durable` adds an fsync before the rename (the default). */
export function writeCursorFile(path: string, cursor: TrailCursor, durable = true): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, formatCursor(cursor) + '\n');
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_CURSOR', `cannot write cursor file ${path}: ${(err as Error).message}`, { cause: err });
  }
}
