/**
 * uid/gid → name, as praudit's getpwuid()/getgrgid() on the reading host, from /etc/passwd and /etc/group.
 * Parsed once and cached; unknown ids have no name (the printer then prints the number). Directory services
 * (NSS modules, Open Directory) are not consulted: only the files.
 */
import { readFileSync } from 'node:fs';

export interface UserNames {
  user(uid: number): string | undefined;
  group(gid: number): string | undefined;
}

/** Parses passwd/group text (`name:x:id:…` lines); the first line for an id wins, as with getpwuid(). */
function parseIds(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#' || line[0] === '+' || line[0] === '-') continue;
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^\d+$/.test(f[2])) continue;
    const id = Number(f[2]);
    if (id > 0xffffffff || m.has(id)) continue;
    m.set(id, f[0]);
  }
  return m;
}

/** Names from the given passwd and group file contents (for tests and for trails from another host). */
export function userNamesFrom(passwd: string, group: string): UserNames {
  const users = parseIds(passwd);
  const groups = parseIds(group);
  return { user: (uid) => users.get(uid), group: (gid) => groups.get(gid) };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

let host: UserNames | undefined;

/** The host's names (`/etc/passwd`, `/etc/group`), read on first use and cached for the process. */
export function hostUserNames(): UserNames {
  host ??= userNamesFrom(readOrEmpty('/etc/passwd'), readOrEmpty('/etc/group'));
  return host;
}
