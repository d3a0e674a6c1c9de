/**
 * User and group names → ids for -u -e -r (passwd) and -f -g (group), from files: the host's /etc/passwd and
 * /etc/group, or --passwd / --group files for trails read on another machine. Directory services (NSS, Open
 * Directory) are not consulted. The first line for a name wins, as getpwnam() does with files.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export interface IdLookup {
  /** The id of a name, or undefined. */
  id(name: string): number | undefined;
}

export function parseIdFile(text: string): IdLookup {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#' || line[0] === '+' || line[0] === '-') continue;
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^\d+$/.test(f[2]!)) continue;
    const id = Number(f[2]);
    if (id > 0xffffffff || m.has(f[0]!)) continue;
    m.set(f[0]!, id);
  }
  return { id: (name) => m.get(name) };
}

/** Reads an id file; a file named by the user must exist, the host's default may be absent (no names then). */
export function loadIdFile(path: string, required: boolean): IdLookup {
  let text = '';
  try {
    text = readFileSync(path, 'latin1');
  } catch (err) {
    if (required) throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseIdFile(text);
}
