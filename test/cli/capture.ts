/** Captured stdio for calling the CLI in-process. */
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';

export interface Captured {
  io: CliIo;
  stdout(): Buffer;
  stderr(): string;
}

export function capture(stdin: Buffer | string = '', env: NodeJS.ProcessEnv = { TZ: 'UTC' }): Captured {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const so = new PassThrough();
  const se = new PassThrough();
  so.on('data', (c: Buffer) => out.push(c));
  se.on('data', (c: Buffer) => err.push(c));
  const io: CliIo = { stdin: Readable.from([Buffer.from(stdin)]), stdout: so, stderr: se, env, cwd: process.cwd() };
  return { io, stdout: () => Buffer.concat(out), stderr: () => Buffer.concat(err).toString('utf8') };
}
