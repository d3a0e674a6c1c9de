// Child side of bench/run.mjs: runs ONE scenario once in this fresh process and reports on stdout, last line:
//   BENCH-RESULT {"bytes":…,"records":…,"wallMs":…,"cpuUserMs":…,"cpuSysMs":…,"maxRssKiB":…}
// Usage: node bench/run-scenario.mjs <scenario.mjs> <input file>
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [scenarioPath, file] = process.argv.slice(2);
if (!scenarioPath || !file) {
  process.stderr.write('usage: node bench/run-scenario.mjs <scenario.mjs> <input file>\n');
  process.exit(2);
}
const mod = await import(pathToFileURL(resolve(scenarioPath)).href);
if (typeof mod.default !== 'function') {
  process.stderr.write(`${scenarioPath}: no default export function\n`);
  process.exit(2);
}
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const result = await mod.default({ file });
const wallNs = process.hrtime.bigint() - t0;
const cpu = process.cpuUsage(c0);
if (!result || typeof result.bytes !== 'number') {
  process.stderr.write(`${scenarioPath}: must resolve to { bytes, records }\n`);
  process.exit(2);
}
const out = {
  bytes: result.bytes,
  records: typeof result.records === 'number' ? result.records : 0,
  wallMs: Number(wallNs) / 1e6,
  cpuUserMs: cpu.user / 1000,
  cpuSysMs: cpu.system / 1000,
  // Peak resident set of this process over its whole life (module loading included), in KiB.
  maxRssKiB: process.resourceUsage().maxRSS,
  // Any other numbers the scenario reports (output bytes, diagnostics, …).
  extra: Object.fromEntries(Object.entries(result).filter(([k, v]) => k !== 'bytes' && k !== 'records' && (typeof v === 'number' || typeof v === 'string'))),
};
process.stdout.write('\nBENCH-RESULT ' + JSON.stringify(out) + '\n');
