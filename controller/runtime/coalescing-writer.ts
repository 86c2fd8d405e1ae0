// Writes small state files (machine snapshots, event lists) at most once per
// short delay each, the last content winning: a thousand resources starting
// at once cost a few writes each instead of one per transition. What the
// delay can lose to a crash is only redone (effects run again, an event is
// missing): never a user's bytes, never a uid or a generation.
import { writeFileAtomicSync } from './atomic-write.js';

export class CoalescingWriter {
  private readonly pending = new Map<string, () => string>();
  private timer: NodeJS.Timeout | undefined;

  /** onError: a write that failed (its folder removed under us, a full disk); the others still go, the process stays up. */
  constructor(
    private readonly delayMs = 200,
    private readonly onError: (path: string, error: Error) => void = (path, error) => console.warn(`aifb: could not write ${path}: ${error.message}`),
  ) {}

  /** Writes path with content() after the delay (once, however often it is scheduled meanwhile). */
  schedule(path: string, content: () => string): void {
    this.pending.set(path, content);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      this.timer.unref?.();
    }
  }

  /** Drops a pending write (the file is about to be removed or written now). */
  cancel(path: string): void {
    this.pending.delete(path);
  }

  /** Writes everything pending now: at shutdown, and before a durable write that must not be overtaken. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const writes = [...this.pending];
    this.pending.clear();
    for (const [path, content] of writes) {
      try {
        writeFileAtomicSync(path, content());
      } catch (e) {
        // Called from a timer: thrown, it would end the controller for a state file it can redo.
        this.onError(path, e as Error);
      }
    }
  }
}
