#!/usr/bin/env node
/**
 * `bsmkit COMMAND [ARGS]`: loads cli/commands/COMMAND.js and runs it. Commands are discovered by file name so
 * adding one touches no shared file.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BsmkitError, UsageError } from '../errors.js';
import { processIo, type CliCommand, type CliIo } from './io.js';

const here = dirname(fileURLToPath(import.meta.url));
const commandsDir = join(here, 'commands');
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && !f.startsWith('_'))
    .map((f) => f.slice(0, -ext.length))
    .sort();
}

async function load(name: string): Promise<CliCommand | undefined> {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !commandNames().includes(name)) return undefined;
  return (await import(pathToFileURL(join(commandsDir, name + ext)).href)) as CliCommand;
}

async function help(io: CliIo): Promise<number> {
  const lines = ['usage: bsmkit COMMAND [OPTIONS] [ARGS]', '', 'commands:'];
  for (const name of commandNames()) {
    const cmd = await load(name);
    lines.push(`  ${name.padEnd(12)} ${cmd?.summary ?? ''}`);
  }
  lines.push('', "Run 'bsmkit COMMAND --help' for a command's options.");
  io.stdout.write(lines.join('\n') + '\n');
  return 0;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return help(io);
  if (name === '--version') {
    io.stdout.write('bsmkit 0.1.0\n');
    return 0;
  }
  const cmd = await load(name);
  if (!cmd) {
    io.stderr.write(`bsmkit: unknown command '${name}'\nRun 'bsmkit help' for the list of commands.\n`);
    return 1;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`bsmkit ${name}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof BsmkitError) {
      io.stderr.write(`bsmkit ${name}: ${err.message} [${err.code}]\n`);
      return 2;
    }
    throw err;
  }
}

/**
 * A reader that went away (`bsmkit print trail | head`) is a normal end, as for any Unix filter: stop quietly instead
 * of dying on an unhandled EPIPE.
 */
function exitQuietlyOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1])) {
  exitQuietlyOnEpipe(process.stdout);
  process.exitCode = await main(process.argv.slice(2));
}
