/** A byte-progress bar on stderr for long runs on a terminal (cli-progress). */
import cliProgress from 'cli-progress';

export class Progress {
  private readonly bar: cliProgress.SingleBar;
  private last = 0;

  constructor(stream: NodeJS.WritableStream, label: string, total: number) {
    this.bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WritableStream & { isTTY: boolean },
        format: `${label} [{bar}] {percentage}% | {value}/{total} MB | {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.ceil(total / 1e6), 0);
  }

  update(bytes: number): void {
    const mb = Math.floor(bytes / 1e6);
    if (mb !== this.last) {
      this.last = mb;
      this.bar.update(mb);
    }
  }

  stop(): void {
    this.bar.stop();
  }
}
