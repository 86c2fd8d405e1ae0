// The Apptainer adapter: builds `apptainer run` / `instance start|stop|list` argv
// arrays from validated values, and a small runner that executes them with execa.
import { execa } from 'execa';
import type { FieldProblem } from '../api/problems.js';
import { APPTAINER_MISSING_HINT, ApptainerError, throwIfProblems } from './errors.js';
import { imageProblems } from './image-ref.js';

export interface ContainerOptions {
  /** SIF path or registry reference (see resolveImage). */
  image: string;
  /** `--nv` is added whenever this is above 0. */
  gpus?: number;
  /** `src[:dst[:ro|rw]]`, one bind per entry. */
  binds?: string[];
  env?: Record<string, string>;
  /** Arguments after the image: they replace the image's default command arguments. */
  args?: string[];
  /** `--cleanenv`: the container sees only `env`, not the caller's environment. */
  cleanEnv?: boolean;
  /** The Apptainer binary as argv[0]; `apptainer` from PATH unless given. */
  bin?: string;
  /** Field paths named in problems; defaults are the Service spec's. */
  fields?: { image?: string; binds?: string; env?: string };
}

export interface InstanceStartOptions extends ContainerOptions {
  name: string;
}

export interface InstanceInfo {
  name: string;
  pid: number;
  image: string;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const BIND_OPTIONS = ['ro', 'rw'];

export function bindProblems(binds: readonly string[], field = 'spec.binds'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  binds.forEach((bind, i) => {
    const path = `${field}[${i}]`;
    const add = (message: string) => problems.push({ path, message });
    if (CONTROL.test(bind)) return add('must not contain newlines or control characters');
    // Apptainer reads --bind as a comma-separated list, so a comma would silently become two binds.
    if (bind.includes(',')) return add('must not contain ","; Apptainer splits binds at commas, so put each bind in its own list entry');
    const parts = bind.split(':');
    if (parts.length > 3) return add(`"${bind}" has too many ":"; write src[:dst[:ro|rw]], e.g. /scratch/data:/data:ro`);
    const [src, dst, opts] = parts;
    if (src === '') return add(`"${bind}" has no source path; write src[:dst[:ro|rw]], e.g. /scratch/data:/data`);
    if (src.startsWith('-')) return add(`source "${src}" must not start with "-"; write ./${src} for a relative path`);
    if (dst !== undefined && !dst.startsWith('/')) return add(`destination "${dst}" must be an absolute path inside the container, e.g. /data`);
    if (opts !== undefined && !BIND_OPTIONS.includes(opts)) return add(`option "${opts}" is not one of ${BIND_OPTIONS.join(', ')}`);
  });
  return problems;
}

export function envProblems(env: Readonly<Record<string, string>>, field = 'spec.env'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [key, value] of Object.entries(env)) {
    const path = `${field}.${key}`;
    if (!ENV_KEY.test(key)) {
      problems.push({ path, message: `"${key}" is not a valid variable name; use letters, digits and "_", not starting with a digit` });
    } else if (typeof value !== 'string') {
      problems.push({ path, message: 'must be a string; quote numbers and booleans in YAML, e.g. "8000"' });
    } else if (value.includes('\0')) {
      problems.push({ path, message: 'must not contain a NUL character' });
    } else if (!value.includes('=') && value.endsWith('"')) {
      // Apptainer trims quotes around a single KEY=VALUE pair, so this value cannot arrive intact.
      problems.push({ path, message: 'must not end with a double quote (Apptainer --env strips it); remove the quote' });
    }
  }
  return problems;
}

/**
 * One `--env` value. Apptainer parses `--env` like pflag's string-to-string map:
 * a value with one "=" is taken whole, otherwise it is read as CSV, so commas and
 * quotes in such a value are CSV-quoted to keep it one variable.
 */
