// A recipe's `slurm:` block (section 5.4 of the guide) split between the
// Service's job and the Benchmark's runner job, each value checked as the
// job script will check it, so a bad one fails the import, not the submit.
import type { FieldProblem } from '../../../api/problems.js';
import { validateAccount, validateConstraint, validateGres, validateMem, validatePartition, validateQos, validateTime } from '../../../slurm/quote.js';
import { bool, num, str, type Field, type Problems, type Section } from './reader.js';

/** Where each field of a produced slurm block came from in the recipe. */
export type Origins = Record<string, string>;

export interface SlurmMapping {
  /** Service.spec.slurm (empty for workloads without a Service). */
  service: Record<string, unknown>;
  serviceOrigins: Origins;
  /** Service.spec.gpus, from `gres: gpu:N` or `gpus: N`. */
  gpus?: { value: number; key: string };
  /** Benchmark.spec.runner.slurm. */
  runner: Record<string, unknown>;
  runnerOrigins: Origins;
  /** Benchmark.spec.runner.nodes / tasksPerNode: ranks of the load. */
  nodes?: { value: number; key: string };
  tasksPerNode?: { value: number; key: string };
}

/** `ntasks-per-node` as the guide writes it, `ntasks_per_node` and `ntasksPerNode` too. */
const spellings = (kebab: string): string[] => [...new Set([kebab, kebab.replace(/-/g, '_'), kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())])];

/** Where the job runs and who pays: the runner's job needs them as much as the Service's. */
const SCHEDULING = ['partition', 'account', 'qos', 'time'] as const;
/** What the job gets: the server's needs, not the load generator's. */
const RESOURCES = ['mem', 'constraint', 'cpus-per-task', 'exclusive'] as const;

/** sbatch options without a field of their own: passed through as extraDirectives. */
const EXTRA_OPTIONS = [
  'mail-type',
  'mail-user',
  'reservation',
  'mem-per-cpu',
  'mem-per-gpu',
  'cpus-per-gpu',
  'gpus-per-node',
  'gpus-per-task',
  'nodelist',
  'exclude',
  'licenses',
  'begin',
  'deadline',
  'hint',
  'tmp',
  'wckey',
  'threads-per-core',
  'distribution',
  'switches',
] as const;

/** aifb sets these itself: its jobs are found again by name and comment, and logs go to the run folder. */
const RESERVED: Record<string, string> = {
  'job-name': 'aifb names its jobs itself (aifb-<kind>-<name>), so a restarted controller finds them again',
  comment: 'aifb keeps its own bookkeeping in the job comment',
  output: "aifb writes each job's output into the run folder (.aifb/...), where aifbctl describe finds it",
  error: "aifb writes each job's errors into the run folder (.aifb/...), where aifbctl describe finds it",
  chdir: 'aifb runs each job in its own folder',
  array: 'aifb submits one job per launch; for several ranks use the runner (spec.runner.nodes, tasksPerNode)',
  requeue: 'aifb counts and retries attempts itself (spec.retries)',
};

export const SLURM_KEYS = [...SCHEDULING, ...RESOURCES, 'gres', 'gpus', 'nodes', 'ntasks', 'ntasks-per-node', ...EXTRA_OPTIONS, ...Object.keys(RESERVED)];

const VALIDATORS: Record<string, (value: string, path: string) => FieldProblem | undefined> = {
  partition: validatePartition,
  account: validateAccount,
  qos: validateQos,
  time: validateTime,
  mem: validateMem,
  constraint: validateConstraint,
  gres: validateGres,
};

function checked(f: Field | undefined, name: string, p: Problems): string | undefined {
  // SLURM reads a bare number of `time` as minutes and of `mem` as megabytes: the same text says the same.
  const value = str(f, p);
  if (value === undefined || !f) return undefined;
  const problem = VALIDATORS[name]?.(value, f.key);
  return problem ? p.error(f.key, problem.message) : value;
}

/**
 * `service: true` for a Service-backed workload: scheduling goes to both jobs,
 * resources to the Service only. `false` (faiss, file-storage): all to the runner.
 */
export function mapSlurm(s: Section | undefined, hasService: boolean, p: Problems): SlurmMapping {
  const m: SlurmMapping = { service: {}, serviceOrigins: {}, runner: {}, runnerOrigins: {} };
  if (!s) return m;
  const put = (target: 'service' | 'runner', field: string, value: unknown, key: string) => {
    m[target][field] = value;
    m[target === 'service' ? 'serviceOrigins' : 'runnerOrigins'][field] = key;
  };
  const resourcesTo = hasService ? 'service' : 'runner';

  for (const name of SCHEDULING) {
    const f = s.takeAny(spellings(name));
    const value = checked(f, name, p);
    if (value === undefined || !f) continue;
    if (hasService) put('service', name, value, f.key);
    put('runner', name, value, f.key);
  }
  for (const name of ['mem', 'constraint'] as const) {
    const f = s.takeAny(spellings(name));
    const value = checked(f, name, p);
    if (value !== undefined && f) put(resourcesTo, name, value, f.key);
  }
  const cpus = s.takeAny(spellings('cpus-per-task'));
  const cpusValue = num(cpus, p, { integer: true, positive: true });
  if (cpusValue !== undefined && cpus) put(resourcesTo, 'cpusPerTask', cpusValue, cpus.key);
  const exclusive = s.takeAny(spellings('exclusive'));
  const exclusiveValue = bool(exclusive, p);
  if (exclusiveValue !== undefined && exclusive) put(resourcesTo, 'exclusive', exclusiveValue, exclusive.key);

  mapGpus(s, hasService, m, p, put);
  mapSpread(s, hasService, m, p, put);

  const extra: string[] = [];
  let extraKey: string | undefined;
  for (const option of EXTRA_OPTIONS) {
    const f = s.takeAny(spellings(option));
    const value = str(f, p);
    if (value === undefined || !f) continue;
    if (/[\r\n\0]/.test(value)) {
      p.error(f.key, 'must be on one line');
      continue;
    }
    extra.push(`--${option}=${value}`);
    extraKey ??= f.key;
  }
  if (extra.length > 0 && extraKey) put(resourcesTo, 'extraDirectives', extra, extraKey);

  for (const [option, why] of Object.entries(RESERVED)) {
    const f = s.takeAny(spellings(option));
    if (f) p.warn(f.key, `not carried over: ${why}. Remove it`);
  }
  return m;
}

