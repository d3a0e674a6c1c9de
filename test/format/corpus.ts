/** The conformance corpus's BSM inputs, framed with the plain record sink (shared by format tests). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Framer } from '../../src/format/framer.js';
import type { Diagnostic } from '../../src/format/types.js';

export const CONFORMANCE = new URL('../../../shared/conformance/', import.meta.url).pathname;

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
}

/** Every BSM input: *.bsm under generated/, auditreduce/ and real/, and real/'s extension-less record files. */
export function corpusFiles(): string[] {
  const files: string[] = [];
  for (const sub of ['generated', 'real', 'auditreduce']) walk(join(CONFORMANCE, sub), files);
  return files.filter((f) => {
    if (f.endsWith('.bsm')) return true;
    const base = f.slice(f.lastIndexOf('/') + 1);
    return f.includes('/real/') && !base.includes('.') && !base.startsWith('LICENSE');
  });
}

export interface Framed {
  data: Buffer;
  records: Array<{ bytes: Buffer; offset: number; kind: 'record' | 'file-token' }>;
  diagnostics: Diagnostic[];
}

export function frameAll(file: string): Framed {
  const data = readFileSync(file);
  const out: Framed = { data, records: [], diagnostics: [] };
  const f = new Framer({
    record(bytes, offset, kind) {
      out.records.push({ bytes, offset, kind });
    },
    diagnostic(d) {
      out.diagnostics.push(d);
    },
  });
  f.push(data);
  f.end();
  return out;
}
