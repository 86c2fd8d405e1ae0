// What every kind's reconciler does the same way: one machine per resource
// generation, restored after a restart, events on transitions, status written
// from the snapshot, and on deletion a DELETE to the machine then a sweep.
import { waitFor, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import { stateNameOf } from '../../machines/lifecycle.js';
import type { Kind, Resource, Status } from '../api/schemas.js';
import { describeProblems } from '../../api/problems.js';
import type { ParsedDoc } from '../store/parse.js';
import { ActorHost, type Hosted } from './actor-host.js';
import { cleanupLaunches, invalidStatus } from './common.js';
import type { Effects } from './resource-effects.js';
import type { Reconciler, ReconcilerDeps } from './deps.js';

/** The parts of any snapshot this class reads; XState's generic types do not narrow here. */
interface LooseSnapshot {
  value: unknown;
  context: any;
  status: string;
}
const snap = (hosted: Hosted<AnyStateMachine>): LooseSnapshot => hosted.actor.getSnapshot() as LooseSnapshot;
const send = (hosted: Hosted<AnyStateMachine>, type: string) => hosted.actor.send({ type });

/** How soon to look again at a resource whose job waits in the queue (its reason may change). */
const PENDING_RECHECK_MS = 3000;

export interface Target<R extends Resource> {
  key: string;
  resource: R;
  uid: string;
  generation: number;
}

export abstract class MachineReconciler<M extends AnyStateMachine, R extends Resource> implements Reconciler {
  protected readonly host: ActorHost<M>;
  /** Last state name seen per key, so events mark transitions only. */
  private readonly lastState = new Map<string, string>();

  protected abstract readonly kind: Kind;
  /** The kind's machine (one for all its resources, sharedMachine), this resource's effects, and its input. */
  protected abstract machineFor(target: Target<R>): { machine: M; effects: Effects; input: unknown };
  /** Feeds the machine what it waits on (e.g. the state of a service); may return extra conditions. */
  protected abstract observe(hosted: Hosted<M>, target: Target<R>): unknown;
  protected abstract statusOf(snapshot: SnapshotFrom<M>, target: Target<R>, prev: Status | undefined, observed: unknown): Status;
  /** The event a transition into `state` records, if any. */
  protected abstract transitionEvent(state: string, context: any): { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined;
  /** Problems with the resource that only other resources reveal, as `path: message`; undefined when none. */
  protected crossCheck(_resource: R): string | undefined {
    return undefined;
  }
  /** Called for a snapshot that did not change state (progress and the like). */
  protected onSameState(_key: string, _state: string, _context: any): void {}

  constructor(protected readonly deps: ReconcilerDeps) {
    this.host = new ActorHost<M>({
      dir: deps.paths.machinesDir,
      log: deps.log,
      onSnapshot: (key, snapshot) => this.onSnapshot(key, snapshot),
      clock: deps.clock,
    });
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const doc = this.deps.doc(key);
    if (!doc) return this.finalize(key);
    if (!doc.validation.ok) return this.reportInvalid(key, doc, describeProblems(doc.validation.problems));
    const resource = doc.validation.resource as R;
    // Problems that need other resources to see (a Service of a type the workload cannot talk to).
    const crossProblems = this.crossCheck(resource);
    if (crossProblems) return this.reportInvalid(key, doc, crossProblems);
    const isNew = this.deps.meta.get(key) === undefined;
    const meta = this.deps.meta.observe(key, doc.specHash!);
    if (isNew) this.event(key, 'Normal', 'Accepted', `${this.kind} accepted from ${doc.file} (generation ${meta.generation})`);
    const target: Target<R> = { key, resource, uid: meta.uid, generation: meta.generation };

    let hosted = this.host.get(key);
    if (hosted && hosted.generation !== meta.generation) {
      this.event(key, 'Normal', 'SpecChanged', `spec changed: generation ${hosted.generation} stops, generation ${meta.generation} starts`);
      await this.stopMachine(key, 'replaced by a new generation');
      hosted = undefined;
    }
    if (!hosted) {
      const { machine, effects, input } = this.machineFor(target);
      const started = this.host.start(key, machine, input, meta.generation, effects);
      hosted = started.hosted;
      this.lastState.set(key, stateNameOf(snap(hosted).value));
      if (started.restored) {
        // Timers are not persisted: RESUME re-arms a pending backoff.
        send(hosted, 'RESUME');
        this.event(key, 'Normal', 'Resumed', `resumed in state ${stateNameOf(snap(hosted).value)} after a controller restart`);
      }
    }
    const observed = this.observe(hosted, target);
    const status = this.statusOf(hosted.actor.getSnapshot() as SnapshotFrom<M>, target, this.deps.lastStatus(key), observed);
    const jobs = await this.jobsOf(target);
    if (jobs.length > 0) status.jobs = jobs;
    // A job waiting in the queue changes no machine state: look again soon to show why it waits.
    const pending = jobs.find((j) => j.state === 'pending');
    if (pending && (status.phase === 'Running' || status.phase === 'Starting')) {
      status.phase = status.phase === 'Running' ? 'Pending' : status.phase;
      status.message ??= `job ${String(pending.jobId ?? '')} is waiting in the queue (reason: ${String(pending.reason ?? 'unknown')})`;
    }
    // Round-trip drops undefined fields, so an unchanged status renders to the same bytes.
    await this.deps.writeStatus(doc, JSON.parse(JSON.stringify(status)) as Status);
    return pending ? { requeueAfterMs: PENDING_RECHECK_MS } : undefined;
  }

  /** What is launched for this resource now, as the executor sees it: for status.jobs. */
  private async jobsOf(t: Target<R>): Promise<Array<Record<string, unknown> & { state: string }>> {
    const jobs = [];
    for (const l of await this.deps.executor.list()) {
      if (l.ref.kind !== this.kind || l.ref.name !== t.resource.metadata.name) continue;
      // The scheduler may be away for a while (slurmctld restarting): status still gets written.
      const s = await this.deps.executor.state(l).catch((e: Error) => ({ state: 'unknown' as const, reason: e.message }));
      jobs.push({
        role: l.ref.role,
        attempt: l.ref.attempt,
        ...(l.jobId ? { jobId: l.jobId } : { pids: l.pids }),
        state: s.state,
        ...(s.state === 'running' && s.node ? { node: s.node } : {}),
        ...(s.state !== 'running' && s.reason ? { reason: s.reason } : {}),
        ...(s.state === 'exited' && s.exitCode !== null ? { exitCode: s.exitCode } : {}),
      });
    }
    return jobs;
  }

  private async reportInvalid(key: string, doc: ParsedDoc, problems: string): Promise<void> {
    // An invalid edit does not stop what runs: the last valid generation goes on.
    const keepRunning = this.host.get(key) !== undefined;
    await this.deps.writeStatus(doc, invalidStatus(this.deps.lastStatus(key), problems, keepRunning));
    if (this.deps.meta.get(key)) this.event(key, 'Warning', 'InvalidSpec', problems);
  }

  private onSnapshot(key: string, full: SnapshotFrom<M>): void {
    const snapshot = full as LooseSnapshot;
    const state = stateNameOf(snapshot.value);
    if (state !== this.lastState.get(key)) {
      this.lastState.set(key, state);
      const ev = this.transitionEvent(state, snapshot.context);
      if (ev) this.event(key, ev.type, ev.reason, ev.message);
      this.deps.enqueue(key);
      return;
    }
    this.onSameState(key, state, snapshot.context);
  }

  protected event(key: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.deps.recordEvent(key, type, reason, message);
  }

  /** Sends DELETE so the machine stops what it launched, then drops the actor and its snapshot. */
  private async stopMachine(key: string, why: string): Promise<void> {
    const hosted = this.host.get(key);
    if (!hosted) return;
    if (snap(hosted).status === 'active') {
      send(hosted, 'DELETE');
      try {
        await waitFor(hosted.actor, (s) => (s as LooseSnapshot).status === 'done', { timeout: 60_000 });
      } catch (e) {
        this.deps.log.warn('Machine did not stop in time', { key, why, error: (e as Error).message });
      }
    }
    this.host.stop(key, { forget: true });
    this.lastState.delete(key);
  }

  /** The resource is gone: stop its machine, then anything still launched under its name. */
  private async finalize(key: string): Promise<void> {
    await this.stopMachine(key, 'resource deleted');
    const name = key.slice(key.indexOf('/') + 1);
    await cleanupLaunches(this.deps, this.kind, name);
    // Deleted while no controller ran: no live actor, but its snapshot is still on disk.
    this.host.stop(key, { forget: true });
    this.deps.pusher.forget(key);
    if (this.deps.meta.get(key)) {
      this.deps.meta.remove(key);
      this.deps.log.info('Finalized deleted resource', { kind: this.kind, name });
    }
  }

  shutdown(): void {
    this.host.stopAll();
  }
}
