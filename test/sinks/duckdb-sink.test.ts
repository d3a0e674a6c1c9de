import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DuckDbSink, defaultStorePath, DEFAULT_STORE_PATH, openStoreReadOnly } from '../../src/sinks/duckdb-sink.js';
import { RECORD_COLUMNS, STORE_ROW_GROUP } from '../../src/sinks/store-schema.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import { addrText, createJsonRenderer, recordToJson, type JsonRenderer } from '../../src/render/json/index.js';
import { bsmErrno } from '../../src/render/errno.js';
import type { BsmRecord } from '../../src/format/types.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import { BsmkitError } from '../../src/errors.js';
import { packRecords } from '../../src/spool/raw-batch.js';
import { NdjsonFileSink } from '../../src/sinks/ndjson-file-sink.js';
import { encodeRecord, execArgs, type TokenInput } from '../../src/format/encode/index.js';
import { collectedFrom, REALISTIC, storeRows, tempDir } from './helpers.js';

const ORACLE_R = join(import.meta.dirname, '../../../shared/conformance/oracle/generated/realistic.bsm.r.txt');
const events = builtinEventTable('macos');
const CHILD = join(import.meta.dirname, 'duckdb-child.ts');
const REPO = join(import.meta.dirname, '../..');

const rows = storeRows;

async function storeAll(path: string, batch = 250): Promise<ReturnType<typeof collectedFrom>> {
  const recs = collectedFrom(REALISTIC, { origin: (i) => (i % 5 === 0 ? 'recovered' : i % 2 ? 'pipe' : 'trail') });
  const s = new DuckDbSink({ path, events });
  await s.open();
  for (let i = 0; i < recs.length; i += batch) await s.write(recs.slice(i, i + batch));
  await s.close();
  return recs;
}

test('schema: the table has the documented columns and types (docs/store.md)', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  await storeAll(db);
  const got = await rows(db, `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'records' ORDER BY ordinal_position`);
  // The documentation's schema table: | `name` | TYPE | meaning |
  const doc = readFileSync(join(REPO, 'docs/store.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `([a-z_]+)` \| `([A-Z]+)` \|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(got.map((r) => [r.column_name, r.data_type]), documented);
  assert.deepEqual(got.map((r) => r.column_name), RECORD_COLUMNS.map(([n]) => n));
  // No index: ids are kept unique by the sink (docs/store.md, "Exactly once"), not by a primary key.
  const keys = await rows(db, `SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'records' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')`);
  assert.deepEqual(keys, []);
  assert.deepEqual(await rows(db, `SELECT index_name FROM duckdb_indexes() WHERE table_name = 'records'`), []);
});

/** praudit -r output split into records: the raw header, first subject and first return fields of each. */
function oracleRecords(): { header: string[]; subject?: string[]; ret?: string[] }[] {
  const out: { header: string[]; subject?: string[]; ret?: string[] }[] = [];
  for (const line of readFileSync(ORACLE_R, 'latin1').split('\n')) {
    const f = line.split(',');
    if (/^(20|21|116|121),\d+,\d+,\d+,\d+,/.test(line)) out.push({ header: f });
    else if (out.length === 0) continue;
    else if (/^(36|122|117|124),/.test(line)) out[out.length - 1].subject ??= f;
    else if (/^(39|114),/.test(line)) out[out.length - 1].ret ??= f;
  }
  return out;
}

test('every realistic.bsm record: header, subject and return columns equal the values praudit -r prints', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  await storeAll(db);
  const got = await rows(db, `SELECT * EXCLUDE (tokens, diagnostics, raw), epoch_ms(time) AS ms FROM records WHERE kind = 'record' ORDER BY seq`);
  const want = oracleRecords();
  assert.equal(got.length, want.length);
  assert.equal(want.length, 900);
  const u32 = (s: string): number => Number(s) >>> 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    const [, size, version, event, modifier, sec, msec] = w.header;
    const at = `record ${i} (seq ${String(g.seq)})`;
    assert.equal(g.header_size, Number(size), at);
    assert.equal(g.header_version, Number(version), at);
    assert.equal(g.event, Number(event), at);
    assert.equal(g.event_name, events.describe(Number(event))?.name ?? null, at);
    assert.equal(g.modifier, Number(modifier), at);
    assert.equal(g.time_sec, BigInt(sec), at);
    assert.equal(g.time_msec, BigInt(msec), at);
    assert.equal(Number(g.ms), Number(sec) * 1000 + Number(msec), at);
    if (w.subject) {
      const [, auid, euid, egid, ruid, rgid, pid, sid, port, addr] = w.subject;
      assert.deepEqual([g.auid, g.euid, g.egid, g.ruid, g.rgid, g.pid, g.sid], [auid, euid, egid, ruid, rgid, pid, sid].map(u32), at);
      assert.equal(g.terminal_port, BigInt(port), at);
      assert.equal(g.terminal_addr, addr, at);
    } else {
      assert.equal(g.auid, null, at);
      assert.equal(g.terminal_addr, null, at);
    }
    if (w.ret) {
      assert.equal(g.ret_status, Number(w.ret[1]), at);
      assert.equal(g.ret_value, BigInt(u32(w.ret[2])), at);
    } else assert.equal(g.ret_status, null, at);
  }
});

