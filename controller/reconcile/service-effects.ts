// The effects of the Service machine: launch the service (its own command or
// its container) with the executor, learn where it landed, wait until it
// answers (an Ollama: and has its model), watch it, stop it. Every effect is
// safe to run again after a restart.
import { join } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import type { AttemptOf, StartInput } from '../../machines/lifecycle-machine.js';
import { ActorFailure, type StopInput } from '../../machines/lifecycle.js';
import type { ServiceEndpoint } from '../../machines/service.js';
import type { ServiceResource } from '../api/schemas.js';
import { defaultSifCache } from '../../containers/catalog.js';
import { NativeServiceUnavailable } from '../../containers/native/native-services.js';
import { launchId, ProgramNotFound, type LaunchRef, type Launched } from '../executor/types.js';
import { ensureOllamaModel } from '../health/ollama-model.js';
import { probeFor, ReadinessTimeout, waitUntilReady } from '../health/readiness.js';
import { poll } from '../runtime/poll.js';
import { cleanupLaunches, stopLaunch } from './common.js';
import type { ReconcilerDeps } from './deps.js';
import { awaitEndpoint, launchEnded, readEndpoint, writtenBy } from './endpoint.js';
import type { Target } from './machine-reconciler.js';
import { serviceLaunch } from './service-command.js';
import { ensureGeneratedPassword, generatedPasswordFile, serviceCredentials } from './service-connection.js';

/** Probes in a row a Ready service may miss before it counts as lost. */
const MISSES_BEFORE_LOST = 3;

export function serviceRef(t: Target<ServiceResource>, attempt: number): LaunchRef {
  return { kind: 'Service', name: t.resource.metadata.name, uid: t.uid, generation: t.generation, attempt, role: 'service' };
}

export function serviceDir(deps: ReconcilerDeps, t: Target<ServiceResource>, attempt: number): string {
  return join(deps.paths.stateDir, 'services', t.resource.metadata.name, `g${t.generation}-a${attempt}`);
}

/** Written by the attempt's serve wrapper (containers/serve-script.ts). */
const endpointFileOf = (dir: string) => join(dir, 'endpoint.json');

/** A program that is not here is not a fault to retry: say what to install, or which field runs it another way. */
export function programMissing(e: ProgramNotFound, spec: ServiceResource['spec'], what: string): ActorFailure {
  const hint = spec.command
    ? `spec.command[0] "${e.program}" is not a program on this host: install it, or give its full path`
    : `${what} runs in a container and ${e.program === 'apptainer' ? 'Apptainer is not installed here' : `"${e.program}" is missing`}: install Apptainer (on a cluster: module load Apptainer), or set spec.command to run the service natively on this host, or spec.endpoint for one that already runs elsewhere`;
  return new ActorFailure(`${e.message}; ${hint}`, 'ProgramNotFound', false);
}

