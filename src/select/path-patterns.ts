/**
 * `-o file=re1,~re2,…` (auditreduce.md §2): POSIX extended regexes tried in order, the first match decides,
 * `~` marks an exclusion, `\,` escapes a comma. Paths are bytes, so matching runs on their latin1 image and the
 * pattern is converted the same way (a UTF-8 pattern then matches the UTF-8 bytes of a path, as regexec does in
 * the C locale).
 */
import { UsageError } from '../errors.js';

export interface PathPattern {
  /** The pattern as the user wrote it (without `~`). */
  source: string;
  exclude: boolean;
  re: RegExp;
}

export interface PathPatternList {
  patterns: PathPattern[];
  /** True when every pattern is an exclusion (the corrected mode then includes paths no pattern matches). */
  exclusionOnly: boolean;
}

/** Decision of a pattern list on one path: 1 include, 0 exclude, -1 no pattern matched. */
export function decidePath(list: PathPatternList, path: string): 1 | 0 | -1 {
  for (const p of list.patterns) {
    if (p.re.test(path)) return p.exclude ? 0 : 1;
  }
  return -1;
}

/** Splits the list the way upstream's parse_regexp does: on commas not preceded by a backslash. */
export function splitPatternList(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === ',' && i > 0) {
      if (cur.endsWith('\\')) {
        cur = cur.slice(0, -1) + ',';
        continue;
      }
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  graph: '!-~',
  cntrl: '\\x00-\\x1f\\x7f',
  xdigit: '0-9A-Fa-f',
};

/**
 * Translates a POSIX ERE into an equivalent JavaScript regex source. Outside brackets the two syntaxes agree for
 * everything ERE defines; inside brackets a backslash is literal in POSIX, `]` right after `[` or `[^` is a
 * literal, and `[:class:]` names need expanding.
 */
export function ereToJs(ere: string): string {
  let out = '';
  let i = 0;
  while (i < ere.length) {
    const ch = ere[i]!;
    if (ch === '\\' && i + 1 < ere.length) {
      out += ch + ere[i + 1];
      i += 2;
      continue;
    }
    if (ch !== '[') {
      out += ch;
      i++;
      continue;
    }
    // A bracket expression.
    let j = i + 1;
    let cls = '[';
    if (ere[j] === '^') {
      cls += '^';
      j++;
    }
    if (ere[j] === ']') {
      cls += '\\]';
      j++;
    }
    let closed = false;
    while (j < ere.length) {
      const c = ere[j]!;
      if (c === ']') {
        closed = true;
        j++;
        break;
      }
      if (c === '[' && (ere[j + 1] === ':' || ere[j + 1] === '.' || ere[j + 1] === '=')) {
        const kind = ere[j + 1]!;
        const end = ere.indexOf(kind + ']', j + 2);
        if (end < 0) throw new UsageError(`-o file: unterminated [${kind} in pattern '${ere}'`);
        const name = ere.slice(j + 2, end);
        if (kind === ':') {
          const expansion = POSIX_CLASSES[name];
          if (expansion === undefined) throw new UsageError(`-o file: unknown character class [:${name}:] in '${ere}'`);
          cls += expansion;
        } else {
          cls += name.replace(/[\\\]\[^-]/g, (m) => '\\' + m);
        }
        j = end + 2;
        continue;
      }
      cls += c === '\\' || c === '[' ? '\\' + c : c;
      j++;
    }
    if (!closed) throw new UsageError(`-o file: unterminated bracket expression in '${ere}'`);
    out += cls + ']';
    i = j;
  }
  return out;
}

/** Parses the value of `-o file=`; a pattern that does not compile is a usage error. */
export function parsePathPatterns(value: string): PathPatternList {
  const patterns: PathPattern[] = [];
  for (let item of splitPatternList(value)) {
    let exclude = false;
    if (item.startsWith('~')) {
      exclude = true;
      item = item.slice(1);
    }
    const latin1 = Buffer.from(item, 'utf8').toString('latin1');
    let re: RegExp;
    try {
      re = new RegExp(ereToJs(latin1));
    } catch (err) {
      throw new UsageError(`-o file: bad regular expression '${item}': ${(err as Error).message}`);
    }
    patterns.push({ source: item, exclude, re });
  }
  return { patterns, exclusionOnly: patterns.every((p) => p.exclude) };
}