test('a few records field by field: collector fields, tokens JSON, diagnostics, raw bytes', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const recs = await storeAll(db);
  const picks = [0, 1, 40, 41, 42, 450, recs.length - 1];
  const got = await rows(db, `SELECT * FROM records WHERE seq IN (${picks.join(',')}) ORDER BY seq`);
  assert.equal(got.length, picks.length);
  for (const g of got) {
    const r = recs[Number(g.seq)];
    const dec = decodeRecord(r.bytes, r.sourceOffset);
    const json = JSON.parse(recordToJson(dec, { events }));
    assert.equal(g.id, r.id);
    assert.equal(g.origin, r.origin);
    assert.equal(g.recovered, r.origin === 'recovered');
    assert.equal(g.source_file, r.sourceFile);
    assert.equal(g.source_offset, BigInt(r.sourceOffset));
    assert.equal(g.kind, dec.kind);
    assert.equal(g.intact, dec.intact);
    assert.equal(g.header_type, dec.header?.type ?? null);
    assert.deepEqual(JSON.parse(String(g.tokens)), json.tokens);
    assert.deepEqual(JSON.parse(String(g.diagnostics)), json.diagnostics);
    assert.ok(Buffer.from(g.raw as Uint8Array).equals(r.bytes), `raw bytes of seq ${String(g.seq)}`);
  }
  // The standalone file tokens are stored too, without header columns.
  const files = await rows(db, `SELECT seq, header_type, event, tokens FROM records WHERE kind = 'file-token'`);
  assert.equal(files.length, recs.filter((r) => r.bytes[0] === 0x11).length);
  assert.ok(files.length > 0);
  for (const f of files) {
    assert.equal(f.header_type, null);
    assert.equal(JSON.parse(String(f.tokens))[0].type, 'file');
  }
});

test('exactly once across a crash: a killed writer, then the same batch and the next replayed', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'store.duckdb');
  const recs = collectedFrom(REALISTIC);
  const a = recs.slice(0, 300), b = recs.slice(300, 600);
  // The child stores batch A and kills itself with SIGKILL before any close (no checkpoint of the WAL).
  const batchFile = join(dir, 'batch.json');
  writeFileSync(batchFile, JSON.stringify(a.map((r) => ({ ...r, bytes: r.bytes.toString('hex') }))));
  const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, db, batchFile, 'kill'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  assert.ok(existsSync(db + '.wal'), 'the crash left a WAL to replay');

  const s = new DuckDbSink({ path: db, events });
  await s.open();
  assert.equal(await s.lastSeq(), 299);
  // The collector resumes from its own (older) checkpoint: it replays A, then sends B.
  const st1 = await s.writeWithStats(a);
  const st2 = await s.writeWithStats(b);
  assert.deepEqual(st1, { inserted: 0, skippedBySeq: 300, skippedById: 0 });
  assert.deepEqual(st2, { inserted: 300, skippedBySeq: 0, skippedById: 0 });
  // A record that comes back under a new seq (e.g. the spool re-read it) is recognised by its id.
  const again = recs.slice(100, 110).map((r, i) => ({ ...r, seq: 600 + i }));
  const st3 = await s.writeWithStats([...again, recs[600], recs[600]].map((r, i) => ({ ...r, seq: 600 + i })));
  assert.deepEqual(st3, { inserted: 1, skippedBySeq: 0, skippedById: 11 });
  await s.close();

  const c = await rows(db, `SELECT count(*) AS n, count(DISTINCT id) AS ids, min(seq) AS lo, max(seq) AS hi FROM records`);
  assert.deepEqual(c[0], { n: 601n, ids: 601n, lo: 0n, hi: 610n });
  const ids = await rows(db, `SELECT id FROM records WHERE seq < 600 ORDER BY seq`);
  assert.deepEqual(ids.map((r) => r.id), recs.slice(0, 600).map((r) => r.id));
});

