/**
 * Waits for "something may have changed" in the trail directories: a file-system notification (fs.watch: inotify,
 * kqueue, FSEvents), or the poll interval passing, whichever comes first. Notifications only shorten the wait; the
 * poll keeps the follower correct where they are missing (NFS, exhausted inotify watches, a watcher error).
 *
 * A change counter closes the race between "read found EOF" and "start waiting": a caller passes the counter it
 * saw before reading, and a notification that arrived in between ends the wait at once.
 */
import { watch, type FSWatcher } from 'node:fs';

export class ChangeWaiter {
  private count = 0;
  private readonly watchers: FSWatcher[] = [];
  private wakers = new Set<() => void>();
  private closed = false;

  constructor(dirs: readonly string[], useWatch: boolean) {
    if (!useWatch) return;
    for (const dir of new Set(dirs)) {
      try {
        // Not persistent: a follower nobody is waiting on must not keep the process alive (the wait timer does).
        const w = watch(dir, { persistent: false }, () => this.bump());
        w.on('error', () => {
          w.close(); // fall back to polling for this directory
        });
        this.watchers.push(w);
      } catch {
        // fs.watch unsupported here or out of watches: polling alone.
      }
    }
  }

  /** Changes seen so far; pass it to wait() to not miss one that arrives meanwhile. */
  get changes(): number {
    return this.count;
  }

  /** Whether at least one directory is watched by notifications. */
  get watching(): boolean {
    return this.watchers.length > 0;
  }

  /** Resolves when a change after `since` is seen, after `timeoutMs`, or when woken/closed. */
  wait(since: number, timeoutMs: number): Promise<void> {
    if (this.closed || this.count !== since) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.wakers.add(done);
    });
  }

  /** Ends every current wait (a notification, or a close request). */
  bump(): void {
    this.count++;
    for (const w of [...this.wakers]) w();
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
    this.bump();
  }
}
