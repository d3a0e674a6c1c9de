/**
 * Entry point of the kernel model child process (spawned by startKernelModel). argv[2] is the ModelConfig as JSON.
 * Prints one `{"ready": ModelInfo}` line on stdout once devices can connect; SIGTERM/SIGINT stop it cleanly (audit -t),
 * SIGKILL leaves what a crash leaves (a *.not_terminated trail and a dangling `current`).
 */
import { runModel, type ModelConfig } from './model-process.js';

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ModelConfig;
  const model = await runModel(config);
  const stop = (): void => {
    void model.stop();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // the parent going away is a clean stop too
  process.on('disconnect', stop);
  process.stdout.write(JSON.stringify({ ready: model.info }) + '\n');
  await model.stopped;
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`kernel model: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(2);
});
