import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SlurmSpec } from '../../../api/schemas.js';
import { shellQuote } from '../../../slurm/quote.js';
import { renderJobScript, SlurmSpecError, type JobScriptOptions } from '../../../slurm/script.js';

const base = (over: Partial<JobScriptOptions> = {}): JobScriptOptions => ({
  jobName: 'aifb-benchmark-x',
  comment: 'aifb:v1;kind=Benchmark;name=x;uid=u1;gen=1;attempt=2;role=runner',
  slurm: {},
  output: '/scratch/runs/x/slurm-%j.out',
  error: '/scratch/runs/x/slurm-%j.err',
  workdir: '/scratch/runs/x',
  lines: ['srun node runner.js'],
  ...over,
});

const directives = (script: string) => script.split('\n').filter((l) => l.startsWith('#SBATCH'));

function problemsOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SlurmSpecError);
    return (e as SlurmSpecError).problems;
  }
  throw new Error('expected a SlurmSpecError');
}

describe('renderJobScript', () => {
  it('renders a readable script: directives in a fixed order, strict mode, env, body', () => {
    const slurm: SlurmSpec = {
      partition: 'gpu',
      account: 'p200123',
      time: '01:00:00',
      nodes: 2,
      ntasks: 8,
      ntasksPerNode: 4,
      cpusPerTask: 16,
      mem: '64G',
      qos: 'default',
      constraint: 'a100&ib',
      exclusive: true,
      extraDirectives: ['--mail-type=END', '--hint nomultithread', '--reservation=my resv'],
    };
    const script = renderJobScript(base({ slurm, gpus: 4, env: { HF_HOME: '/scratch/hf', TOKEN: "a b'c" }, signal: 'B:USR1@300' }));
    expect(script).toBe(
      [
        '#!/bin/bash',
        '# Submitted by aifb. The #SBATCH lines come from the resource spec; values are quoted.',
        '#SBATCH --job-name=aifb-benchmark-x',
        "#SBATCH --comment='aifb:v1;kind=Benchmark;name=x;uid=u1;gen=1;attempt=2;role=runner'",
        '#SBATCH --partition=gpu',
        '#SBATCH --account=p200123',
        '#SBATCH --time=01:00:00',
        '#SBATCH --nodes=2',
        '#SBATCH --ntasks=8',
        '#SBATCH --ntasks-per-node=4',
        '#SBATCH --cpus-per-task=16',
        '#SBATCH --mem=64G',
        '#SBATCH --gres=gpu:4',
        '#SBATCH --qos=default',
        "#SBATCH --constraint='a100&ib'",
        '#SBATCH --exclusive',
        '#SBATCH --output=/scratch/runs/x/slurm-%j.out',
        '#SBATCH --error=/scratch/runs/x/slurm-%j.err',
        '#SBATCH --chdir=/scratch/runs/x',
        '#SBATCH --no-requeue',
        '#SBATCH --signal=B:USR1@300',
        '#SBATCH --mail-type=END',
        '#SBATCH --hint=nomultithread',
        "#SBATCH --reservation='my resv'",
        '',
        'set -euo pipefail',
        'umask 027',
        'export HF_HOME=/scratch/hf',
        `export TOKEN='a b'\\''c'`,
        '',
        'srun node runner.js',
        '',
      ].join('\n'),
    );
  });

  it('lets slurm.gres win over gpus, and opts.nodes over slurm.nodes', () => {
    const s = renderJobScript(base({ slurm: { gres: 'gpu:a100:2', nodes: 4 }, gpus: 1, nodes: 1, ntasksPerNode: 3 }));
    expect(directives(s)).toContain('#SBATCH --gres=gpu:a100:2');
    expect(directives(s)).not.toContain('#SBATCH --gres=gpu:1');
    expect(directives(s)).toContain('#SBATCH --nodes=1');
    expect(directives(s)).toContain('#SBATCH --ntasks-per-node=3');
  });

  it('omits what is not set and never asks SLURM to requeue', () => {
    const d = directives(renderJobScript(base({ gpus: 0 })));
    expect(d).toEqual([
      '#SBATCH --job-name=aifb-benchmark-x',
      "#SBATCH --comment='aifb:v1;kind=Benchmark;name=x;uid=u1;gen=1;attempt=2;role=runner'",
      '#SBATCH --output=/scratch/runs/x/slurm-%j.out',
      '#SBATCH --error=/scratch/runs/x/slurm-%j.err',
      '#SBATCH --chdir=/scratch/runs/x',
      '#SBATCH --no-requeue',
    ]);
  });

  it('lists every problem at once, each with its field path and a fix', () => {
    const problems = problemsOf(() =>
      renderJobScript(
        base({
          slurmPath: 'spec.runner.slurm',
          slurm: {
            partition: 'gpu;id',
            time: '2h',
            mem: '4GB',
            gres: 'gpu 1',
            qos: '$(id)',
            extraDirectives: ['--mail-type=END\n#SBATCH --wrap=id', '-p gpu', '--job-name=mine', '--comment=x'],
          },
          env: { 'BAD-KEY': 'x' },
          workdir: '/tmp/a\nb',
        }),
      ),
    );
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual([
      'spec.runner.slurm.partition',
      'spec.runner.slurm.time',
      'spec.runner.slurm.mem',
      'spec.runner.slurm.gres',
      'spec.runner.slurm.qos',
      'workdir',
      'spec.runner.slurm.extraDirectives[0]',
      'spec.runner.slurm.extraDirectives[1]',
      'spec.runner.slurm.extraDirectives[2]',
      'spec.runner.slurm.extraDirectives[3]',
      'spec.env.BAD-KEY',
    ]);
    expect(problems[7].message).toMatch(/"--option=value"/);
    expect(problems[8].message).toMatch(/--job-name is set by aifb/);
    const err = (() => {
      try {
        renderJobScript(base({ slurm: { time: 'soon' } }));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/^invalid SLURM settings: spec\.slurm\.time: "soon" is not a SLURM time limit/);
  });
});

// Every payload tries to create the marker file; quoted, each must arrive as plain text.
const PAYLOADS = (marker: string): string[] => [
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `'; touch ${marker}; echo '`,
  `"; touch ${marker}; echo "`,
  `x\ntouch ${marker}`,
  `x; touch ${marker}`,
  `x && touch ${marker}`,
  `x | touch ${marker}`,
  `x || touch ${marker}`,
  `$(touch ${marker})'$(touch ${marker})'"$(touch ${marker})"`,
  `\\'; touch ${marker} #`,
  `* ? [a-z] ~ {a,b}`,
  `\${IFS}touch\${IFS}${marker}`,
  `> ${marker}`,
  `x # comment`,
];

describe('secrets by reference', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'aifb-secret-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes where the secret is, never its value, and bash reads it when the job runs', () => {
    const file = join(tmp, "pass word's");
    writeFileSync(file, 'hunter2-from-file\nsecond line ignored\n');
    const script = renderJobScript(base({ secretEnv: { DB_PASSWORD: { file }, API_KEY: { env: 'MY_TOKEN' } }, lines: ['echo "$DB_PASSWORD|$API_KEY"'] }));
    expect(script).not.toContain('hunter2');
    expect(script).toContain(`DB_PASSWORD="$(head -n 1 -- ${shellQuote(file)})"`);
    expect(script).toContain('API_KEY="${MY_TOKEN:?environment variable MY_TOKEN is not set in the job; export it where the controller runs}"');
    const out = spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH, MY_TOKEN: 'tok-from-env' }, encoding: 'utf8' });
    expect(out.stdout).toBe('hunter2-from-file|tok-from-env\n');
  });

  it('stops the job before its body when the file is missing or the variable unset', () => {
    for (const ref of [{ file: join(tmp, 'missing') }, { env: 'UNSET_TOKEN' }]) {
      const script = renderJobScript(base({ secretEnv: { S: ref }, lines: ['echo body ran'] }));
      const out = spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
      expect(out.status).not.toBe(0);
      expect(out.stdout).not.toContain('body ran');
    }
  });
});

