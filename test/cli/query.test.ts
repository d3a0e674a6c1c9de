import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbSink } from '../../src/sinks/duckdb-sink.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import { collectedFrom, REALISTIC } from '../sinks/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'bsmkit-query-'));
const DB = join(dir, 'store.duckdb');
const recs = collectedFrom(REALISTIC, { origin: (i) => (i % 4 === 0 ? 'recovered' : 'pipe') });

test.before(async () => {
  const s = new DuckDbSink({ path: DB, events: builtinEventTable('macos') });
  await s.open();
  await s.write(recs);
  await s.close();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function bsmkit(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'query', ...args], {
    cwd: ROOT,
    env: { ...process.env, BSMKIT_STORE: '', ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('table output: header, rule, aligned rows, row count', () => {
  const r = bsmkit(['--db', DB, `SELECT origin, count(*) AS n FROM records GROUP BY origin ORDER BY origin`]);
  assert.equal(r.status, 0, r.stderr);
  const recovered = recs.filter((x) => x.origin === 'recovered').length;
  const pipe = recs.length - recovered;
  const w = Math.max(String(pipe).length, String(recovered).length, 1);
  assert.equal(
    r.stdout,
    ['origin    | ' + 'n'.padStart(w), '----------+-' + '-'.repeat(w), 'pipe      | ' + String(pipe).padStart(w), 'recovered | ' + String(recovered).padStart(w), '(2 rows)', ''].join('\n'),
  );
});

test('--json: one object per row; 64-bit integers as numbers, tokens embedded as JSON', () => {
  const r = bsmkit(['--db', DB, '--json', 'SELECT seq, id, event_name, tokens FROM records ORDER BY seq LIMIT 5']);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((o) => [o.seq, o.id]), recs.slice(0, 5).map((x) => [x.seq, x.id]));
  for (const o of rows) assert.ok(Array.isArray(o.tokens));
});

test('--csv: header line and quoted fields', () => {
  const r = bsmkit(['--db', DB, '--csv', `SELECT seq, 'a,"b"' AS odd, NULL AS nothing FROM records WHERE seq < 2 ORDER BY seq`]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'seq,odd,nothing\r\n0,"a,""b""",\r\n1,"a,""b""",\r\n');
});

test('the default store is $BSMKIT_STORE', () => {
  const r = bsmkit(['SELECT count(*) AS n FROM records'], { BSMKIT_STORE: DB });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^\\s*n\\n-+\\n\\s*${recs.length}\\n\\(1 row\\)\\n$`));
});

test('a missing store: exit 2 and the path named', () => {
  const missing = join(dir, 'nope', 'store.duckdb');
  const r = bsmkit(['--db', missing, 'SELECT 1']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /bsmkit query: no store at .*nope\/store\.duckdb .*\[BSMKIT_E_STORE_MISSING\]/);
});

test('bad SQL: exit 2 with DuckDB\'s message; the store is read-only', () => {
  const bad = bsmkit(['--db', DB, 'SELEC * FROM records']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /bsmkit query: query failed: .*Parser Error: syntax error at or near "SELEC".*\[BSMKIT_E_QUERY\]/s);
  const unknown = bsmkit(['--db', DB, 'SELECT nosuch FROM records']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Binder Error.*nosuch/s);
  const write = bsmkit(['--db', DB, 'DELETE FROM records']);
  assert.equal(write.status, 2);
  assert.match(write.stderr, /read-only/i);
  assert.equal(bsmkit(['--db', DB, '--csv', 'SELECT count(*) FROM records']).stdout, `count_star()\r\n${recs.length}\r\n`);
});

test('usage errors: no SQL, empty SQL, two formats', () => {
  assert.equal(bsmkit(['--db', DB]).status, 1);
  for (const empty of ['', '  ', ' ; ']) {
    const e = bsmkit(['--db', DB, empty]);
    assert.equal(e.status, 1);
    assert.match(e.stderr, /^bsmkit query: the SQL argument is empty\n/);
  }
  const r = bsmkit(['--db', DB, '--json', '--csv', 'SELECT 1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /exclude each other/);
});

test('a store held by a running writer: exit 2, the lock explained', async () => {
  const held = join(dir, 'held.duckdb');
  const s = new DuckDbSink({ path: held, events: builtinEventTable('macos') });
  await s.open();
  try {
    await s.write(recs.slice(0, 10));
    const r = bsmkit(['--db', held, 'SELECT count(*) FROM records']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot open store .*held\.duckdb: .*lock.*one writing process.*\[BSMKIT_E_STORE_OPEN\]/s);
  } finally {
    await s.close();
  }
  assert.equal(bsmkit(['--db', held, '--csv', 'SELECT count(*) AS n FROM records']).stdout, 'n\r\n10\r\n');
});

test('table output of a large result: every row, in bounded memory (widths from the first rows)', () => {
  // 200,000 rows used to overflow the stack while sizing the columns (Math.max over every row)
  const r = bsmkit(['--db', DB, 'SELECT range AS n, range % 7 AS m FROM range(200000)']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 200_000 + 4);
  assert.equal(lines.at(-2), '(200000 rows)');
  // the widths come from the first 1000 rows (3 digits): later, longer values are printed whole
  assert.equal(lines[0], '  n | m');
  assert.equal(lines[2], '  0 | 0');
  assert.equal(lines[2 + 999], '999 | 5');
  assert.equal(lines[2 + 199_999], '199999 | 2');
});

test('table output: control characters from recorded strings are escaped; columns align by type and by display width', () => {
  const sql = `SELECT chr(27) || ']0;pwned' || chr(7) || chr(155) || '2J' AS s, NULL::VARCHAR AS v, '漢字' AS w, 7::UTINYINT AS k`;
  const r = bsmkit(['--db', DB, sql]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  // the NULL-only text column is left-aligned (its type), the wide characters take two columns each, numbers go right
  const shown = '\\x1b]0;pwned\\x07\\x9b2J';
  assert.equal(r.stdout, [
    's'.padEnd(shown.length) + ' | v    | w    | k',
    '-'.repeat(shown.length) + '-+------+------+--',
    shown + ' | NULL | 漢字 | 7',
    '(1 row)',
    '',
  ].join('\n'));
  // --csv and --json keep the bytes (they are for programs)
  assert.equal(bsmkit(['--db', DB, '--csv', `SELECT chr(27) AS e`]).stdout, 'e\r\n\x1b\r\n');
  assert.equal(bsmkit(['--db', DB, '--json', `SELECT chr(27) AS e`]).stdout, '{"e":"\\u001b"}\n');
});

test('NULLs, blobs and nested values in the three formats', () => {
  const sql = `SELECT NULL::INTEGER AS i, '\\x00\\xFF'::BLOB AS b, [1, NULL] AS l, {'k': NULL} AS s`;
  const t = bsmkit(['--db', DB, sql]);
  assert.equal(t.status, 0, t.stderr);
  assert.equal(t.stdout, ['   i | b        | l        | s', '-----+----------+----------+-----------', 'NULL | \\x00\\xFF | [1,null] | {"k":null}', '(1 row)', ''].join('\n'));
  assert.equal(bsmkit(['--db', DB, '--json', sql]).stdout, '{"i":null,"b":"\\\\x00\\\\xFF","l":[1,null],"s":{"k":null}}\n');
  assert.equal(bsmkit(['--db', DB, '--csv', sql]).stdout, 'i,b,l,s\r\n,\\x00\\xFF,"[1,null]","{""k"":null}"\r\n');
});
