// `npm run quickstart`: starts a controller on ./resources with the local
// executor, applies examples/quickstart.yaml, waits for it, prints the results.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../runtime/logger.js';
import { resolvePaths } from '../runtime/paths.js';
import { runApply } from './apply.js';
import { startController } from './controller-run.js';
import { runDelete } from './delete.js';
import { runGet } from './get.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/quickstart.yaml', import.meta.url));
const NAME = 'quickstart';
const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function controllerAlreadyRunning(controllerFile: string): number | undefined {
  if (!existsSync(controllerFile)) return undefined;
  try {
    const { pid } = JSON.parse(readFileSync(controllerFile, 'utf8')) as { pid: number };
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  // Its state folder and log, like everything the controller writes, are for this user and their group.
  process.umask(0o027);
  const paths = resolvePaths();
  const other = controllerAlreadyRunning(paths.controllerFile);
  if (other) {
    io.stderr(`Error: a controller is already running on ${paths.resourcesDir} (pid ${other}).\nUse it instead: aifbctl apply -f examples/quickstart.yaml && aifbctl get benchmarks --watch\n`);
    return 1;
  }
  mkdirSync(paths.stateDir, { recursive: true });
  const logFile = `${paths.stateDir}/controller.log`;
  const log = createLogger((line) => appendFileSync(logFile, line + '\n'));
  io.stdout(`Starting the controller (local executor) on ${paths.resourcesDir}; its log: ${logFile}\n`);
  const running = await startController({ executor: 'local', host: '127.0.0.1', port: 0, resync: '30s', log });
  try {
    const globals = { resourcesDir: paths.resourcesDir, stateDir: paths.stateDir, serverUrl: running.url, tokenSource: 'none needed (loopback)' };
    if (await running.controller.get('Benchmark', NAME)) {
      // A fresh run each time: remove the last quickstart and let the controller clean it up.
      await runDelete({ resourcesDir: paths.resourcesDir, kind: 'benchmark', names: [NAME] }, io);
      await running.controller.rescan();
      await running.controller.idle();
    }
    if ((await runApply({ resourcesDir: paths.resourcesDir, file: EXAMPLE }, io)) !== 0) return 1;
    await running.controller.rescan();
    let phase = '';
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const view = await running.controller.get('Benchmark', NAME);
      const now = view?.status.phase ?? 'Pending';
      if (now !== phase) {
        io.stdout(`  ${new Date().toISOString().slice(11, 19)}  ${NAME}: ${now}${view?.status.message ? ` (${view.status.message})` : ''}\n`);
        phase = now;
      }
      if (now === 'Succeeded' || now === 'Failed') break;
      await sleep(250);
    }
    await running.controller.idle();
    io.stdout('\n$ aifbctl get benchmarks\n');
    await runGet({ ...globals, kind: 'benchmarks' }, io);
    const view = await running.controller.get('Benchmark', NAME);
    const reports = view?.status.reports ?? {};
    if (Object.keys(reports).length > 0) {
      io.stdout('\nReports:\n');
      for (const [format, path] of Object.entries(reports)) io.stdout(`  ${format.padEnd(14)} ${path}\n`);
    }
    io.stdout(`\nThe resource, with its status block: ${dirname(EXAMPLE).replace(/examples$/, 'resources')}/quickstart.yaml\nNext: npm start (controller), then cp examples/file-storage.yaml resources/ and aifbctl get benchmarks --watch\n`);
    return phase === 'Succeeded' ? 0 : 1;
  } finally {
    await running.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`Error: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
