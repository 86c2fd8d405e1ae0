// `aifbctl controller run`: starts the controller in the foreground with its
// status API, and says where the API listens in the state folder for aifbctl.
import { readFileSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { Controller } from '../controller.js';
import { LocalExecutor } from '../executor/local-executor.js';
import { SlurmExecutor } from '../executor/slurm-executor.js';
import { Slurm } from '../../slurm/commands.js';
import { hostname } from 'node:os';
import type { Executor } from '../executor/types.js';
import { parseDuration } from '../../api/units.js';
import { writeFileAtomicSync } from '../runtime/atomic-write.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { resolvePaths, type Paths } from '../runtime/paths.js';
import { resolveDataRoot } from '../../containers/data-dir.js';
import { buildApp } from '../server/app.js';
import { isLoopback, loadApiToken } from '../server/auth.js';
import { startServer } from '../server/server.js';
import { youngCollection } from '../runtime/settle-collector.js';

export interface ControllerRunOptions {
  resources?: string;
  state?: string;
  reports?: string;
  executor: string;
  host: string;
  port: number;
  resync: string;
  /** How often launches are observed (one listing for all); the SLURM executor's one squeue call too. */
  poll?: string;
  /** Host name aifbctl elsewhere should use (the node's name when bound to 0.0.0.0). */
  advertiseHost?: string;
  /** The API's bearer token from this file instead of the generated <state>/api-token. */
  tokenFile?: string;
  /** Serve HTTPS with this certificate and key (PEM files). */
  tlsCert?: string;
  tlsKey?: string;
  /** Shell lines every SLURM job runs first (module load Apptainer, ...). */
  jobSetup?: string[];
  /** Where benchmarks that name no Pushgateway push their results. */
  pushgateway?: string;
  /** Push live counts this often while a run goes on (with --pushgateway or a benchmark's own). */
  pushInterval?: string;
  /** At most this many of this controller's SLURM jobs submitted and not ended; more launches wait (MaxJobsInFlight). */
  maxJobs?: number;
  /** The data folder (SIF cache, Apptainer's cache, model caches); default AIFB_DATA_DIR, $SCRATCH/aifb, $PROJECT/aifb. */
  dataDir?: string;
  /** Where log lines go; default stderr. */
  log?: Logger;
}

export interface RunningController {
  controller: Controller;
  paths: Paths;
  url: string;
  stop(): Promise<void>;
}

function durationOption(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
}

/** The observation interval: --poll, else 1s locally and 30s under SLURM (one squeue per interval; sites ask for 30s or more). */
function pollMs(opts: ControllerRunOptions): number {
  return durationOption('--poll', opts.poll ?? (opts.executor === 'slurm' ? '30s' : '1s'));
}

function executorFor(opts: ControllerRunOptions, paths: Paths, log: Logger): Executor {
  if (opts.executor === 'local') return new LocalExecutor(paths.stateDir);
  if (opts.executor === 'slurm') {
    return new SlurmExecutor({ stateDir: paths.stateDir, slurm: new Slurm(), log, pollMs: pollMs(opts), setup: opts.jobSetup, maxJobsInFlight: opts.maxJobs });
  }
  throw new Error(`unknown executor "${opts.executor}"; use --executor local (processes on this host) or --executor slurm (batch jobs)`);
}

/** Reads the PEM files of --tls-cert and --tls-key, or says which flag is missing or unreadable. */
function tlsOptions(opts: ControllerRunOptions): { key: Buffer; cert: Buffer } | undefined {
  if (!opts.tlsCert && !opts.tlsKey) return undefined;
  if (!opts.tlsCert || !opts.tlsKey) throw new Error('give --tls-cert and --tls-key together (PEM files), or neither for plain HTTP');
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`${flag} ${file}: ${(e as Error).message}`);
    }
  };
  return { cert: read('--tls-cert', opts.tlsCert), key: read('--tls-key', opts.tlsKey) };
}

export async function startController(opts: ControllerRunOptions): Promise<RunningController> {
  // What the controller and the runners it starts write is for this user and their group only.
  process.umask(0o027);
  const paths = resolvePaths(opts);
  const log = opts.log ?? createLogger();
  const { token, file: tokenFile } = loadApiToken(paths.stateDir, opts.tokenFile);
  const readsNeedToken = !isLoopback(opts.host);
  const https = tlsOptions(opts);
  const resyncMs = durationOption('--resync', opts.resync);
  const data = resolveDataRoot(opts.dataDir);
  // Through the environment: every launch, the jobs it submits and a successor controller read it there.
  if (data) {
    process.env.AIFB_DATA_DIR = data.dir;
    log.info('Keeping images and model caches in the data folder', { dir: data.dir, from: data.source });
  }
  const controller = new Controller({ paths, executor: executorFor(opts, paths, log), log, resyncMs, observeMs: pollMs(opts), push: pushDefaults(opts), collect: youngCollection() });
  const app = buildApp({
    source: controller,
    health: () => ({ ok: true, detail: { startedAt: controller.startedAt.toISOString(), executor: opts.executor } }),
    problems: () => controller.fileProblems(),
    auth: {
      token,
      reads: readsNeedToken,
      hint: `this status API wants a bearer token (Authorization: Bearer ...); aifbctl sends the one in ${tokenFile} when it can read it, else pass --token-file FILE or set AIFB_TOKEN_FILE`,
    },
    https,
    metrics: controller.metrics,
    runs: (benchmark) => controller.recentRuns(benchmark),
    reports: { dir: paths.reportsDir, of: (runId) => controller.runReports(runId) },
  });
  let server;
  try {
    server = await startServer(app, { host: opts.host, port: opts.port, tls: https !== undefined });
  } catch (e) {
    await controller.stop();
    const busy = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new Error(busy ? `port ${opts.port} on ${opts.host} is in use (another controller?); pick another with --port` : (e as Error).message);
  }
  const url = opts.advertiseHost ? `${https ? 'https' : 'http'}://${opts.advertiseHost}:${new URL(server.url).port}` : server.url;
  // Listening before reconciling: a MonitoringStack started now scrapes this URL.
  controller.api = { url, tokenFile };
  await controller.start();
  // Whole or not at all: aifbctl, quickstart and the benches read it while it is written, and a truncated file read as no controller.
  writeFileAtomicSync(paths.controllerFile, JSON.stringify({ url, pid: process.pid, host: hostname(), executor: opts.executor, jobId: process.env.SLURM_JOB_ID, startedAt: controller.startedAt }, null, 2));
  log.info('Started status API', { url, tls: https !== undefined });
  if (readsNeedToken) {
    log.info('Protected the status API: every route but /healthz wants the bearer token', { tokenFile, boundTo: opts.host });
    if (!https) log.warn('The token crosses the network in clear; use --tls-cert and --tls-key where others can watch the cluster network', { boundTo: opts.host });
  }
  return {
    controller,
    paths,
    url,
    async stop() {
      await server.close();
      await controller.stop();
      rmSync(paths.controllerFile, { force: true });
    },
  };
}

