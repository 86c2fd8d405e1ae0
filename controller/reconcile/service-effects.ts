// The effects of the Service machine: launch the service (its own command or
// its container) with the executor, learn where it landed, wait until it
// answers, watch it, stop it. Every effect is safe to run again after a restart.
import { join } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import { ActorFailure } from '../../machines/lifecycle.js';
import type { ServiceResource } from '../api/schemas.js';
import type { LaunchRef, Launched } from '../executor/types.js';
import { probeFor, waitUntilReady } from '../health/readiness.js';
import { cleanupLaunches, stopLaunch } from './common.js';
import type { ReconcilerDeps } from './deps.js';
import type { Target } from './machine-reconciler.js';
import { serviceLaunch } from './service-command.js';
import { ensureGeneratedPassword, generatedPasswordFile, serviceCredentials } from './service-connection.js';
import { awaitEndpoint, launchEnded } from './endpoint.js';

type Endpoint = { host: string; port: number };

export function serviceRef(t: Target<ServiceResource>, attempt: number): LaunchRef {
  return { kind: 'Service', name: t.resource.metadata.name, uid: t.uid, generation: t.generation, attempt, role: 'service' };
}

export function serviceDir(deps: ReconcilerDeps, t: Target<ServiceResource>, attempt: number): string {
  return join(deps.paths.stateDir, 'services', t.resource.metadata.name, `g${t.generation}-a${attempt}`);
}

export function serviceEffects(deps: ReconcilerDeps, t: Target<ServiceResource>) {
  const { spec, metadata } = t.resource;
  const probe = probeFor(spec);
  const what = `service ${metadata.name}`;

  return {
    startService: fromPromise<{ endpoint: Endpoint }, { attempt: number }>(async ({ input, signal }) => {
      // An earlier attempt of this service must not hold its node or port any more.
      await cleanupLaunches(deps, 'Service', metadata.name, (ref) => ref.attempt === input.attempt && ref.generation === t.generation);
      const dir = serviceDir(deps, t, input.attempt);
      let launch;
      try {
        const credentials = serviceCredentials(spec, metadata.name, deps.paths.stateDir);
        if (credentials?.password && 'file' in credentials.password && credentials.password.file === generatedPasswordFile(deps.paths.stateDir, metadata.name)) {
          ensureGeneratedPassword(credentials.password.file);
        }
        launch = serviceLaunch(spec, { dataDir: join(dir, 'data'), sifCache: process.env.AIFB_SIF_CACHE, credentials });
      } catch (e) {
        throw new ActorFailure((e as Error).message, 'InvalidServiceSpec', false);
      }
      const endpointFile = join(dir, 'endpoint.json');
      let launched: Launched;
      try {
        launched = await deps.executor.launch({
          ...serviceRef(t, input.attempt),
          command: launch.command,
          env: launch.env,
          secretEnv: launch.secretEnv,
          dir,
          gpus: launch.gpus,
          slurm: spec.slurm,
          endpoint: { file: endpointFile, port: launch.port },
        });
      } catch (e) {
        throw new ActorFailure(`could not launch ${what}: ${(e as Error).message}`, 'LaunchFailed', true);
      }
      return { endpoint: await awaitEndpoint(deps.executor, launched, { file: endpointFile, what, maxPendingMs: spec.slurm.maxPendingTime, signal }) };
    }),

    waitReady: fromPromise<void, { endpoint: Endpoint; attempt: number }>(async ({ input, signal }) => {
      const launched = spec.endpoint ? undefined : await deps.executor.find(serviceRef(t, input.attempt));
      await waitUntilReady(
        async () => {
          if (launched) {
            const state = await deps.executor.state(launched);
            if (state.state === 'exited') throw launchEnded(launched, state, `${what} exited while starting`, 'ServiceExited');
          }
          return probe(input.endpoint);
        },
        { intervalMs: spec.readiness.interval, timeoutMs: spec.readiness.timeout, signal, what: `${what} at ${input.endpoint.host}:${input.endpoint.port}` },
      );
    }),

    watchService: fromCallback<{ type: string }, { endpoint: Endpoint; attempt: number }>(({ sendBack, input }) => {
      let timer: NodeJS.Timeout | undefined;
      let misses = 0;
      const check = async (): Promise<boolean> => {
        if (spec.endpoint) {
          misses = (await probe(input.endpoint)) ? 0 : misses + 1;
          if (misses < 3) return true;
          sendBack({ type: 'SERVICE_EXITED', reason: 'EndpointUnreachable', message: `${what} stopped answering at ${input.endpoint.host}:${input.endpoint.port}`, retryable: true });
          return false;
        }
        const launched = await deps.executor.find(serviceRef(t, input.attempt));
        const state = launched ? await deps.executor.state(launched) : { state: 'exited' as const, exitCode: null, reason: 'its launch record is gone', retryable: true };
        if (state.state !== 'exited') return true;
        const log = launched ? join(launched.dir, 'service.stderr.log') : 'its log';
        sendBack({
          type: 'SERVICE_EXITED',
          reason: 'ServiceExited',
          message: `${what} ended (${state.reason ?? `exit ${state.exitCode ?? 'unknown'}`}); see ${log}`,
          retryable: state.retryable !== false,
        });
        return false;
      };
      const loop = () =>
        void check()
          .then((again) => {
            if (again) timer = setTimeout(loop, spec.endpoint ? spec.readiness.interval : 1000);
          })
          .catch(() => (timer = setTimeout(loop, 2000)));
      timer = setTimeout(loop, 0);
      return () => clearTimeout(timer);
    }),

    stopService: fromPromise<void, { attempt: number; external: boolean }>(async ({ input }) => {
      if (!input.external) await stopLaunch(deps, serviceRef(t, input.attempt));
    }),
  };
}
