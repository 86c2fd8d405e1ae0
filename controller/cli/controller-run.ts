// `aifbctl controller run`: starts the controller in the foreground with its
// status API, and says where the API listens in the state folder for aifbctl.
import { rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Controller } from '../controller.js';
import { LocalExecutor } from '../executor/local-executor.js';
import type { Executor } from '../executor/types.js';
import { parseDuration } from '../api/units.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { resolvePaths, type Paths } from '../runtime/paths.js';
import { buildApp } from '../server/app.js';
import { startServer } from '../server/server.js';

export interface ControllerRunOptions {
  resources?: string;
  state?: string;
  reports?: string;
  executor: string;
  host: string;
  port: number;
  resync: string;
  /** Where log lines go; default stderr. */
  log?: Logger;
}

export interface RunningController {
  controller: Controller;
  paths: Paths;
  url: string;
  stop(): Promise<void>;
}

function executorFor(name: string, paths: Paths): Executor {
  if (name === 'local') return new LocalExecutor(paths.stateDir);
  throw new Error(`unknown executor "${name}"; use --executor local (processes on this host)`);
}

export async function startController(opts: ControllerRunOptions): Promise<RunningController> {
  const paths = resolvePaths(opts);
  const log = opts.log ?? createLogger();
  let resyncMs: number;
  try {
    resyncMs = parseDuration(opts.resync);
  } catch (e) {
    throw new Error(`--resync: ${(e as Error).message}`);
  }
  const controller = new Controller({ paths, executor: executorFor(opts.executor, paths), log, resyncMs });
  await controller.start();
  const app = buildApp({
    source: controller,
    health: () => ({ ok: true, detail: { startedAt: controller.startedAt.toISOString(), executor: opts.executor } }),
    problems: () => controller.fileProblems(),
  });
  let server;
  try {
    server = await startServer(app, { host: opts.host, port: opts.port });
  } catch (e) {
    await controller.stop();
    const busy = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new Error(busy ? `port ${opts.port} on ${opts.host} is in use (another controller?); pick another with --port` : (e as Error).message);
  }
  writeFileSync(paths.controllerFile, JSON.stringify({ url: server.url, pid: process.pid, executor: opts.executor, startedAt: controller.startedAt }, null, 2));
  log.info('Started status API', { url: server.url });
  return {
    controller,
    paths,
    url: server.url,
    async stop() {
      await server.close();
      await controller.stop();
      rmSync(paths.controllerFile, { force: true });
    },
  };
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got "${v}"`);
  return n;
}

export function registerControllerCommands(program: Command): void {
  const controllerCmd = program.command('controller').description('run the aifb controller');
  controllerCmd
    .command('run')
    .description('watch the resources folder and reconcile it until stopped (Ctrl-C); what it launched keeps running and is adopted next time')
    .option('--executor <name>', 'where services and runners run: local (processes on this host)', 'local')
    .option('--host <addr>', 'address the status API binds', '127.0.0.1')
    .option('--port <n>', 'port of the status API (0 picks a free one)', parsePort, 8484)
    .option('--reports <dir>', 'where reports go (default: reports/ beside the resources folder)')
    .option('--resync <duration>', 'full rescan of the resources folder this often', '30s')
    .addHelpText('after', '\nExamples:\n  aifbctl controller run\n  aifbctl --resources ./resources controller run --port 9000\n')
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