describe('injection corpus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-inject-'));
  const marker = join(dir, 'pwned');
  const payloads = PAYLOADS(marker);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(payloads.map((p, i) => [i, p] as const))('payload %i is inert in env, args, binds and free-text directives', (i, payload) => {
    const out = join(dir, `out-${i}`);
    const lines = [
      // What the executors do with args and binds: every value through shellQuote.
      `printf '%s\\0' "$PAYLOAD" > ${shellQuote(`${out}.env`)}`,
      `printf '%s\\0' ${[payload, `--bind=${payload}:/data`].map(shellQuote).join(' ')} > ${shellQuote(`${out}.args`)}`,
    ];
    const script = renderJobScript(
      base({
        env: { PAYLOAD: payload },
        lines,
        output: `${dir}/${payload.replace(/\n/g, ' ')}.out`,
        slurm: { extraDirectives: [`--mail-user=${payload.replace(/\n/g, ' ')}`] },
      }),
    );
    // The directive block stays one line per directive, and a shell never sees them as commands.
    const file = join(dir, `job-${i}.sh`);
    writeFileSync(file, script);
    const header = script.split('\n').slice(0, script.split('\n').indexOf(''));
    expect(header.slice(2).every((l) => l.startsWith('#SBATCH --'))).toBe(true);
    expect(spawnSync('bash', ['-n', file]).status).toBe(0);

    const run = spawnSync('bash', [file], { cwd: dir, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(`${out}.env`, 'utf8')).toBe(`${payload}\0`);
    expect(readFileSync(`${out}.args`, 'utf8')).toBe(`${payload}\0--bind=${payload}:/data\0`);
  });

  it.each(payloads.map((p, i) => [i, p] as const))('payload %i in a SLURM name field is refused, never rendered', (_i, payload) => {
    for (const field of ['partition', 'account', 'qos', 'constraint', 'gres', 'mem', 'time'] as const) {
      const problems = problemsOf(() => renderJobScript(base({ slurm: { [field]: payload } })));
      expect(problems.map((p) => p.path)).toEqual([`spec.slurm.${field}`]);
    }
    expect(problemsOf(() => renderJobScript(base({ jobName: payload }))).map((p) => p.path)).toEqual(['metadata.name']);
  });

  it('refuses a directive or path that would spill onto a second line', () => {
    const payload = `x\ntouch ${marker}`;
    expect(problemsOf(() => renderJobScript(base({ slurm: { extraDirectives: [`--mail-user=${payload}`] } })))[0].message).toMatch(/several lines/);
    expect(problemsOf(() => renderJobScript(base({ output: payload })))[0].path).toBe('output');
    expect(existsSync(marker)).toBe(false);
  });

  it('bash agrees with sbatch-style quoting of directive values (backslashes kept for sbatch)', () => {
    const script = renderJobScript(base({ slurm: { extraDirectives: ["--mail-user=a\\b'c"] } }));
    expect(directives(script)).toContain(`#SBATCH --mail-user='a\\\\b'\\''c'`);
    // bash -n: the line is a comment whatever it holds.
    expect(execFileSync('bash', ['-n'], { input: script }).toString()).toBe('');
  });
});
