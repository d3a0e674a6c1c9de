/**
 * Writes of a sink that takes more than one at a time (Sink.maxInFlight): each write runs in two steps,
 *
 * - prepare (the JS work: checks, rendering), after the previous write's prepare and once the previous write's
 *   store has started, so it overlaps that store's I/O (a DuckDB commit, an fdatasync);
 * - store (the I/O), after the previous write's store.
 *
 * Exactly-once depends on order: when a write fails, every write handed over before the failure became known fails
 * too ("an earlier batch failed"), so nothing after a failed batch is stored and the collector's retry from its
 * checkpoint finds the sink as it left it.
 */
import { BsmkitError } from '../errors.js';

export class PipelinedWrites {
  /** Bumped by every failure: writes handed over before then are not stored. */
  private epoch = 0;
  private failure: string | undefined;
  private stores: Promise<unknown> = Promise.resolve();
  private prepares: Promise<unknown> = Promise.resolve();
  private started: Promise<void> = Promise.resolve();

  /** `what` names the sink in errors ("duckdb sink: batch not stored in <what>: …"). */
  constructor(private readonly what: string) {}

  /**
   * Runs one write. `prepare` gets the stores handed over before it (to wait for them before a recovery); `store`
   * gets the prepared value and a function to call once its I/O has started (then the next prepare may run).
   */
  run<P, R>(prepare: (storesBefore: Promise<unknown>) => P | Promise<P>, store: (prepared: P, started: () => void) => Promise<R>): Promise<R> {
    const epoch = this.epoch;
    const storesBefore = this.stores;
    const startedBefore = this.started;
    let started!: () => void;
    this.started = new Promise<void>((r) => (started = r));
    const prepared = Promise.all([this.prepares, startedBefore]).then(async () => {
      this.check(epoch);
      try {
        return await prepare(storesBefore);
      } catch (err) {
        throw this.failed(err);
      }
    });
    this.prepares = prepared.catch(() => undefined);
    const done = storesBefore
      .then(() => prepared)
      .then(async (p) => {
        this.check(epoch);
        try {
          return await store(p, started);
        } catch (err) {
          throw this.failed(err);
        }
      })
      .finally(started);
    this.stores = done.catch(() => undefined);
    return done;
  }

  /** Resolves once every write handed over so far has ended. */
  idle(): Promise<unknown> {
    return this.stores;
  }

  private check(epoch: number): void {
    if (epoch !== this.epoch) {
      throw new BsmkitError('BSMKIT_E_SINK_WRITE', `${this.what}: batch not stored: an earlier batch failed (${this.failure ?? 'see the earlier error'})`);
    }
  }

  private failed(err: unknown): unknown {
    this.epoch++;
    this.failure = (err as Error).message;
    return err;
  }
}
