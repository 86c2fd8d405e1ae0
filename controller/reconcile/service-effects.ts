// The effects of the Service machine: start the service with the executor (or
// take the endpoint given), wait until it answers, watch it, stop it.
import { join } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import { ActorFailure } from '../../machines/lifecycle.js';
import type { ServiceResource } from '../api/schemas.js';
import type { LaunchRef } from '../executor/types.js';
import { probeFor, waitUntilReady } from '../health/readiness.js';
import type { ReconcilerDeps } from './deps.js';
import type { Target } from './machine-reconciler.js';

type Endpoint = { host: string; port: number };

export function serviceRef(t: Target<ServiceResource>, attempt: number): LaunchRef {
  return { kind: 'Service', name: t.resource.metadata.name, uid: t.uid, generation: t.generation, attempt, role: 'service' };
}

export function serviceEffects(deps: ReconcilerDeps, t: Target<ServiceResource>) {
  const { spec, metadata } = t.resource;
  const probe = probeFor(spec);
  const what = `service ${metadata.name}`;

  return {
    // Idempotent: an existing launch for this attempt is reused; earlier attempts are stopped first.
    startService: fromPromise<{ endpoint: Endpoint }, { attempt: number }>(async ({ input }) => {
      if (!spec.command) {
        throw new ActorFailure(
          `the ${deps.executor.name} executor starts a service from spec.command; add spec.command (the service's binary and its arguments), or spec.endpoint for a service that already runs`,
          'NoCommand',
          false,
        );
      }
      if (!spec.port) throw new ActorFailure('set spec.port: the port the service listens on, so readiness can be checked', 'NoPort', false);
      for (const l of await deps.executor.list()) {
        if (l.ref.kind === 'Service' && l.ref.name === metadata.name && l.ref.attempt !== input.attempt) {
          await deps.executor.stop(l);
          await deps.executor.forget(l);
        }
      }
      const ref = serviceRef(t, input.attempt);
      const dir = join(deps.paths.stateDir, 'services', metadata.name, `g${t.generation}-a${input.attempt}`);
      try {
        const launched = await deps.executor.launch({ ...ref, command: [...spec.command, ...spec.args], env: spec.env, dir });
        deps.log.info('Launched service', { kind: 'Service', name: metadata.name, attempt: input.attempt, pids: launched.pids?.join(','), jobId: launched.jobId });
      } catch (e) {
        throw new ActorFailure(`could not start ${what}: ${(e as Error).message}`, 'StartFailed', false);
      }
      return { endpoint: { host: '127.0.0.1', port: spec.port } };
    }),

    waitReady: fromPromise<void, { endpoint: Endpoint }>(async ({ input, signal }) => {
      await waitUntilReady(() => probe(input.endpoint), {
        intervalMs: spec.readiness.interval,
        timeoutMs: spec.readiness.timeout,
        signal,
        what: `${what} at ${input.endpoint.host}:${input.endpoint.port}`,
      });
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
        const state = launched ? await deps.executor.state(launched) : { state: 'exited' as const, exitCode: null };
        if (state.state !== 'exited') return true;
        const log = launched ? join(launched.dir, 'service.stderr.log') : 'its log';
        sendBack({ type: 'SERVICE_EXITED', reason: 'ServiceExited', message: `${what} exited (code ${state.exitCode ?? 'unknown'}); see ${log}`, retryable: true });
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
      if (input.external) return;
      const launched = await deps.executor.find(serviceRef(t, input.attempt));
      if (!launched) return;
      await deps.executor.stop(launched);
      await deps.executor.forget(launched);
      deps.log.info('Stopped service', { kind: 'Service', name: metadata.name, attempt: input.attempt });
    }),
  };
}