export function serviceEffects(deps: ReconcilerDeps, t: Target<ServiceResource>) {
  const { spec, metadata } = t.resource;
  const probe = probeFor(spec);
  const what = `service ${metadata.name}`;
  const at = (ep: ServiceEndpoint) => `${what} at ${ep.host}:${ep.port}`;

  return {
    start: fromPromise<ServiceEndpoint, StartInput>(async ({ input, signal }) => {
      // An earlier attempt of this service must not hold its node or port any more.
      await cleanupLaunches(deps, 'Service', metadata.name, (ref) => ref.attempt === input.attempt && ref.generation === t.generation);
      const dir = serviceDir(deps, t, input.attempt);
      const ref = serviceRef(t, input.attempt);
      const endpointFile = endpointFileOf(dir);
      let launch;
      try {
        const credentials = serviceCredentials(spec, metadata.name, deps.paths.stateDir);
        const generated = generatedPasswordFile(deps.paths.stateDir, metadata.name);
        if (credentials?.password && 'file' in credentials.password && credentials.password.file === generated) ensureGeneratedPassword(generated);
        launch = serviceLaunch(spec, {
          dataDir: join(dir, 'data'),
          sifCache: defaultSifCache(),
          credentials,
          executor: deps.executor.name,
          stateDir: deps.paths.stateDir,
          endpointFile,
          launchId: launchId(ref),
        });
      } catch (e) {
        // A server this host lacks is not a fault in the spec, and no retry installs it.
        if (e instanceof NativeServiceUnavailable) throw new ActorFailure(e.message, 'ProgramNotFound', false);
        throw new ActorFailure((e as Error).message, 'InvalidServiceSpec', false);
      }
      let launched: Launched;
      try {
        launched = await deps.executor.launch({
          ...ref,
          command: launch.command,
          env: launch.env,
          secretEnv: launch.secretEnv,
          dir,
          gpus: launch.gpus,
          slurm: spec.slurm,
        });
      } catch (e) {
        if (e instanceof ProgramNotFound) throw programMissing(e, spec, what);
        throw new ActorFailure(`could not launch ${what}: ${(e as Error).message}`, 'LaunchFailed', true);
      }
      // No state changes until the job runs: a reconcile now shows it waiting in the queue, and why.
      deps.enqueue(t.key);
      return awaitEndpoint(deps, launched, { file: endpointFile, what, maxPendingMs: spec.slurm.maxPendingTime, signal, own: true });
    }),

    waitReady: fromPromise<void, AttemptOf<ServiceEndpoint>>(async ({ input, signal }) => {
      // One deadline for the whole check: the server answering, then (Ollama) its model arriving.
      const deadline = deps.clock.now() + spec.readiness.timeout;
      const launched = spec.endpoint ? undefined : await deps.executor.find(serviceRef(t, input.attempt));
      const throwIfExited = async () => {
        if (!launched) return;
        const state = await deps.executor.state(launched);
        if (state.state === 'exited') throw launchEnded(launched, state, `${what} exited while starting`, 'ServiceExited');
      };
      // A server answering at host:port may be anyone's: only once the job has seen that the socket
      // listening on the port is its server's (containers/serve-script.ts) is the answer our server's.
      const dir = serviceDir(deps, t, input.attempt);
      const endpointFile = endpointFileOf(dir);
      const held = () => {
        if (!launched) return true;
        const record = readEndpoint(endpointFile);
        return record !== undefined && writtenBy(record, launched) && record.listenerPid !== undefined && record.port === input.started.port;
      };
      let heldSeen = false;
      try {
        await waitUntilReady(
          async () => {
            await throwIfExited();
            heldSeen ||= held();
            return heldSeen && probe(input.started);
          },
          { intervalMs: spec.readiness.interval, timeoutMs: spec.readiness.timeout, signal, what: at(input.started), clock: deps.clock },
        );
      } catch (e) {
        if (e instanceof ReadinessTimeout && !heldSeen) {
          throw new ReadinessTimeout(`${e.message}; its job never saw the server listen on port ${input.started.port}: see ${join(dir, 'service.stderr.log')}`);
        }
        throw e;
      }
      // An Ollama that lacks spec.model pulls it before the Service is Ready, so no benchmark starts
      // against a server without its model. This holds for a server the controller started and for
      // one at spec.endpoint alike: naming the model asks for it to be served, wherever the server runs.
      if (spec.type === 'ollama' && spec.model) {
        try {
          await ensureOllamaModel(input.started, spec.model, {
            clock: deps.clock,
            deadline,
            timeoutMs: spec.readiness.timeout,
            intervalMs: spec.readiness.interval,
            signal,
            what: at(input.started),
            event: (reason, message) => deps.recordEvent(t.key, 'Normal', reason, message),
          });
        } catch (e) {
          // A pull whose connection broke because the server died is the server's exit, with its log;
          // a scheduler that does not answer just now must not hide the pull's own error.
          await throwIfExited().catch((exit: unknown) => {
            if (exit instanceof ActorFailure) throw exit;
          });
          throw e;
        }
      }
    }),

    /** Exit from the one batched sweep of launches; reachability by a probe on the slow watchInterval cadence. */
    watch: fromCallback<{ type: string }, AttemptOf<ServiceEndpoint>>(({ sendBack, input }) => {
      let gone = false;
      /** The job's end as last seen: a changed one (scontrol update TimeLimit=...) is re-published in status. */
      let endsAt: string | undefined;
      const lost = (event: { reason: string; message: string; retryable: boolean; relaunch?: boolean }) => {
        if (gone) return;
        gone = true;
        sendBack({ type: 'EXITED', ...event });
      };
      const unwatch = spec.endpoint
        ? undefined
        : deps.observer.watch(serviceRef(t, input.attempt), (seen) => {
            if (!seen.launched) return lost({ reason: 'ServiceExited', message: `${what} is gone: its launch record was removed`, retryable: true });
            const { launched, state } = seen;
            if (state.state === 'running' && state.endsAt !== endsAt) {
              endsAt = state.endsAt;
              deps.enqueue(t.key);
            }
            if (state.state !== 'exited') return;
            const log = join(launched.dir, 'service.stderr.log');
            // A server that served until its job's time limit ended as planned: benchmarks may still need it.
            if (state.reason?.startsWith('TIMEOUT')) {
              return lost({ reason: 'TimeLimitReached', message: `${what} reached its job's time limit (spec.slurm.time) while ready; it is started again`, retryable: true, relaunch: true });
            }
            lost({ reason: 'ServiceExited', message: `${what} ended (${state.reason ?? `exit ${state.exitCode ?? 'unknown'}`}); see ${log}`, retryable: state.retryable !== false });
          });
      let misses = 0;
      const stopProbing = poll(
        async () => {
          misses = (await probe(input.started)) ? 0 : misses + 1;
          if (misses < MISSES_BEFORE_LOST) return false;
          lost({ reason: 'EndpointUnreachable', message: `${at(input.started)} stopped answering (${misses} probes in a row)`, retryable: true });
          return true;
        },
        { clock: deps.clock, intervalMs: spec.readiness.watchInterval, wait: true },
      );
      return () => {
        unwatch?.();
        stopProbing();
      };
    }),

    stop: fromPromise<void, StopInput>(async ({ input }) => {
      if (!spec.endpoint) await stopLaunch(deps, serviceRef(t, input.attempt));
    }),
  };
}
