// Renders the batch script aifb submits: #SBATCH directives from a validated
// SlurmSpec, quoted environment, then the caller's body. Users read it as is.
import type { SecretRef } from '../api/connection.js';
import type { SlurmSpec } from '../api/schemas.js';
import { describeProblems } from '../api/problems.js';
import {
  shellQuote,
  validateAccount,
  validateConstraint,
  validateGres,
  validateJobName,
  validateMem,
  validatePartition,
  validateQos,
  validateSignal,
  validateTime,
  type FieldProblem,
} from './quote.js';

/** Every problem found in the SLURM settings of one launch, each with its field path and fix. */
export class SlurmSpecError extends Error {
  constructor(readonly problems: FieldProblem[]) {
    super(`invalid SLURM settings: ${describeProblems(problems)}`);
    this.name = 'SlurmSpecError';
  }
}

export interface JobScriptOptions {
  jobName: string;
  comment: string;
  slurm: SlurmSpec;
  /** Override slurm.nodes / slurm.ntasksPerNode (a runner's spread). */
  nodes?: number;
  ntasksPerNode?: number;
  /**
   * GPUs of the job: --gres=gpu:N unless the spec asks for GPUs itself
   * (slurm.gres, or a --gres / --gpus* directive in slurm.extraDirectives),
   * and CPUs and memory per GPU (see GPU_SHARE).
   */
  gpus?: number;
  output: string;
  error: string;
  workdir: string;
  env?: Record<string, string>;
  /** Secret variables by reference: the script reads the file or variable when it runs; the value is never in it. */
  secretEnv?: Record<string, SecretRef>;
  /** Shell lines of the body; the caller quotes its own values with shellQuote. */
  lines: string[];
  /** --signal value, e.g. 'B:USR1@300'. */
  signal?: string;
  /** Where `slurm` sits in the resource, for problem paths (default `spec.slurm`). */
  slurmPath?: string;
  /** Where `env` sits in the resource, for problem paths (default `spec.env`). */
  envPath?: string;
}

// aifb finds its jobs by name and comment and retries on its own; a user's
// extra directive must not change those.
const RESERVED = new Set(['job-name', 'comment', 'output', 'error', 'chdir', 'requeue', 'no-requeue', 'array', 'wrap', 'parsable']);

/**
 * What a job with GPUs gets per GPU unless its spec says (slurm.cpusPerGpu,
 * memPerGpu, or cpusPerTask / mem instead). Left to SLURM, a job gets one CPU
 * unless the site set DefCpuPerGPU, and vLLM alone runs an API server, an
 * engine core and a worker per GPU: a starved server would be measured, not
 * the GPU. A default above what a node has makes sbatch refuse the job
 * outright ("Requested node configuration is not available"), so these are
 * what every GPU node we know of can give each of its GPUs: 4 CPUs (Leonardo
 * has 8 cores per A100, an 8-GPU DGX-1 10) and 32G (256 GB nodes with 4 GPUs,
 * 512 GB with 8, with room for the node's own RealMemory margin).
 */
export const GPU_SHARE = { cpusPerGpu: 4, memPerGpu: '32G' } as const;

/** Directives that ask for GPUs; with one, no --gres=gpu:N is added beside it. */
const GPU_REQUESTS = ['gres', 'gpus', 'gpus-per-node', 'gpus-per-task', 'gpus-per-socket'];
/** SLURM takes one of each group (sbatch: "mutually exclusive"). */
const CPU_OPTIONS = ['cpus-per-task', 'cpus-per-gpu'];
const MEM_OPTIONS = ['mem', 'mem-per-cpu', 'mem-per-gpu'];

/**
 * Quoting for an #SBATCH line: sbatch's own parser honours single quotes and,
 * unlike a shell, treats a backslash as an escape even inside them.
 */
