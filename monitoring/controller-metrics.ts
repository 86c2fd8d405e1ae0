// What the controller's /metrics serves: its own work (resources by phase,
// reconciles, the work queue, executor polls, status writes) through
// prom-client, and the live series of every running benchmark, under the same
// names as the reports, so Prometheus scrapes a benchmark while it runs.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { renderLive, type LiveRun } from './live.js';

export interface ControllerSources {
  /** kind -> phase -> how many resources are in it now. */
  resources(): Map<string, Map<string, number>>;
  queueDepth(): number;
}

const SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly live = new Map<string, LiveRun>();

  readonly reconciles = new Counter({
    name: 'aifb_reconciles_total',
    help: 'Reconciles by kind and result (ok, error).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'aifb_reconcile_duration_seconds',
    help: 'Time one reconcile took, seconds.',
    labelNames: ['kind'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly pollDuration = new Histogram({
    name: 'aifb_executor_poll_duration_seconds',
    help: 'Time one sweep of every launch took (one squeue for the SLURM executor), seconds.',
    labelNames: ['executor'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly pollErrors = new Counter({
    name: 'aifb_executor_poll_errors_total',
    help: 'Sweeps of the launches that failed (the scheduler did not answer); retried at the next interval.',
    labelNames: ['executor'] as const,
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: 'aifb_status_writes_total',
    help: 'Status writes into resource files by result: written, unchanged (skipped, same bytes), gone (the file moved on), refused (the file cannot take one now).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  constructor(sources: ControllerSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'aifb_resources',
      help: 'Resources the controller holds, by kind and phase.',
      labelNames: ['kind', 'phase'] as const,
      registers,
      collect() {
        this.reset();
        for (const [kind, phases] of sources.resources()) for (const [phase, n] of phases) this.set({ kind, phase }, n);
      },
    });
    new Gauge({
      name: 'aifb_workqueue_depth',
      help: 'Resources waiting for a reconcile worker.',
      registers,
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new Gauge({
      name: 'aifb_running_benchmarks',
      help: 'Benchmarks whose runners report live series on this endpoint.',
      registers,
      collect: () => {
        (this.registry.getSingleMetric('aifb_running_benchmarks') as Gauge).set(this.live.size);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'aifb_controller_' });
  }

  /** A running benchmark's latest counts (key: Benchmark/NAME), until cleared. */
  setLive(key: string, run: LiveRun): void {
    this.live.set(key, run);
  }

  clearLive(key: string): void {
    this.live.delete(key);
  }

  /** The exposition text: the controller's own metrics, then each running benchmark's live series. */
  async text(): Promise<string> {
    return (await this.registry.metrics()) + renderLive(this.live.values());
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