function pushDefaults(opts: ControllerRunOptions): { url?: string; intervalMs?: number } {
  if (opts.pushgateway !== undefined && !/^https?:$/.test(URL.parse(opts.pushgateway)?.protocol ?? '')) {
    throw new Error(`--pushgateway: "${opts.pushgateway}" is not an http:// URL; give the Pushgateway as http://HOST:9091`);
  }
  return { url: opts.pushgateway, intervalMs: opts.pushInterval === undefined ? undefined : durationOption('--push-interval', opts.pushInterval) };
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got "${v}"`);
  return n;
}

function parseMaxJobs(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1) throw new Error(`--max-jobs must be a whole number of at least 1, got "${v}"; leave it out for no cap`);
  return n;
}

export function registerControllerCommands(program: Command): void {
  const controllerCmd = program.command('controller').description('run the aifb controller');
  controllerCmd
    .command('run')
    .description('watch the resources folder and reconcile it until stopped (Ctrl-C); what it launched keeps running and is adopted next time')
    .option('--executor <name>', 'where services and runners run: local (processes on this host) or slurm (batch jobs)', 'local')
    .option('--poll <duration>', 'how often launches are observed, one listing for all (slurm: one squeue call); default 1s local, 30s slurm')
    .option('--advertise-host <name>', 'host name written to <state>/controller.json for aifbctl (default: the bound address)')
    .option('--host <addr>', 'address the status API binds', '127.0.0.1')
    .option('--port <n>', 'port of the status API (0 picks a free one)', parsePort, 8484)
    .option('--reports <dir>', 'where reports go (default: reports/ beside the resources folder)')
    .option('--resync <duration>', 'full rescan of the resources folder this often', '30s')
    .option('--token-file <file>', 'the bearer token for the status API (one line, owner-only file); default: <state>/api-token, generated on first start')
    .option('--tls-cert <file>', 'serve the status API over HTTPS with this certificate (PEM), with --tls-key')
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option('--job-setup <line>', 'a shell line every SLURM job runs first, e.g. "module load Apptainer" (repeatable; a resource adds its own with slurm.setup)', (v: string, all: string[] = []) => [...all, v])
    .option('--max-jobs <n>', 'at most this many of the controller\'s SLURM jobs queued or running at once; more launches wait, pending as MaxJobsInFlight, using up no attempt (default: no cap beyond SLURM\'s own limits)', parseMaxJobs)
    .option('--data-dir <dir>', 'where SIF images, Apptainer\'s cache and model caches go, off the home quota (default: $AIFB_DATA_DIR, else $SCRATCH/aifb, else $PROJECT/aifb, else containers/sif and the servers\' own defaults)')
    .option('--pushgateway <url>', 'push results of benchmarks that name no spec.pushgateway to this Pushgateway (http://HOST:9091)')
    .option('--push-interval <duration>', 'also push live counts this often while a benchmark runs (e.g. 15s); default: only finished runs')
    .addHelpText(
      'after',
      [
        '',
        'Bound to loopback (the default) the status API is open to this host. Bound to anything else',
        '(--host 0.0.0.0, as slurm/controller.sbatch does) every route but /healthz wants the bearer token',
        'in <state>/api-token (owner-only; aifbctl reads it when it can). Without --tls-cert the token',
        'crosses the network in clear.',
        '',
        'Examples:',
        '  aifbctl controller run',
        '  aifbctl --resources ./resources controller run --port 9000',
        '  aifbctl controller run --executor slurm        # on a cluster; or: sbatch slurm/controller.sbatch',
        '  aifbctl controller run --pushgateway http://mel2345:9091 --push-interval 15s',
        '',
      ].join('\n'),
    )
    .action(async (cmdOpts: Omit<ControllerRunOptions, 'resources' | 'state'>) => {
      const globals = program.opts<{ resources?: string; state?: string }>();
      let running: RunningController;
      try {
        running = await startController({ ...cmdOpts, resources: globals.resources, state: globals.state });
      } catch (e) {
        process.stderr.write(`Error: ${(e as Error).message}\n`);
        process.exit(1);
      }
      const shutdown = async (signal: string) => {
        process.stderr.write(`Received ${signal}; stopping (launched runs keep going and are adopted on the next start)\n`);
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
    });
}
