// Process reconstruction (src/activity): frame on the zero-copy path, read each record's subject and lifecycle
// tokens in place, reorder within 1 s, maintain the process table and build every event (delivered, counted,
// not serialised). Peak RSS shows memory bounded by the live processes.
import { createReadStream } from 'node:fs';
import { dist } from '../dist-path.mjs';

export const description = 'process reconstruction: fork/exec/exit events + process table (no output)';

export default async function activity({ file }) {
  const { ProcessTracker } = await import(dist('activity/tracker.js'));
  let events = 0;
  let launches = 0;
  let diagnostics = 0;
  const tracker = new ProcessTracker({
    onEvent(e) {
      events++;
      if (e.kind === 'launch') launches++;
    },
  });
  const input = tracker.input(file, () => diagnostics++);
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    bytes += chunk.length;
    input.push(chunk);
  }
  input.end();
  tracker.end();
  const s = tracker.stats;
  return { bytes, records: s.records, events, launches, live: tracker.table.size, tombstones: tracker.table.tombstones, pidReused: s.pidReused, diagnostics };
}