function mapGpus(s: Section, hasService: boolean, m: SlurmMapping, p: Problems, put: (t: 'service' | 'runner', field: string, value: unknown, key: string) => void): void {
  const gres = s.take('gres');
  const gresValue = checked(gres, 'gres', p);
  const gpusField = s.take('gpus');
  const gpus = num(gpusField, p, { integer: true, min: 0 });
  if (!hasService) {
    // Nothing to start: the runner's job gets what the recipe asked for.
    if (gresValue !== undefined && gres) put('runner', 'gres', gresValue, gres.key);
    else if (gpus !== undefined && gpus > 0 && gpusField) put('runner', 'gres', `gpu:${gpus}`, gpusField.key);
    return;
  }
  if (gresValue !== undefined && gres) {
    // `gpu:N` is what spec.gpus asks for (and it adds apptainer --nv); a typed or mixed request stays as written.
    const plain = /^gpu:(\d+)$/.exec(gresValue);
    const typed = /^gpu:[A-Za-z0-9_.-]+:(\d+)$/.exec(gresValue);
    if (plain) m.gpus = { value: Number(plain[1]), key: gres.key };
    else {
      put('service', 'gres', gresValue, gres.key);
      if (typed) m.gpus = { value: Number(typed[1]), key: gres.key };
    }
  }
  if (gpus !== undefined && gpusField) {
    if (m.gpus && m.gpus.value !== gpus) p.warn(gpusField.key, `${gpus} disagrees with ${m.gpus.key} (${m.gpus.value} GPUs); the Service gets ${m.gpus.value}. Keep one of the two`);
    else m.gpus = { value: gpus, key: gpusField.key };
  }
}

/** nodes, ntasks, ntasks-per-node: how many runner ranks make the load, or the Service's own job. */
function mapSpread(s: Section, hasService: boolean, m: SlurmMapping, p: Problems, put: (t: 'service' | 'runner', field: string, value: unknown, key: string) => void): void {
  const nodesF = s.take('nodes');
  const nodes = num(nodesF, p, { integer: true, positive: true });
  const ntasksF = s.take('ntasks');
  const ntasks = num(ntasksF, p, { integer: true, positive: true });
  const perNodeF = s.takeAny(spellings('ntasks-per-node'));
  const perNode = num(perNodeF, p, { integer: true, positive: true });

  if (hasService) {
    // A single server (vLLM, Ollama, PostgreSQL...) runs on one node; several nodes in the recipe mean several load generators.
    if (nodes !== undefined && nodesF) {
      if (nodes > 1) {
        m.nodes = { value: nodes, key: nodesF.key };
        p.warn(
          nodesF.key,
          `${nodes} nodes became ${nodes} runner nodes (Benchmark spec.runner.nodes), which send the load together; the Service itself runs on one node, as one server does. Check that this is what you meant`,
        );
      } else put('service', 'nodes', nodes, nodesF.key);
    }
    if (perNode !== undefined && perNodeF) {
      m.tasksPerNode = { value: perNode, key: perNodeF.key };
      // With several nodes the warning on nodes says it already; one node with several tasks is news of its own.
      if (perNode > 1 && !m.nodes) p.warn(perNodeF.key, `became the runner's tasksPerNode (${perNode} load generators on its node), not the Service's job. Check that this is what you meant`);
    }
    if (ntasks !== undefined && ntasksF) put('service', 'ntasks', ntasks, ntasksF.key);
    return;
  }
  if (nodes !== undefined && nodesF && nodes > 1) m.nodes = { value: nodes, key: nodesF.key };
  if (perNode !== undefined && perNodeF) m.tasksPerNode = { value: perNode, key: perNodeF.key };
  else if (ntasks !== undefined && ntasksF && ntasks > 1) {
    const per = Math.ceil(ntasks / (nodes ?? 1));
    m.tasksPerNode = { value: per, key: ntasksF.key };
    if (per * (nodes ?? 1) !== ntasks) p.warn(ntasksF.key, `${ntasks} tasks do not divide over ${nodes} nodes; the runner starts ${per} per node (${per * (nodes ?? 1)} in all)`);
  }
}
