// Shell quoting and validators for every user value that reaches a job script:
// SLURM directive values must match SLURM's syntax; free text is only quoted.
import type { FieldProblem } from '../api/problems.js';

export type { FieldProblem };

// Characters that mean nothing to a POSIX shell nor to sbatch's #SBATCH parser,
// so such a value is printed bare and the script stays readable.
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * POSIX single-quote style: `it's` -> `'it'\''s'`. Inside single quotes a shell
 * expands nothing, so `$(...)`, backticks, globs and newlines stay literal text.
 * sbatch's #SBATCH parser understands the same quoting.
 */
export function shellQuote(s: string): string {
  if (s !== '' && SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Names the first thing that makes `value` unsafe or unusual, for a problem message. */
export function describeBadChars(value: string): string {
  if (value === '') return 'is empty';
  if (/[\r\n]/.test(value)) return 'contains a line break';
  if (value.includes('\0')) return 'contains a NUL byte';
  if (value.includes('$(')) return 'contains "$(" (command substitution)';
  if (value.includes('`')) return 'contains a backtick';
  if (/\s/.test(value)) return 'contains whitespace';
  const bad = value.match(/[^A-Za-z0-9_.\-]/);
  return bad ? `contains ${JSON.stringify(bad[0])}` : 'is not valid';
}

const show = (value: string): string => JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);

function check(path: string, value: string, pattern: RegExp, what: string, fix: string): FieldProblem | undefined {
  if (pattern.test(value)) return undefined;
  return { path, message: `${show(value)} is not ${what}: it ${describeBadChars(value)}. ${fix}` };
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A partition, or a comma-separated list SLURM may choose from (`gpu,gpu-long`). */
export function validatePartition(value: string, path = 'spec.slurm.partition'): FieldProblem | undefined {
  return check(
    path,
    value,
    /^[A-Za-z0-9_][A-Za-z0-9_.-]*(,[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/,
    'a partition name',
    'Use letters, digits, "_", "-" and "." (e.g. "gpu"), or a comma-separated list; "sinfo -s" lists the partitions.',
  );
}

export function validateAccount(value: string, path = 'spec.slurm.account'): FieldProblem | undefined {
  return check(path, value, NAME, 'an account name', 'Use letters, digits, "_", "-" and "." (e.g. "p200123"); "sacctmgr show assoc user=$USER" lists yours.');
}

export function validateQos(value: string, path = 'spec.slurm.qos'): FieldProblem | undefined {
  return check(path, value, NAME, 'a QOS name', 'Use letters, digits, "_", "-" and "." (e.g. "default"); "sacctmgr show qos" lists them.');
}

/** Node features with SLURM's operators: `a100&ib`, `[rack1|rack2]`, `gpu*2`. */
export function validateConstraint(value: string, path = 'spec.slurm.constraint'): FieldProblem | undefined {
  return check(
    path,
    value,
    /^[A-Za-z0-9_.\-&|[\]()*,:]+$/,
    'a constraint',
    'Use feature names joined by "&", "|" or ",", with "[...]", "(...)" and "*N" (e.g. "a100&ib"); no spaces or quotes.',
  );
}

/** `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`, `UNLIMITED`. */
export function validateTime(value: string, path = 'spec.slurm.time'): FieldProblem | undefined {
  const ok = /^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/i.test(value);
  if (ok) return undefined;
  return {
    path,
    message: `${show(value)} is not a SLURM time limit. Use minutes ("30"), "HH:MM:SS" ("02:00:00"), "D-HH:MM:SS" ("1-12:00:00") or "UNLIMITED".`,
  };
}

/** Memory per node: a number of megabytes or one with a K, M, G or T suffix. */
export function validateMem(value: string, path = 'spec.slurm.mem'): FieldProblem | undefined {
  if (/^\d+[KMGT]?$/i.test(value)) return undefined;
  const m = value.match(/^(\d+)\s*([KMGT])i?B$/i);
  const hint = m ? ` (SLURM spells it "${m[1]}${m[2].toUpperCase()}", without "B")` : '';
  return {
    path,
    message: `${show(value)} is not a SLURM memory size${hint}. Use a whole number with K, M, G or T, e.g. "4G" or "4000M".`,
  };
}

/** `gpu:1`, `gpu:a100:2`, or a comma-separated list of them. */
export function validateGres(value: string, path = 'spec.slurm.gres'): FieldProblem | undefined {
  const item = '[A-Za-z][A-Za-z0-9_]*(:[A-Za-z0-9_.-]+)?(:\\d+)?';
  return check(
    path,
    value,
    new RegExp(`^${item}(,${item})*$`),
    'a GRES request',
    'Use "name:count" or "name:type:count", e.g. "gpu:1" or "gpu:a100:2".',
  );
}

/** Job names are aifb's own (`aifb-<kind>-<name>`), but are checked before use all the same. */
export function validateJobName(value: string, path = 'metadata.name'): FieldProblem | undefined {
  return check(path, value, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/, 'a job name', 'Use letters, digits, "_", "-" and ".".');
}

/** Signal spec for --signal: `USR1@300`, `B:USR1@300`, `R:TERM`. */
export function validateSignal(value: string, path = 'signal'): FieldProblem | undefined {
  return check(path, value, /^([BR]{1,2}:)?[A-Z0-9]+(@\d+)?$/, 'a --signal value', 'Use "[B:]SIG[@seconds]", e.g. "B:USR1@300".');
}
