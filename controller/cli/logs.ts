// `aifbctl logs NAME`: what the runner of a benchmark's latest run (or --run ID)
// wrote to stdout and stderr, every rank; with --service, its service's launch log.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ownedServiceName } from '../reconcile/owned-service.js';
import { loadViewsFromDisk } from '../store/views.js';
import { errorMessage, type IO } from './context.js';
import { RunIndex, type RunRecord, withRunIndex } from './run-ref.js';

export interface LogsOptions {
  stateDir: string;
  /** Where to read the Benchmark's serviceRef for --service; optional. */
  resourcesDir?: string;
  /** Benchmark name. */
  name: string;
  /** A run id of that benchmark; its latest run otherwise (failed runs included). */
  run?: string;
  /** The log of the benchmark's service launch instead of the runner's. */
  service?: boolean;
  /** Only the last N lines of each log file. */
  tail?: number;
}

export const LOGS_HELP = `
Prints the runner's stdout and stderr of a benchmark's latest run (or --run ID),
failed runs included. With several ranks each line starts with [rank N];
stderr lines say so ([stderr], [rank N stderr]). With --service, prints the log
of the service the benchmark ran against, when the controller launched it.

Examples:
  aifbctl logs vllm-load                         # the latest run's runner output
  aifbctl logs vllm-load --run vllm-load-g1-a2   # an earlier attempt
  aifbctl logs vllm-load --tail 20               # the last 20 lines of each file
  aifbctl logs vllm-load --service               # the vLLM server's log`;

/** One log file of a launch: which rank (none for a batch script's own output) and which stream. */
interface LogFile {
  path: string;
  rank?: number;
  stream: 'stdout' | 'stderr';
}

