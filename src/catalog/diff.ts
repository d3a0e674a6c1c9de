/** A small unified diff (LCS over lines) for `--dry-run`: configuration files are a few hundred lines. */
export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  // Trim the common head and tail so the LCS table only covers the changed middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const n = am.length;
  const m = bm.length;
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        am[i] === bm[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  type Op = { k: ' ' | '-' | '+'; t: string };
  const ops: Op[] = a.slice(0, head).map((t) => ({ k: ' ', t }) as Op);
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && am[i] === bm[j]) {
      ops.push({ k: ' ', t: am[i]! });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
      // Deletions before insertions, as diff(1) prints them.
      ops.push({ k: '-', t: am[i]! });
      i++;
    } else {
      ops.push({ k: '+', t: bm[j]! });
      j++;
    }
  }
  for (const t of a.slice(a.length - tail)) ops.push({ k: ' ', t });

  const out = [`--- ${path}`, `+++ ${path} (new)`];
  let idx = 0;
  while (idx < ops.length) {
    if (ops[idx]!.k === ' ') {
      idx++;
      continue;
    }
    // A hunk: from `context` lines before the change to `context` lines after the last change within reach.
    const start = Math.max(0, idx - context);
    let end = idx;
    let lastChange = idx;
    while (end < ops.length && end - lastChange <= 2 * context) {
      if (ops[end]!.k !== ' ') lastChange = end;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    let oldStart = 1;
    let newStart = 1;
    for (let k = 0; k < start; k++) {
      if (ops[k]!.k !== '+') oldStart++;
      if (ops[k]!.k !== '-') newStart++;
    }
    const hunk = ops.slice(start, end);
    const oldLen = hunk.filter((o) => o.k !== '+').length;
    const newLen = hunk.filter((o) => o.k !== '-').length;
    out.push(`@@ -${oldLen === 0 ? oldStart - 1 : oldStart},${oldLen} +${newLen === 0 ? newStart - 1 : newStart},${newLen} @@`);
    for (const o of hunk) out.push(o.k + o.t);
    idx = end;
  }
  return out.join('\n') + '\n';
}

function splitLines(s: string): string[] {
  const l = s.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}