function directiveQuote(s: string): string {
  const q = shellQuote(s);
  return q === s ? s : `'${s.replace(/\\/g, '\\\\').replace(/'/g, `'\\''`)}'`;
}

function positiveInt(path: string, n: number | undefined, problems: FieldProblem[]): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isSafeInteger(n) || n < 1) {
    problems.push({ path, message: `${n} is not a whole number of at least 1` });
    return undefined;
  }
  return n;
}

/** A path sbatch writes to or runs in: free text, but one line. */
function oneLine(path: string, value: string, problems: FieldProblem[]): void {
  if (value === '') problems.push({ path, message: 'is empty; give a path' });
  else if (/[\r\n\0]/.test(value)) problems.push({ path, message: `${JSON.stringify(value)} contains a line break or NUL byte; use a path on one line` });
}

/**
 * Two lines, so `set -e` stops the job when the file is unreadable or the
 * variable unset (an `export` of a failed substitution would not).
 */
function secretLines(key: string, ref: SecretRef): string[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new SlurmSpecError([{ path: 'secretEnv', message: `${JSON.stringify(key)} is not an environment variable name` }]);
  if ('env' in ref) {
    const msg = `environment variable ${ref.env} is not set in the job; export it where the controller runs`;
    return [`${key}="\${${ref.env}:?${msg}}"`, `export ${key}`];
  }
  return [`${key}="$(head -n 1 -- ${shellQuote(ref.file)})"`, `export ${key}`];
}

export function renderJobScript(opts: JobScriptOptions): string {
  const sp = opts.slurmPath ?? 'spec.slurm';
  const ep = opts.envPath ?? 'spec.env';
  const s = opts.slurm;
  const problems: FieldProblem[] = [];
  const add = (p: FieldProblem | undefined): void => {
    if (p) problems.push(p);
  };
  const directives: string[] = [];
  const d = (option: string, value?: string | number): void => {
    directives.push(value === undefined ? `#SBATCH --${option}` : `#SBATCH --${option}=${directiveQuote(String(value))}`);
  };

  add(validateJobName(opts.jobName, 'metadata.name'));
  if (/[\s\r\n\0'"\\]/.test(opts.comment) || opts.comment === '') {
    problems.push({ path: 'comment', message: `${JSON.stringify(opts.comment)} must be one word (use encodeJobComment)` });
  }
  if (s.partition !== undefined) add(validatePartition(s.partition, `${sp}.partition`));
  if (s.account !== undefined) add(validateAccount(s.account, `${sp}.account`));
  if (s.time !== undefined) add(validateTime(s.time, `${sp}.time`));
  if (s.mem !== undefined) add(validateMem(s.mem, `${sp}.mem`));
  if (s.memPerGpu !== undefined) add(validateMem(s.memPerGpu, `${sp}.memPerGpu`));
  if (s.gres !== undefined) add(validateGres(s.gres, `${sp}.gres`));
  if (s.qos !== undefined) add(validateQos(s.qos, `${sp}.qos`));
  if (s.constraint !== undefined) add(validateConstraint(s.constraint, `${sp}.constraint`));
  if (opts.signal !== undefined) add(validateSignal(opts.signal, 'signal'));
  const nodes = positiveInt(opts.nodes !== undefined ? 'nodes' : `${sp}.nodes`, opts.nodes ?? s.nodes, problems);
  const ntasks = positiveInt(`${sp}.ntasks`, s.ntasks, problems);
  const perNode = positiveInt(
    opts.ntasksPerNode !== undefined ? 'ntasksPerNode' : `${sp}.ntasksPerNode`,
    opts.ntasksPerNode ?? s.ntasksPerNode,
    problems,
  );
  const cpus = positiveInt(`${sp}.cpusPerTask`, s.cpusPerTask, problems);
  const cpusPerGpu = positiveInt(`${sp}.cpusPerGpu`, s.cpusPerGpu, problems);
  oneLine('output', opts.output, problems);
  oneLine('error', opts.error, problems);
  oneLine('workdir', opts.workdir, problems);

  const extra: string[] = [];
  const extraOptions = new Map<string, string | undefined>();
  (s.extraDirectives ?? []).forEach((raw, i) => {
    const path = `${sp}.extraDirectives[${i}]`;
    const line = raw.trim();
    if (/[\r\n\0]/.test(raw)) {
      problems.push({ path, message: `${JSON.stringify(raw)} spans several lines; give one directive per list item, e.g. "--mail-type=END"` });
      return;
    }
    const m = line.match(/^--([A-Za-z][A-Za-z0-9-]*)(?:[= ]\s*(.*))?$/);
    if (!m) {
      problems.push({ path, message: `${JSON.stringify(raw)} is not an sbatch option; write it as "--option=value" or "--flag" (long form, starting with "--")` });
      return;
    }
    const [, option, value] = m;
    if (RESERVED.has(option.toLowerCase())) {
      problems.push({ path, message: `--${option} is set by aifb (it finds and retries its jobs by name and comment); remove this directive` });
      return;
    }
    extraOptions.set(option.toLowerCase(), value);
    extra.push(value === undefined ? `#SBATCH --${option}` : `#SBATCH --${option}=${directiveQuote(value)}`);
  });

  // The GPU request and each GPU's share, unless the spec words them itself.
  const inExtra = (options: string[]) => options.find((o) => extraOptions.has(o));
  const gpus = opts.gpus !== undefined && opts.gpus !== 0 ? positiveInt('gpus', opts.gpus, problems) : undefined;
  const gres = s.gres ?? (gpus !== undefined && !inExtra(GPU_REQUESTS) ? `gpu:${gpus}` : undefined);
  const exclusive = s.exclusive === true || extraOptions.has('exclusive');
  const cpuClash = s.cpusPerTask !== undefined ? 'cpusPerTask' : inExtra(CPU_OPTIONS) && `extraDirectives --${inExtra(CPU_OPTIONS)}`;
  const memClash = s.mem !== undefined ? 'mem' : inExtra(MEM_OPTIONS) && `extraDirectives --${inExtra(MEM_OPTIONS)}`;
  if (s.cpusPerGpu !== undefined && cpuClash) {
    problems.push({ path: `${sp}.cpusPerGpu`, message: `SLURM takes one of --cpus-per-gpu and --cpus-per-task, and ${sp}.${cpuClash} sets the CPUs already; remove one of the two` });
  }
  if (s.memPerGpu !== undefined && memClash) {
    problems.push({ path: `${sp}.memPerGpu`, message: `SLURM takes one of --mem-per-gpu, --mem and --mem-per-cpu, and ${sp}.${memClash} sets the memory already; remove one of the two` });
  }
  // What is asked, not what the service would like: a gres of other devices gives it no GPU to share out.
  const gpuGres = (g: string | undefined) => /(^|,)gpu(:|,|$)/i.test(g ?? '');
  const asksGpus = gpuGres(gres) || gpuGres(extraOptions.get('gres')) || inExtra(GPU_REQUESTS.slice(1)) !== undefined;
  for (const field of ['cpusPerGpu', 'memPerGpu'] as const) {
    if (s[field] !== undefined && !asksGpus) {
      problems.push({ path: `${sp}.${field}`, message: `counts per GPU, and this job asks for none (sbatch refuses that); use ${field === 'cpusPerGpu' ? 'cpusPerTask' : 'mem'}, or give the job GPUs (a Service's spec.gpus)` });
    }
  }
  // An exclusive node is the job's whole: a share per GPU would only fence it in.
  const share = gpus !== undefined && asksGpus && !exclusive;
  const perGpuCpus = cpusPerGpu ?? (share && !cpuClash ? GPU_SHARE.cpusPerGpu : undefined);
  const perGpuMem = s.memPerGpu ?? (share && !memClash ? GPU_SHARE.memPerGpu : undefined);

  const env = Object.entries(opts.env ?? {});
  for (const [key, value] of env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      problems.push({ path: `${ep}.${key}`, message: `${JSON.stringify(key)} is not an environment variable name; use letters, digits and "_", not starting with a digit` });
    }
    if (value.includes('\0')) problems.push({ path: `${ep}.${key}`, message: 'contains a NUL byte, which no environment variable can hold; remove it' });
  }

  if (problems.length > 0) throw new SlurmSpecError(problems);

  d('job-name', opts.jobName);
  d('comment', opts.comment);
  if (s.partition !== undefined) d('partition', s.partition);
  if (s.account !== undefined) d('account', s.account);
  if (s.time !== undefined) d('time', s.time);
  if (nodes !== undefined) d('nodes', nodes);
  if (ntasks !== undefined) d('ntasks', ntasks);
  if (perNode !== undefined) d('ntasks-per-node', perNode);
  if (cpus !== undefined) d('cpus-per-task', cpus);
  if (s.mem !== undefined) d('mem', s.mem);
  if (gres !== undefined) d('gres', gres);
  if (perGpuCpus !== undefined) d('cpus-per-gpu', perGpuCpus);
  if (perGpuMem !== undefined) d('mem-per-gpu', perGpuMem);
  if (s.qos !== undefined) d('qos', s.qos);
  if (s.constraint !== undefined) d('constraint', s.constraint);
  if (s.exclusive) d('exclusive');
  d('output', opts.output);
  d('error', opts.error);
  d('chdir', opts.workdir);
  // aifb counts attempts itself; a SLURM requeue would be an attempt it cannot see.
  d('no-requeue');
  if (opts.signal !== undefined) d('signal', opts.signal);

  return [
    '#!/bin/bash',
    '# Submitted by aifb. The #SBATCH lines come from the resource spec; values are quoted.',
    ...directives,
    ...extra,
    '',
    'set -euo pipefail',
    // What the job writes (endpoint files, results, logs) is for the user and their group only.
    'umask 027',
    ...env.map(([key, value]) => `export ${key}=${shellQuote(value)}`),
    ...Object.entries(opts.secretEnv ?? {}).flatMap(([key, ref]) => secretLines(key, ref)),
    '',
    ...opts.lines,
    '',
  ].join('\n');
}