/** The `<role>[.N].{stdout,stderr}.log` files the local and SLURM executors write into a launch folder. */
export async function logFilesIn(dir: string, role: 'runner' | 'service'): Promise<LogFile[]> {
  const pattern = new RegExp(`^${role}(?:\\.(\\d+))?\\.(stdout|stderr)\\.log$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const files: LogFile[] = [];
  for (const n of names) {
    const m = pattern.exec(n);
    if (m) files.push({ path: join(dir, n), ...(m[1] !== undefined ? { rank: Number(m[1]) } : {}), stream: m[2] as LogFile['stream'] });
  }
  // The batch script's own output first, then rank by rank, stdout before stderr.
  return files.sort((a, b) => (a.rank ?? -1) - (b.rank ?? -1) || (a.stream === b.stream ? 0 : a.stream === 'stdout' ? -1 : 1));
}

/** The line prefix: `[rank N]` when several ranks wrote, `stderr` marked, nothing for a lone stdout. */
function prefixOf(f: LogFile, severalSources: boolean): string {
  const who = f.rank !== undefined ? (severalSources ? `rank ${f.rank}` : '') : severalSources ? 'batch' : '';
  const label = [who, f.stream === 'stderr' ? 'stderr' : ''].filter((s) => s !== '').join(' ');
  return label ? `[${label}] ` : '';
}

/** Prints every file's lines with its prefix; returns how many files had any. */
async function printLogs(files: LogFile[], tail: number | undefined, io: IO): Promise<number> {
  const ranks = new Set(files.map((f) => f.rank ?? -1));
  const several = ranks.size > 1;
  let printed = 0;
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f.path, 'utf8');
    } catch (e) {
      io.stderr(`Warning: cannot read ${f.path}: ${errorMessage(e)}\n`);
      continue;
    }
    let lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) continue;
    if (tail !== undefined) lines = lines.slice(Math.max(0, lines.length - tail));
    const prefix = prefixOf(f, several);
    io.stdout(lines.map((l) => `${prefix}${l}\n`).join(''));
    printed++;
  }
  return printed;
}

const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() ?? false;

/** Services the benchmark may have run against: its serviceRef (from its file), the one it owns, the one its results name. */
async function serviceCandidates(opts: LogsOptions, index: RunIndex, run: RunRecord | undefined): Promise<string[]> {
  const names: string[] = [];
  if (opts.resourcesDir) {
    try {
      const { views } = await loadViewsFromDisk(opts.resourcesDir, opts.stateDir);
      const spec = views.find((v) => v.kind === 'Benchmark' && v.metadata.name === opts.name)?.spec as { serviceRef?: unknown; service?: unknown } | undefined;
      if (typeof spec?.serviceRef === 'string') names.push(spec.serviceRef);
    } catch {
      // Unreadable resources: the other candidates may still find it.
    }
  }
  names.push(ownedServiceName(opts.name));
  if (run?.row) {
    try {
      names.push(...Object.keys(index.db.result(run.runId)?.services ?? {}));
    } catch {
      // An unreadable stored result only loses one candidate.
    }
  }
  return [...new Set(names)];
}

/** The newest launch folder (`g<G>-a<A>`) of a service under <state>/services/<name>. */
async function latestLaunch(serviceDir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(serviceDir);
  } catch {
    return undefined;
  }
  const launches = names
    .map((n) => ({ n, m: /^g(\d+)-a(\d+)$/.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(b.m[1]) - Number(a.m[1]) || Number(b.m[2]) - Number(a.m[2]));
  return launches[0] && join(serviceDir, launches[0].n);
}

async function serviceLogs(opts: LogsOptions, index: RunIndex, run: RunRecord | undefined, io: IO): Promise<number> {
  const servicesDir = join(index.paths.stateDir, 'services');
  const candidates = await serviceCandidates(opts, index, run);
  for (const name of candidates) {
    if (!(await isDir(join(servicesDir, name)))) continue;
    const launch = await latestLaunch(join(servicesDir, name));
    if (!launch) continue;
    const files = await logFilesIn(launch, 'service');
    io.stderr(`Logs of service ${name} (launch ${launch})\n`);
    if ((await printLogs(files, opts.tail, io)) === 0) {
      io.stderr(`The service launch in ${launch} left no output yet (no service*.stdout.log or service*.stderr.log with lines).\n`);
    }
    return 0;
  }
  io.stderr(
    `Error: no service launch found for benchmark ${opts.name} (looked for ${candidates.map((c) => join(servicesDir, c)).join(', ')}); a service given by spec.endpoint, or not launched by this controller, has no log here\n`,
  );
  return 1;
}

export async function runLogs(opts: LogsOptions, io: IO): Promise<number> {
  if (opts.tail !== undefined && (!Number.isInteger(opts.tail) || opts.tail < 0)) {
    io.stderr(`Error: --tail must be a whole number of lines, 0 or more (got ${opts.tail})\n`);
    return 1;
  }
  return withRunIndex(opts.stateDir, io, async (index) => {
    const runs = await index.list(opts.name);
    const run = opts.run === undefined ? runs[0] : await index.resolve(opts.run, { benchmark: opts.name });
    if (opts.service) return await serviceLogs(opts, index, run, io);
    if (!run) {
      io.stderr(`Error: benchmark ${opts.name} has no runs in ${index.paths.stateDir} (no folder under ${join(index.paths.runsDir, opts.name)}); has the controller started it? See aifbctl describe benchmark ${opts.name}\n`);
      return 1;
    }
    if (!run.hasFolder) {
      io.stderr(`Error: the folder of run ${run.runId} (${run.runDir}) is gone; its results are still in ${index.paths.resultsDb} (aifbctl report ${opts.name} --run ${run.runId})\n`);
      return 1;
    }
    const files = await logFilesIn(run.runDir, 'runner');
    io.stderr(`Logs of run ${run.runId} (${run.runDir})\n`);
    if ((await printLogs(files, opts.tail, io)) === 0) {
      io.stderr(
        files.length === 0
          ? `Run ${run.runId} has no runner log: no runner*.stdout.log or runner*.stderr.log in ${run.runDir} (the runner may not have started yet)\n`
          : `The runner of run ${run.runId} wrote nothing to stdout or stderr yet\n`,
      );
    }
    return 0;
  });
}
