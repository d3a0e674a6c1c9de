/** Shared test inputs: realistic.bsm framed into CollectedRecords, temp dirs. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Framer } from '../../src/format/framer.js';
import type { CollectedRecord, RecordOrigin } from '../../src/sinks/sink.js';

export const REALISTIC = join(import.meta.dirname, '../../../shared/conformance/generated/realistic.bsm');

/** Every record of a trail file as the collector would hand it over: seq from `firstSeq`, id from bytes + offset. */
export function collectedFrom(file: string, opts: { firstSeq?: number; origin?: (i: number) => RecordOrigin } = {}): CollectedRecord[] {
  const out: CollectedRecord[] = [];
  const first = opts.firstSeq ?? 0;
  const f = new Framer({
    record(bytes, offset) {
      const i = out.length;
      const id = createHash('sha256').update(bytes).update(String(offset)).digest('hex').slice(0, 32);
      out.push({ seq: first + i, id, bytes: Buffer.from(bytes), origin: opts.origin?.(i) ?? 'trail', sourceFile: file, sourceOffset: offset });
    },
    diagnostic() {},
  });
  f.push(readFileSync(file));
  f.end();
  return out;
}

export function tempDir(t: { after(fn: () => void): void }, name = 'bsmkit-sinks-'): string {
  const d = mkdtempSync(join(tmpdir(), name));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Rows of a query against a store, opened read-only. */
export async function storeRows(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const inst = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  try {
    const c = await inst.connect();
    const r = await c.runAndReadAll(sql);
    c.closeSync();
    return r.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    inst.closeSync();
  }
}
