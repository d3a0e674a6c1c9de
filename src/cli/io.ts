/** What a subcommand gets to talk to the world; tests pass their own streams. */
export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; fd?: number };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface CliCommand {
  /** One line for `bsmkit help`. */
  summary: string;
  /** Runs the command; resolves to the exit status. */
  run(argv: string[], io: CliIo): Promise<number>;
}

export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Writes to a stream and waits for it to drain when its buffer is full (keeps memory bounded). */
export function write(stream: NodeJS.WritableStream, chunk: string | Uint8Array): Promise<void> | undefined {
  if (stream.write(chunk)) return undefined;
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}