export function envArgument(key: string, value: string): string {
  const pair = `${key}=${value}`;
  if (!value.includes('=')) return pair;
  return /[",\r\n]/.test(pair) ? `"${pair.replace(/"/g, '""')}"` : pair;
}

function containerFlags(o: ContainerOptions): string[] {
  const binds = o.binds ?? [];
  const env = o.env ?? {};
  throwIfProblems([
    ...imageProblems(o.image, o.fields?.image ?? 'spec.image'),
    ...bindProblems(binds, o.fields?.binds ?? 'spec.binds'),
    ...envProblems(env, o.fields?.env ?? 'spec.env'),
  ]);
  const flags: string[] = [];
  if ((o.gpus ?? 0) > 0) flags.push('--nv');
  if (o.cleanEnv) flags.push('--cleanenv');
  for (const b of binds) flags.push('--bind', b);
  for (const [k, v] of Object.entries(env)) flags.push('--env', envArgument(k, v));
  return flags;
}

/** `apptainer run [--nv] [--cleanenv] [--bind b]... [--env K=V]... IMAGE [ARGS...]`: runs in the foreground. */
export function runCommand(o: ContainerOptions): string[] {
  return [o.bin ?? 'apptainer', 'run', ...containerFlags(o), o.image, ...(o.args ?? [])];
}

function nameProblems(name: string): FieldProblem[] {
  return INSTANCE_NAME.test(name)
    ? []
    : [{ path: 'name', message: `instance name "${name}" must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit` }];
}

/** `apptainer instance start [flags] IMAGE NAME [ARGS...]`: the instance runs in the background. */
export function instanceStart(o: InstanceStartOptions): string[] {
  throwIfProblems(nameProblems(o.name));
  return [o.bin ?? 'apptainer', 'instance', 'start', ...containerFlags(o), o.image, o.name, ...(o.args ?? [])];
}

export function instanceStop(name: string, bin = 'apptainer'): string[] {
  throwIfProblems(nameProblems(name));
  return [bin, 'instance', 'stop', name];
}

export function instanceList(bin = 'apptainer'): string[] {
  return [bin, 'instance', 'list', '--json'];
}

/** Parses `apptainer instance list --json`: `{"instances":[{"instance":"name","pid":123,"img":"/x.sif",...}]}`. */
export function parseInstanceList(stdout: string): InstanceInfo[] {
  if (stdout.trim() === '') return [];
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch (e) {
    throw new Error(`could not parse \`apptainer instance list --json\` output as JSON (${(e as Error).message}): ${stdout.slice(0, 200)}`);
  }
  const list = (doc as { instances?: unknown } | null)?.instances;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new Error('`apptainer instance list --json` output has no "instances" list');
  return list
    .filter((i): i is Record<string, unknown> => i !== null && typeof i === 'object' && typeof (i as Record<string, unknown>).instance === 'string')
    .map((i) => ({ name: i.instance as string, pid: Number(i.pid), image: typeof i.img === 'string' ? i.img : '' }));
}

export interface ApptainerRunnerOptions {
  bin?: string;
  /** Called with each argv before it runs, for logs and tests. */
  onCommand?: (argv: string[]) => void;
  /** Extra environment for the apptainer process. */
  env?: Record<string, string>;
}

/** Runs the short Apptainer commands the controller waits on (instances, version). */
export class Apptainer {
  readonly bin: string;
  private readonly onCommand?: (argv: string[]) => void;
  private readonly env?: Record<string, string>;

  constructor(opts: ApptainerRunnerOptions = {}) {
    this.bin = opts.bin ?? 'apptainer';
    this.onCommand = opts.onCommand;
    this.env = opts.env;
  }

  /** The argv for a foreground run, with this runner's binary. */
  runCommand(o: ContainerOptions): string[] {
    return runCommand({ ...o, bin: this.bin });
  }

  async version(): Promise<string> {
    return (await this.exec([this.bin, '--version'])).stdout.trim();
  }

  async listInstances(): Promise<InstanceInfo[]> {
    return parseInstanceList((await this.exec(instanceList(this.bin))).stdout);
  }

  async start(o: InstanceStartOptions): Promise<void> {
    await this.exec(instanceStart({ ...o, bin: this.bin }));
  }

  /** Stops the instance; one that is already gone counts as stopped, so repeating it is harmless. */
  async stop(name: string): Promise<void> {
    try {
      await this.exec(instanceStop(name, this.bin));
    } catch (e) {
      if (e instanceof ApptainerError && /no instance found/i.test(e.stderr)) return;
      throw e;
    }
  }

  private async exec(argv: string[]): Promise<{ stdout: string; stderr: string }> {
    this.onCommand?.(argv);
    try {
      const r = await execa(argv[0], argv.slice(1), { env: this.env, stdin: 'ignore' });
      return { stdout: String(r.stdout), stderr: String(r.stderr) };
    } catch (e) {
      const err = e as { code?: string; exitCode?: number; stderr?: unknown; shortMessage?: string };
      if (err.code === 'ENOENT') {
        throw new ApptainerError(`${argv[0]} was not found on PATH: ${APPTAINER_MISSING_HINT}`, argv, undefined, '');
      }
      const stderr = typeof err.stderr === 'string' ? err.stderr : '';
      const last = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || err.shortMessage || 'no output';
      throw new ApptainerError(`\`${argv.slice(0, 3).join(' ')}\` failed (exit ${err.exitCode ?? '?'}): ${last}`, argv, err.exitCode, stderr);
    }
  }
}
