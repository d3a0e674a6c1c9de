// Micro benchmark of the NDJSON renderer alone: decode a trail into memory once, then time rendering passes.
// Usage: node bench/micro/json.bench.mjs [trail] [passes]   (after `npm run build`; default: the 10 MB trail)
// Prints MB/s of input rendered (input bytes / CPU seconds of rendering), records/s and output bytes per input byte, for the
// renderer and for the naive variant (JSON.stringify of a converted object graph) it replaced.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { decodeAll } = await import(join(root, 'dist/format/read-file.js'));
const { createJsonRenderer } = await import(join(root, 'dist/render/json/index.js'));

const file = process.argv[2] ?? join(root, 'bench/data/bench-10mb.bsm');
const passes = Number(process.argv[3] ?? 5);
const buf = readFileSync(file);
const { records } = decodeAll(buf);

/** The naive rival: convert the model to plain JSON values, then JSON.stringify. */
function naive(rec) {
  const conv = (v) =>
    Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'bigint' ? v.toString() : Array.isArray(v) ? v.map(conv) : v;
  const tokens = rec.tokens.map((t) => {
    const o = {};
    for (const k in t) o[k] = conv(t[k]);
    return o;
  });
  return JSON.stringify({ offset: rec.offset, length: rec.bytes.length, kind: rec.kind, intact: rec.intact, tokens, diagnostics: rec.diagnostics }) + '\n';
}

const EMPTY = Buffer.alloc(0);

function run(name, render) {
  const times = [];
  let out = 0;
  for (let p = 0; p < passes; p++) {
    out = 0;
    // CPU time, not wall time: on a shared machine other processes' load inflates wall time but not ours.
    const c0 = process.cpuUsage();
    for (let i = 0; i < records.length; i++) out += render(records[i]).length;
    const c = process.cpuUsage(c0);
    times.push((c.user + c.system) / 1e6);
  }
  times.sort((a, b) => a - b);
  const med = times[times.length >> 1];
  console.log(
    `${name.padEnd(22)} ${(buf.length / 1e6 / med).toFixed(1).padStart(7)} MB/s  ${Math.round(records.length / med).toLocaleString('en-US').padStart(11)} rec/s  ` +
      `out/in ${(out / buf.length).toFixed(2)}  (median of ${passes}, min ${(buf.length / 1e6 / times[times.length - 1]).toFixed(1)}, max ${(buf.length / 1e6 / times[0]).toFixed(1)} MB/s)`,
  );
}

console.log(`${file}: ${buf.length} bytes, ${records.length} records, node ${process.version}`);
const r = createJsonRenderer();
run('record() → string', (rec) => r.record(rec));
const w = createJsonRenderer();
run('push() + take() bytes', (rec) => {
  w.push(rec);
  return w.pending >= 1 << 20 ? w.take() : EMPTY;
});
w.take();
run('naive JSON.stringify', naive);
