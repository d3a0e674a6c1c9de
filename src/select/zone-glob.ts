/**
 * `-z glob`: fnmatch(pattern, zonename, FNM_PATHNAME) as auditreduce uses it (auditreduce.md §2): `*`, `?` and
 * bracket expressions never match `/`; `\` quotes the next character. Compiled once into an anchored RegExp over
 * the zonename's latin1 image (zone names are bytes).
 */
import { UsageError } from '../errors.js';

function quote(ch: string): string {
  return /[\\^$.*+?()[\]{}|\/-]/.test(ch) ? '\\' + ch : ch;
}

export function compileZoneGlob(glob: string): RegExp {
  const g = Buffer.from(glob, 'utf8').toString('latin1');
  let out = '^';
  for (let i = 0; i < g.length; i++) {
    const ch = g[i]!;
    if (ch === '\\' && i + 1 < g.length) {
      out += quote(g[++i]!);
    } else if (ch === '*') {
      out += '[^/]*';
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '[') {
      // A bracket expression; an unterminated '[' is an ordinary character, as in fnmatch.
      let j = i + 1;
      let negate = false;
      if (g[j] === '!' || g[j] === '^') {
        negate = true;
        j++;
      }
      let body = '';
      let first = true;
      let closed = false;
      for (; j < g.length; j++) {
        const c = g[j]!;
        if (c === ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (c === '\\' && j + 1 < g.length) body += quote(g[++j]!);
        else if (c === '-' && body !== '' && g[j + 1] !== ']') body += '-';
        else body += quote(c);
      }
      if (!closed) {
        out += '\\[';
        continue;
      }
      // FNM_PATHNAME: a bracket expression never matches '/'.
      out += negate ? `(?![/])[^${body}]` : `(?![/])[${body}]`;
      i = j;
    } else {
      out += quote(ch);
    }
  }
  try {
    return new RegExp(out + '$', 's');
  } catch (err) {
    throw new UsageError(`-z: bad pattern '${glob}': ${(err as Error).message}`);
  }
}
