// STAND-IN for an executor, for reconciler unit tests: it follows the Executor
// interface (launch is idempotent per ref, find/list/state/stop/forget) in
// memory, writes a service's endpoint file as a real launch would (a Service's
// as its serve wrapper does once its server holds the port), and answers
// state() from a script the test writes (an answer may be an Error: a
// scheduler that did not answer). Every call is logged in order.
import { mkdirSync, writeFileSync } from 'node:fs';
import { launchId, type LaunchRef } from '../../../api/launch.js';
import type { Executor, LaunchSpec, LaunchState, Launched } from '../../../controller/executor/types.js';

type Answer = LaunchState | Error;

export class FakeExecutor implements Executor {
  /** Which executor it plays: the local one runs some service types natively, SLURM runs their containers. */
  name: 'local' | 'slurm' = 'local';
  readonly launches = new Map<string, Launched & { spec: LaunchSpec }>();
  /** `launch benchmark.b.g1.a1.runner`, `stop ...`, `forget ...`, in call order. */
  readonly log: string[] = [];
  /** Called after a launch is recorded (write rank files, start a server...). */
  onLaunch?: (spec: LaunchSpec, launched: Launched) => void | Promise<void>;
  /** The next port a serve wrapper chooses. */
  freePorts = 41000;
  /** The serve wrapper never sees its server hold the port (a stranger holds it). */
  unconfirmed = false;
  /** Thrown by the next launch (then cleared). */
  launchError?: Error;
  private readonly scripts = new Map<string, Answer[]>();

  /** The answers state() gives for ref's launch, one per call; the last one stays. */
  script(ref: LaunchRef | string, ...answers: Answer[]): void {
    this.scripts.set(typeof ref === 'string' ? ref : launchId(ref), answers);
  }

  /** Makes every launch of this kind and name exit with code. */
  exitAll(name: string, exitCode: number, extra: Partial<Extract<LaunchState, { state: 'exited' }>> = {}): void {
    for (const l of this.launches.values()) if (l.ref.name === name) this.script(l.id, { state: 'exited', exitCode, ...extra });
  }

  async launch(spec: LaunchSpec): Promise<Launched> {
    const id = launchId(spec);
    const existing = this.launches.get(id);
    if (existing) return existing;
    if (this.launchError) {
      const e = this.launchError;
      this.launchError = undefined;
      throw e;
    }
    const ref: LaunchRef = { kind: spec.kind, name: spec.name, uid: spec.uid, generation: spec.generation, attempt: spec.attempt, role: spec.role };
    const launched = { id, ref, dir: spec.dir, startedAt: new Date().toISOString(), pids: [4242], spec };
    mkdirSync(spec.dir, { recursive: true });
    this.launches.set(id, launched);
    this.log.push(`launch ${id}`);
    const wrapper = spec.env ?? {};
    if (wrapper.AIFB_ENDPOINT_FILE) {
      // A port it chose is one of its own numbering, as a node's free port is the job's.
      const port = wrapper.AIFB_PORT === 'free' ? this.freePorts++ : Number(wrapper.AIFB_PORT);
      const record = { host: '127.0.0.1', port, launchId: id, pid: launched.pids[0], listenerPid: launched.pids[0] + 1 };
      writeFileSync(wrapper.AIFB_ENDPOINT_FILE, JSON.stringify(this.unconfirmed ? { ...record, listenerPid: undefined } : record));
    }
    if (wrapper.AIFB_STACK_ENDPOINT_FILE) {
      // A MonitoringStack's job (monitoring/stack-script.ts): a port per component, chosen as a serve wrapper's, each held by its component.
      const ports = Object.fromEntries(
        Object.keys(wrapper)
          .filter((k) => /^AIFB_[A-Z]+_PORT$/.test(k))
          .map((k) => [k.slice('AIFB_'.length, -'_PORT'.length).toLowerCase(), wrapper[k] === 'free' ? this.freePorts++ : Number(wrapper[k])]),
      );
      const listenerPids = Object.fromEntries(Object.keys(ports).map((c, i) => [c, launched.pids[0] + 1 + i]));
      writeFileSync(wrapper.AIFB_STACK_ENDPOINT_FILE, JSON.stringify({ host: '127.0.0.1', port: Object.values(ports)[0], launchId: id, pid: launched.pids[0], ports, listenerPids }));
    }
    await this.onLaunch?.(spec, launched);
    return launched;
  }

  async find(ref: LaunchRef): Promise<Launched | undefined> {
    return this.launches.get(launchId(ref));
  }

  async state(launched: Launched): Promise<LaunchState> {
    const answers = this.scripts.get(launched.id);
    const answer = answers && answers.length > 1 ? answers.shift()! : (answers?.[0] ?? { state: 'running', node: 'fake-node' });
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async stop(launched: Launched): Promise<void> {
    this.log.push(`stop ${launched.id}`);
    this.script(launched.id, { state: 'exited', exitCode: 143, reason: 'stopped' });
  }

  async list(): Promise<Launched[]> {
    return [...this.launches.values()];
  }

  async forget(launched: Launched): Promise<void> {
    this.log.push(`forget ${launched.id}`);
    this.launches.delete(launched.id);
  }
}