test('store files are 0600 in a 0700 directory, WAL included, whatever the umask', async (t) => {
  const dir = join(tempDir(t), 'state', 'bsmkit');
  const db = join(dir, 'store.duckdb');
  const old = process.umask(0o022);
  try {
    const s = new DuckDbSink({ path: db, events });
    await s.open();
    await s.write(collectedFrom(REALISTIC).slice(0, 50));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(db).mode & 0o777, 0o600);
    assert.ok(existsSync(db + '.wal'));
    assert.equal(statSync(db + '.wal').mode & 0o777, 0o600);
    await s.close();
    assert.equal(statSync(db).mode & 0o777, 0o600);
  } finally {
    process.umask(old);
  }
});

test('a store that cannot be created or written rejects with a clear error', async (t) => {
  const dir = tempDir(t);
  // The parent "directory" is a regular file.
  writeFileSync(join(dir, 'plain'), 'x');
  const bad = new DuckDbSink({ path: join(dir, 'plain', 'store.duckdb'), events });
  await assert.rejects(bad.open(), (err: unknown) => {
    assert.ok(err instanceof BsmkitError);
    assert.equal(err.code, 'BSMKIT_E_STORE_OPEN');
    assert.match(err.message, /plain/);
    return true;
  });
  // A write that hits a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) in a child: write() rejects, names the store.
  const db = join(dir, 'small.duckdb');
  const batchFile = join(dir, 'batch.json');
  writeFileSync(batchFile, JSON.stringify(collectedFrom(REALISTIC).map((r) => ({ ...r, bytes: r.bytes.toString('hex') }))));
  const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 2048; exec "$0" --import tsx "$@"`, process.execPath, CHILD, db, batchFile, 'repeat'], {
    cwd: REPO,
    encoding: 'utf8',
  });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /BSMKIT_E_SINK_WRITE: duckdb sink: cannot store seq \d+\.\.\d+ in .*small\.duckdb: /);
});

test('default store path: $BSMKIT_STORE, root, XDG state dir', () => {
  assert.equal(defaultStorePath({ BSMKIT_STORE: '/x/y.duckdb' }, 0), '/x/y.duckdb');
  assert.equal(defaultStorePath({}, 0), DEFAULT_STORE_PATH);
  assert.equal(defaultStorePath({ HOME: '/home/u' }, 501), '/home/u/.local/state/bsmkit/store.duckdb');
  assert.equal(defaultStorePath({ HOME: '/home/u', XDG_STATE_HOME: '/s' }, 501), '/s/bsmkit/store.duckdb');
});

test('one large batch (many DataChunks, appender flushes inside the transaction) is stored whole and in order', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const base = collectedFrom(REALISTIC);
  const big = Array.from({ length: 20_000 }, (_, i) => ({ ...base[i % base.length], seq: i, id: `${base[i % base.length].id}-${i}` }));
  const s = new DuckDbSink({ path: db, events });
  await s.open();
  assert.deepEqual(await s.writeWithStats(big), { inserted: 20_000, skippedBySeq: 0, skippedById: 0 });
  await s.close();
  const got = await rows(db, `SELECT seq, id, raw, event FROM records ORDER BY seq`);
  assert.equal(got.length, big.length);
  for (let i = 0; i < big.length; i += 997) {
    assert.equal(got[i].id, big[i].id);
    assert.ok(Buffer.from(got[i].raw as Uint8Array).equals(big[i].bytes), `raw of seq ${i}`);
    assert.equal(got[i].event, decodeRecord(big[i].bytes).header?.event ?? null);
  }
});

test('the records table is written in row groups of STORE_ROW_GROUP rows (a row group is held in memory while it fills)', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const base = collectedFrom(REALISTIC);
  const n = STORE_ROW_GROUP * 2 + 1000;
  const big = Array.from({ length: n }, (_, i) => ({ ...base[i % base.length], seq: i, id: `${base[i % base.length].id}-${i}` }));
  const s = new DuckDbSink({ path: db, events });
  await s.open();
  await s.write(big.slice(0, STORE_ROW_GROUP + 500));
  await s.write(big.slice(STORE_ROW_GROUP + 500));
  await s.close();
  const groups = await rows(db, `SELECT row_group_id, sum(count) AS n FROM pragma_storage_info('records') WHERE column_name = 'seq' AND segment_type <> 'VALIDITY' GROUP BY row_group_id ORDER BY row_group_id`);
  assert.equal(groups.reduce((a, g) => a + Number(g.n), 0), n);
  assert.ok(groups.length >= 3, `${groups.length} row groups for ${n} rows`);
  for (const g of groups) assert.ok(Number(g.n) <= STORE_ROW_GROUP, `row group ${String(g.row_group_id)} holds ${String(g.n)} rows`);
});

test('two writes in flight (maxInFlight 2) are stored in call order, each once', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const recs = collectedFrom(REALISTIC);
  const s = new DuckDbSink({ path: db, events });
  await s.open();
  assert.equal(s.maxInFlight, 2);
  const batches = [recs.slice(0, 40), recs.slice(40, 90), recs.slice(20, 120), recs.slice(120)];
  const stats = await Promise.all(batches.map((b) => s.writeWithStats(b)));
  // the third repeats 70 records of the first two: skipped by seq although it was prepared before they committed
  assert.deepEqual(stats.map((x) => [x.inserted, x.skippedBySeq]), [[40, 0], [50, 0], [30, 70], [recs.length - 120, 0]]);
  assert.equal(await s.lastSeq(), recs[recs.length - 1].seq);
  await s.close();
  const got = await rows(db, 'SELECT seq, id FROM records ORDER BY seq');
  assert.deepEqual(got.map((r) => r.id), recs.map((r) => r.id));
});

test('an invalidated database (a failed checkpoint) is reopened by the next call: the failed batch is stored on retry, exactly once', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const recs = collectedFrom(REALISTIC).slice(0, 300);
  const s = new DuckDbSink({ path: db, events });
  await s.open();
  await s.write(recs.slice(0, 100));
  // DuckDB's own test switch: the next checkpoint fails, which invalidates the database until it is attached again
  const conn = s['conn'] as DuckDBConnection;
  await conn.run(`SET debug_checkpoint_abort = 'before_header'`);
  await assert.rejects(conn.run('CHECKPOINT store'), /invalidated/);
  // two batches handed over at once (maxInFlight): the first fails, so the second is not stored either
  const first = s.write(recs.slice(100, 150));
  const second = s.write(recs.slice(150, 200));
  await assert.rejects(first, (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_SINK_WRITE' && /invalidated/.test(e.message));
  await assert.rejects(second, (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_SINK_WRITE' && /an earlier batch failed/.test(e.message));
  // the collector retries from its checkpoint: the replayed first batch is skipped, the failed one stored
  assert.deepEqual(await s.writeWithStats(recs.slice(50, 200)), { inserted: 100, skippedBySeq: 50, skippedById: 0 });
  assert.equal(await s.lastSeq(), recs[199].seq);
  await s.writeRaw(packRecords(recs.slice(200)).raw);
  await s.close();
  const got = await rows(db, 'SELECT seq, id FROM records ORDER BY seq');
  assert.deepEqual(got.map((r) => Number(r.seq)), recs.map((r) => r.seq));
  // (writeRaw derives the ids from the bytes and source position, as the collector's do)
  assert.deepEqual(got.slice(0, 200).map((r) => r.id), recs.slice(0, 200).map((r) => r.id));
});

test('writes after close() keep failing as closed: the store is not opened again', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const recs = collectedFrom(REALISTIC).slice(0, 20);
  const s = new DuckDbSink({ path: db, events });
  await s.open();
  await s.write(recs.slice(0, 10));
  await s.close();
  for (let i = 0; i < 2; i++) await assert.rejects(s.write(recs.slice(10)), (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_SINK_CLOSED');
  await assert.rejects(s.lastSeq(), (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_SINK_CLOSED');
  assert.equal((await rows(db, 'SELECT count(*) AS n FROM records'))[0].n, 10n);
});

test('ids: a record back under a new seq is dropped within the recent-id window, also after reopen; older ones are not checked', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const recs = collectedFrom(REALISTIC).slice(0, 40);
  const s = new DuckDbSink({ path: db, events, recentIds: 10 });
  await s.open();
  assert.deepEqual(await s.writeWithStats(recs.slice(0, 20)), { inserted: 20, skippedBySeq: 0, skippedById: 0 });
  await s.close();
  const s2 = new DuckDbSink({ path: db, events, recentIds: 10 });
  await s2.open();
  // seqs 10..19 are the window after reopen: their ids come back as seqs 20..24 and are dropped; the ids of seqs
  // 0..4 lie before the window and are stored again (the documented bound of the check).
  const back = [...recs.slice(15, 20), ...recs.slice(0, 5)].map((r, i) => ({ ...r, seq: 20 + i }));
  assert.deepEqual(await s2.writeWithStats(back), { inserted: 5, skippedBySeq: 0, skippedById: 5 });
  assert.equal(await s2.lastSeq(), 29);
  await s2.close();
  const got = await rows(db, `SELECT seq, id FROM records ORDER BY seq`);
  assert.deepEqual(got.map((r) => r.seq), [...Array.from({ length: 20 }, (_, i) => BigInt(i)), 25n, 26n, 27n, 28n, 29n]);
  assert.deepEqual(got.slice(20).map((r) => r.id), recs.slice(0, 5).map((r) => r.id));
});

test('a store created with a primary key on id (older bsmkit) drops an id older than the window instead of failing', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const recs = collectedFrom(REALISTIC).slice(0, 30);
  const s = new DuckDbSink({ path: db, events, recentIds: 5 });
  await s.open();
  await s.close();
  const inst = await DuckDBInstance.create(db);
  const c = await inst.connect();
  await c.run('ALTER TABLE records ADD PRIMARY KEY (id)');
  c.closeSync();
  inst.closeSync();
  const s2 = new DuckDbSink({ path: db, events, recentIds: 5 });
  await s2.open();
  assert.deepEqual(await s2.writeWithStats(recs.slice(0, 20)), { inserted: 20, skippedBySeq: 0, skippedById: 0 });
  const back = [recs[0], recs[1], recs[25]].map((r, i) => ({ ...r, seq: 20 + i }));
  assert.deepEqual(await s2.writeWithStats(back), { inserted: 1, skippedBySeq: 0, skippedById: 2 });
  await s2.close();
  const c2 = await rows(db, `SELECT count(*) AS n, count(DISTINCT id) AS ids, max(seq) AS hi FROM records`);
  assert.deepEqual(c2[0], { n: 21n, ids: 21n, hi: 22n });
});

/** Every .bsm file under the conformance corpus (real and generated trails, damaged ones included). */
function corpusFiles(dir = join(REPO, '../shared/conformance')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...corpusFiles(p));
    else if (e.name.endsWith('.bsm')) out.push(p);
  }
  return out.sort();
}

/** The row a record should become, straight from the decoded model (the reference for the byte-level path). */
function expectedRow(rec: BsmRecord, json: JsonRenderer): Record<string, unknown> {
  const big = (v: number | bigint | undefined): bigint | null => (v === undefined ? null : BigInt(v));
  const h = rec.header;
  const subj = rec.tokens.find((t, i) => i > 0 && (t.type === 'subject32' || t.type === 'subject64' || t.type === 'subject32_ex' || t.type === 'subject64_ex'));
  const ret = rec.tokens.find((t, i) => i > 0 && (t.type === 'return32' || t.type === 'return64'));
  const s = subj as (typeof subj & { auid: number; euid: number; egid: number; ruid: number; rgid: number; pid: number; sid: number; port: number | bigint; addr: Buffer }) | undefined;
  const r = ret as (typeof ret & { status: number; value: number | bigint }) | undefined;
  let ms: bigint | null = null;
  if (h) {
    ms = BigInt(h.sec) * 1000n + BigInt(h.msec);
    if (ms > 8_640_000_000_000_000n) ms = null;
  }
  const line = JSON.parse(json.record(rec));
  return {
    kind: rec.kind, intact: rec.intact,
    header_type: h?.type ?? null, header_version: h?.version ?? null, header_size: h?.size ?? null, event: h?.event ?? null,
    event_name: h ? (events.describe(h.event)?.name ?? null) : null, modifier: h?.modifier ?? null,
    ms, time_sec: big(h?.sec), time_msec: big(h?.msec),
    host_addr: h && (h.type === 'header32_ex' || h.type === 'header64_ex') ? addrText(h.addr) : null,
    auid: s?.auid ?? null, euid: s?.euid ?? null, egid: s?.egid ?? null, ruid: s?.ruid ?? null, rgid: s?.rgid ?? null,
    pid: s?.pid ?? null, sid: s?.sid ?? null, terminal_port: big(s?.port), terminal_addr: s ? addrText(s.addr) : null,
    ret_status: r?.status ?? null, ret_errno: r ? (bsmErrno(r.status).name ?? null) : null, ret_value: big(r?.value),
    tokens: line.tokens, diagnostics: line.diagnostics,
  };
}

test('every record of the conformance corpus: each column equals the decoded record (byte-level and decoded paths)', async (t) => {
  const dir = tempDir(t);
  const files = corpusFiles();
  assert.ok(files.length >= 50, `corpus files: ${files.length}`);
  let total = 0;
  const types = new Set<string>();
  for (const [n, file] of files.entries()) {
    const recs = collectedFrom(file);
    if (recs.length === 0) continue;
    const db = join(dir, `store${n}.duckdb`);
    const s = new DuckDbSink({ path: db, events });
    await s.open();
    await s.write(recs);
    await s.close();
    const got = await rows(db, `SELECT * EXCLUDE (id, seq, origin, recovered, source_offset, raw, time), epoch_ms(time)::BIGINT AS ms FROM records ORDER BY seq`);
    assert.equal(got.length, recs.length, file);
    // One renderer per file, as the sink keeps one: XNU detection carries over from earlier records.
    const json = createJsonRenderer({ events });
    for (let i = 0; i < recs.length; i++) {
      const rec = decodeRecord(recs[i].bytes, recs[i].sourceOffset);
      const want = { source_file: file, ...expectedRow(rec, json) };
      const g = { ...got[i], tokens: JSON.parse(String(got[i].tokens)), diagnostics: JSON.parse(String(got[i].diagnostics)) };
      assert.deepEqual(g, want, `${file} record ${i}`);
      types.add(`${rec.header?.type}/${rec.intact}`);
      for (const tok of rec.tokens) types.add(tok.type);
    }
    total += recs.length;
  }
  assert.ok(total > 2000, `records: ${total}`);
  // The corpus reaches every header, subject and return form and damaged records (else this test proves less).
  for (const ty of ['header32', 'header32_ex', 'header64', 'header64_ex', 'subject32', 'subject32_ex', 'subject64', 'subject64_ex', 'return32', 'return64']) {
    assert.ok([...types].some((x) => x === ty || x.startsWith(ty + '/')), `corpus has no ${ty}`);
  }
  assert.ok(types.has('header32/false'), 'corpus has damaged records');
});

/** The rejection of a sink's open(): BSMKIT_E_STORE_OPEN naming the store and matching `why`. */
function refused(db: string, why: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof BsmkitError, String(err));
    assert.equal(err.code, 'BSMKIT_E_STORE_OPEN');
    assert.ok(err.message.includes(db), err.message);
    assert.match(err.message, why);
    return true;
  };
}

test('a file that is not a DuckDB database (here a SQLite one) is refused as such, by the sink and by query, untouched', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const bytes = Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4080, 1)]);
  writeFileSync(db, bytes);
  // DuckDB left to guess the type would fetch its sqlite extension from the network and fail (or open the SQLite
  // database as the store)
  await assert.rejects(new DuckDbSink({ path: db, events }).open(), refused(db, /not a valid DuckDB database file/));
  await assert.rejects(openStoreReadOnly(db), refused(db, /not a DuckDB database file/));
  assert.ok(readFileSync(db).equals(bytes));
  assert.ok(!existsSync(db + '.wal'));
});

test('a store of another schema version, or a records table without one, is refused on open and left as it was', async (t) => {
  const dir = tempDir(t);
  const recs = collectedFrom(REALISTIC).slice(0, 20);
  async function make(path: string, sql: string[]): Promise<void> {
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    for (const q of sql) await c.run(q);
    c.closeSync();
    inst.closeSync();
  }
  const tables = async (path: string): Promise<string[]> => (await rows(path, 'SELECT table_name FROM duckdb_tables() ORDER BY table_name')).map((r) => String(r.table_name));

  // an older bsmkit's store (version 0)
  const old = join(dir, 'v0.duckdb');
  await make(old, [`CREATE TABLE bsmkit_store_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`, `INSERT INTO bsmkit_store_meta VALUES ('schema_version', '0')`, `CREATE TABLE records (id VARCHAR PRIMARY KEY, seq BIGINT, raw BLOB)`]);
  await assert.rejects(new DuckDbSink({ path: old, events }).open(), refused(old, /store schema version 0, this bsmkit writes version 1/));

  // a records table and no schema version: not stamped as ours (every write would then fail on its columns)
  const bare = join(dir, 'bare.duckdb');
  await make(bare, [`CREATE TABLE records (id VARCHAR, seq BIGINT, raw BLOB)`]);
  await assert.rejects(new DuckDbSink({ path: bare, events }).open(), refused(bare, /records table but no schema version in bsmkit_store_meta/));
  assert.deepEqual(await tables(bare), ['records']);

  // version 1, but the records table lost a column: refused on open rather than on every write
  const altered = join(dir, 'altered.duckdb');
  const s = new DuckDbSink({ path: altered, events });
  await s.open();
  await s.write(recs);
  await s.close();
  await make(altered, ['ALTER TABLE records DROP COLUMN host_addr']);
  await assert.rejects(new DuckDbSink({ path: altered, events }).open(), refused(altered, /records table does not have the columns of schema version 1: \(id VARCHAR, .*\), expected \(id VARCHAR, .*host_addr VARCHAR/));

  // a store of this version opens, and another DuckDB database without our tables gets them
  const other = join(dir, 'other.duckdb');
  await make(other, ['CREATE TABLE notes (n INTEGER)']);
  for (const path of [altered.replace('altered', 'fresh'), other]) {
    const ok = new DuckDbSink({ path, events });
    await ok.open();
    await ok.write(recs);
    await ok.close();
    assert.equal((await rows(path, 'SELECT count(*) AS n FROM records'))[0].n, 20n);
  }
  assert.deepEqual(await tables(other), ['bsmkit_store_meta', 'notes', 'records']);
});

test('write() before open() fails as closed every time: it never opens the store by itself', async (t) => {
  const db = join(tempDir(t), 'store.duckdb');
  const s = new DuckDbSink({ path: db, events });
  const recs = collectedFrom(REALISTIC).slice(0, 5);
  for (let i = 0; i < 3; i++) await assert.rejects(s.write(recs), (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_SINK_CLOSED');
  await assert.rejects(s.lastSeq(), (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_SINK_CLOSED');
  assert.ok(!existsSync(db));
});

test('a store held by another bsmkit process: open and query fail naming the lock and its pid; after that process crashed, its rows are there', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'store.duckdb');
  const recs = collectedFrom(REALISTIC).slice(0, 200);
  const batchFile = join(dir, 'batch.json');
  writeFileSync(batchFile, JSON.stringify(recs.map((r) => ({ ...r, bytes: r.bytes.toString('hex') }))));
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, db, batchFile, 'hold'], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(first.toString(), 'held\n');
  const lock = new RegExp(`lock.*PID ${child.pid}`, 'i');
  await assert.rejects(new DuckDbSink({ path: db, events }).open(), refused(db, lock));
  await assert.rejects(openStoreReadOnly(db), refused(db, new RegExp(`${lock.source}.*a running collector holds the store`, 'is')));
  child.kill('SIGKILL');
  await once(child, 'exit');
  const s = new DuckDbSink({ path: db, events });
  await s.open();
  assert.equal(await s.lastSeq(), 199);
  await s.close();
  const { instance, conn } = await openStoreReadOnly(db);
  assert.deepEqual((await conn.runAndReadAll('SELECT count(*)::INTEGER FROM records')).getRows(), [[200]]);
  conn.closeSync();
  instance.closeSync();
});

test('two sinks on one store in one process: the second is refused while the first has it open (DuckDB locks out other processes only)', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'store.duckdb');
  const recs = collectedFrom(REALISTIC).slice(0, 60);
  const a = new DuckDbSink({ path: db, events });
  await a.open();
  await a.write(recs.slice(0, 20));
  // the same file by another spelling of its path
  const b = new DuckDbSink({ path: join(dir, '.', 'store.duckdb'), events });
  await assert.rejects(b.open(), refused(db, /already written by another sink in this process/));
  await a.write(recs.slice(20, 40));
  await a.close();
  await b.open();
  await b.write(recs.slice(30));
  await b.close();
  const got = await rows(db, 'SELECT seq FROM records ORDER BY seq');
  assert.deepEqual(got.map((r) => Number(r.seq)), recs.map((r) => r.seq));
});

test('unusual strings (not UTF-8, NUL bytes, unterminated), a 70 KB record and 64-bit extremes: valid JSON in DuckDB, exact values, the same tokens as the NDJSON sink', async (t) => {
  const dir = tempDir(t);
  const texts = [
    [0xed, 0xa0, 0x80, 0x41, 0], [0xc0, 0xaf, 0], [0xf4, 0x90, 0x80, 0x80, 0], [0x80, 0], [0xe2, 0x82], // not UTF-8
    [0x41, 0, 0x42, 0, 0], [0x22, 0x5c, 0x0a, 0x01, 0x7f, 0], [0xf0, 0x9f, 0x98, 0x80, 0], // NUL inside, escapes, emoji
  ].map((b) => Buffer.from(b));
  const subj = { type: 'subject64', auid: 0xffffffff, euid: 0, egid: 0, ruid: 0, rgid: 0, pid: 1, sid: 2, port: 0xffffffffffffffffn, addrType: 4, addr: Buffer.from([10, 0, 0, 1]) } as const;
  const header = { type: 'header64', event: 23, sec: 0xffffffffffffffffn, msec: 0xffffffffffffffffn } as const;
  const bodies = [
    ...texts.map((text) => [{ type: 'text', text }, subj, { type: 'return64', status: 0, value: 0xffffffffffffffffn }]),
    [execArgs(Array.from({ length: 3000 }, (_, i) => `--arg-${i}=${'x'.repeat(16)}`)), subj],
  ];
  const recs = bodies.map((body, i) => {
    const bytes = encodeRecord({ ...header, sec: i === 0 ? header.sec : BigInt(1_700_000_000 + i), msec: i === 0 ? header.msec : 5n }, body as TokenInput[]);
    return { seq: i, id: `r${i}`, bytes, origin: 'pipe' as const, sourceOffset: i * 1000 };
  });
  assert.ok(recs.at(-1)!.bytes.length > 70_000);
  const db = join(dir, 'store.duckdb');
  const s = new DuckDbSink({ path: db, events });
  await s.open();
  await s.write(recs);
  await s.close();
  const got = await rows(db, `SELECT seq, json_valid(tokens) AND json_valid(diagnostics) AS valid, tokens::BLOB AS tb, tokens->0->>'text_hex' AS text_hex,
      json_array_length(tokens->0->'strings') AS nargs, ret_value, terminal_port, time_sec, time_msec, time, raw FROM records ORDER BY seq`);
  assert.equal(got.length, recs.length);
  const nd = new NdjsonFileSink({ dir: join(dir, 'nd'), events });
  await nd.open();
  await nd.write(recs);
  await nd.close();
  const lines = readFileSync(nd.files()[0]);
  assert.ok(isUtf8(lines));
  const ndTokens = lines.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l).tokens);
  for (const [i, g] of got.entries()) {
    const at = `seq ${i}`;
    const tb = Buffer.from(g.tb as Uint8Array);
    assert.equal(g.valid, true, at);
    assert.ok(isUtf8(tb), at);
    assert.deepEqual(JSON.parse(tb.toString('utf8')), ndTokens[i], at);
    assert.ok(Buffer.from(g.raw as Uint8Array).equals(recs[i].bytes), at);
    assert.equal(g.terminal_port, 0xffffffffffffffffn, at);
    if (i < texts.length) {
      assert.equal(g.ret_value, 0xffffffffffffffffn, at);
      // lossless: _hex holds the exact bytes when the text cannot, else the text's UTF-8 is the bytes
      const tok = ndTokens[i][0] as { text: string; text_hex?: string };
      if (i < 5) assert.equal(g.text_hex, texts[i].toString('hex'), at);
      else assert.equal(g.text_hex, null, at);
      if (g.text_hex === null) assert.ok(Buffer.concat([Buffer.from(tok.text, 'utf8'), Buffer.from([0])]).equals(texts[i]), at);
    } else assert.equal(g.nargs, 3000n);
  }
  // header64 extremes: exact as recorded, time NULL beyond what a timestamp holds
  assert.equal(got[0].time_sec, 0xffffffffffffffffn);
  assert.equal(got[0].time_msec, 0xffffffffffffffffn);
  assert.equal(got[0].time, null);
  assert.notEqual(got[1].time, null);
});
