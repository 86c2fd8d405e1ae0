// Keeps one live XState actor per resource and persists its snapshot to the
// state folder on every change, so a restarted controller resumes where it was.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CoalescingWriter } from '../runtime/coalescing-writer.js';
import { createActor, type Actor, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import { persistable, restore, type PersistedMachine } from '../../machines/persist.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import { bindEffects, type Effects } from './resource-effects.js';

/** The machine's own persisted form, plus the resource generation it was for. */
interface Persisted extends PersistedMachine {
  generation: number;
}

export interface Hosted<M extends AnyStateMachine> {
  key: string;
  generation: number;
  actor: Actor<M>;
}

export class ActorHost<M extends AnyStateMachine> {
  private readonly actors = new Map<string, Hosted<M>>();
  private readonly writer = new CoalescingWriter();

  constructor(
    private readonly opts: {
      dir: string;
      log: Logger;
      /** Called after each snapshot is persisted. */
      onSnapshot: (key: string, snapshot: SnapshotFrom<M>) => void;
      /** Drives the machines' delays (the retry backoff): a SimulatedClock in tests. */
      clock?: Clock;
    },
  ) {
    mkdirSync(opts.dir, { recursive: true });
  }

  private file(key: string): string {
    return join(this.opts.dir, `${key.replace('/', '.')}.json`);
  }

  get(key: string): Hosted<M> | undefined {
    return this.actors.get(key);
  }

  keys(): string[] {
    return [...this.actors.keys()];
  }

  private readPersisted(key: string): Persisted | undefined {
    const file = this.file(key);
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Persisted;
    } catch (e) {
      this.opts.log.warn('Ignored unreadable machine snapshot', { key, file, error: (e as Error).message });
      return undefined;
    }
  }

  /**
   * Starts the actor for key, restoring the persisted snapshot when it is for
   * the same machine version and generation; otherwise starts fresh. `machine`
   * is shared by every resource of its kind (sharedMachine); `effects` are
   * this resource's.
   */
  start(key: string, machine: M, input: unknown, generation: number, effects: Effects): { hosted: Hosted<M>; restored: boolean } {
    const persisted = this.readPersisted(key);
    const snapshot = persisted?.generation === generation ? restore(machine, persisted) : undefined;
    const usable = snapshot !== undefined;
    let actor: Actor<M>;
    try {
      actor = createActor(machine, usable ? { snapshot: snapshot as never, input: input as never, clock: this.opts.clock } : { input: input as never, clock: this.opts.clock });
    } catch (e) {
      this.opts.log.warn('Discarded a snapshot that no longer restores', { key, error: (e as Error).message });
      actor = createActor(machine, { input: input as never, clock: this.opts.clock });
    }
    bindEffects(actor, effects);
    const hosted: Hosted<M> = { key, generation, actor };
    this.actors.set(key, hosted);
    actor.subscribe({
      next: (snapshot) => {
        if (this.actors.get(key) !== hosted) return;
        this.persist(key, generation, actor);
        this.opts.onSnapshot(key, snapshot as SnapshotFrom<M>);
      },
      error: (err) => this.opts.log.error('Machine failed', { key, error: (err as Error)?.message ?? String(err) }),
    });
    actor.start();
    this.persist(key, generation, actor);
    return { hosted, restored: usable };
  }

  private persist(key: string, generation: number, actor: Actor<M>): void {
    // Coalesced, not fsynced: a snapshot lost to a crash only means the machine
    // restarts its current step, which every effect is written to survive.
    this.writer.schedule(this.file(key), () => JSON.stringify({ ...persistable(actor as Actor<AnyStateMachine>), generation } satisfies Persisted));
  }

  /** Stops the live actor (not what it launched) and, if asked, forgets its snapshot. */
  stop(key: string, opts: { forget: boolean }): void {
    const hosted = this.actors.get(key);
    this.actors.delete(key);
    hosted?.actor.stop();
    if (opts.forget) {
      this.writer.cancel(this.file(key));
      rmSync(this.file(key), { force: true });
    }
  }

  stopAll(): void {
    // Written while the actors still run, so each snapshot is of a live actor to resume.
    this.writer.flush();
    for (const key of this.keys()) this.stop(key, { forget: false });
  }
}
