// The comparison for the reduce scenarios: `cat FILE` into a pipe, read and counted by this process — the same
// path `bsmkit reduce FILE | …` takes with a CLI (scenario reduce-cli-c-ex). Wall time is what counts here: the
// work happens in the child.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';

export const description = 'cat FILE | (count bytes): the pipe floor for the CLI reduce scenario';

export default async function reduceCat({ file }) {
  const outBytes = await countStdout('cat', [file]);
  return { bytes: statSync(file).size, records: 0, outBytes };
}

export function countStdout(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    child.stdout.on('data', (c) => {
      n += c.length;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(n) : reject(new Error(`${cmd} exited with ${code}`))));
  });
}
