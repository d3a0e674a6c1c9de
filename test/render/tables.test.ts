import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SOCKET_DOMAINS, socketDomainName, SOCKET_TYPES, socketTypeName, FCNTL_COMMANDS, fcntlCommandName,
  ipcTypeName, dataFormatName, dataUnitName, dataUnitSize,
} from '../../src/render/tables/index.js';

const SPEC = readFileSync(join(import.meta.dirname, '../../../shared/spec/bsm-format.md'), 'utf8');

/** The `| n | name | n | name |` pairs of the markdown table in the section titled `heading`. */
function specPairs(heading: string): Map<number, string> {
  const start = SPEC.indexOf(heading);
  assert.ok(start >= 0, heading);
  const end = SPEC.indexOf('\n### ', start + 1);
  const out = new Map<number, string>();
  for (const line of SPEC.slice(start, end).split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    for (let i = 0; i + 1 < cells.length; i += 2) {
      const m = /^(0x[0-9A-Fa-f]+|\d+)(?:–(\d+))?$/.exec(cells[i]);
      if (!m) continue;
      if (m[2]) {
        // "400–415 | FS_SPECIFIC_0 … FS_SPECIFIC_15"
        for (let n = Number(m[1]); n <= Number(m[2]); n++) out.set(n, `FS_SPECIFIC_${n - Number(m[1])}`);
      } else out.set(Number(m[1]), cells[i + 1].replace(/ \(.*\)$/, ''));
    }
  }
  return out;
}

test('socket domains equal the table in bsm-format.md §11.2', () => {
  const spec = specPairs('### 11.2 Socket domain');
  assert.equal(spec.size, 66);
  assert.deepEqual(new Map([...SOCKET_DOMAINS].sort((a, b) => a[0] - b[0])), new Map([...spec].sort((a, b) => a[0] - b[0])));
  assert.equal(socketDomainName(26), 'INET6');
  assert.equal(socketDomainName(30), 'INET_OFFLOAD', 'Darwin AF_INET6 (30) is not BSM INET6');
  assert.equal(socketDomainName(1), 'LOCAL');
  assert.equal(socketDomainName(517), undefined);
  assert.equal(socketDomainName(700), 'UNKNOWN');
});

test('socket types equal §11.3: STREAM = 2, DGRAM = 1 (Solaris numbers)', () => {
  const start = SPEC.indexOf('### 11.3 Socket type');
  const spec = new Map<number, string>();
  for (const m of SPEC.slice(start, SPEC.indexOf('\n### ', start + 1)).matchAll(/^\| (\d+) \| (\w+) \|/gm)) spec.set(Number(m[1]), m[2]);
  assert.deepEqual(SOCKET_TYPES, spec);
  assert.equal(socketTypeName(2), 'STREAM');
  assert.equal(socketTypeName(1), 'DGRAM');
  assert.equal(socketTypeName(3), undefined);
});

test('fcntl commands equal §11.4', () => {
  const spec = specPairs('### 11.4 fcntl commands');
  assert.equal(FCNTL_COMMANDS.size, spec.size);
  for (const [n, name] of spec) assert.equal(fcntlCommandName(n), name, String(n));
  assert.equal(fcntlCommandName(351), 'FULLFSYNC');
  assert.equal(fcntlCommandName(415), 'FS_SPECIFIC_15');
  assert.equal(fcntlCommandName(0xffff), 'UNKNOWN');
  assert.equal(fcntlCommandName(12), undefined);
});

test('IPC types and data formats/units (§11.5)', () => {
  assert.deepEqual([0, 1, 2, 3, 4].map(ipcTypeName), [undefined, 'msg', 'sem', 'shm', undefined]);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(dataFormatName), ['binary', 'octal', 'decimal', 'hex', 'string', undefined]);
  assert.deepEqual([0, 1, 2, 3, 4].map(dataUnitName), ['byte', 'short', 'int32', 'int64', undefined]);
  assert.deepEqual([0, 1, 2, 3, 4, 255].map(dataUnitSize), [1, 2, 4, 8, 0, 0]);
});
