/**
 * Every input of the conformance corpus (clean, quirky, realistic, malformed, real third-party trails): the
 * reconstruction never throws, and feeding a file in odd-sized chunks gives exactly the events and table of
 * feeding it whole (records cut across chunk boundaries are framed the same).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ProcessTracker } from '../../src/activity/tracker.js';
import { toEcs } from '../../src/render/ecs/index.js';
import { toOcsf } from '../../src/render/ocsf/index.js';
import { corpusFiles } from '../format/corpus.js';

function reconstruct(data: Buffer, chunk: number): { events: string[]; live: string; diagnostics: number } {
  const events: string[] = [];
  let diagnostics = 0;
  const t = new ProcessTracker({ onEvent: (e) => events.push(JSON.stringify([e, toOcsf(e), toEcs(e)])) });
  const input = t.input('f', () => diagnostics++);
  for (let i = 0; i < data.length; i += chunk) input.push(data.subarray(i, i + chunk));
  input.end();
  t.end();
  return { events, live: JSON.stringify(t.live()), diagnostics };
}

test('every corpus input: no exception, and chunking does not change the result', () => {
  const files = corpusFiles();
  assert.ok(files.length > 100, `${files.length} files`);
  let events = 0;
  for (const f of files) {
    const data = readFileSync(f);
    const whole = reconstruct(data, data.length || 1);
    const chunked = reconstruct(data, 997);
    assert.deepEqual(chunked, whole, f);
    events += whole.events.length;
  }
  assert.ok(events > 900, `${events} events`);
});
