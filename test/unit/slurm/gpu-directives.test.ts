// A job with GPUs: one GPU request (the implicit --gres=gpu:N, or the spec's
// own), and CPUs and memory per GPU unless the spec words them another way.
import { describe, expect, it } from 'vitest';
import { ServiceSpec, type SlurmSpec } from '../../../api/schemas.js';
import { GPU_SHARE, renderJobScript, SlurmSpecError, type JobScriptOptions } from '../../../slurm/script.js';

const base = (over: Partial<JobScriptOptions> = {}): JobScriptOptions => ({
  jobName: 'aifb-service-llm',
  comment: 'aifb:v1;kind=Service;name=llm;uid=u1;gen=1;attempt=1;role=service',
  slurm: {},
  output: '/s/service.stdout.log',
  error: '/s/service.stderr.log',
  workdir: '/s',
  lines: ['exec serve'],
  ...over,
});

/** The resource directives only: name, comment, logs and requeue are always there. */
const resources = (slurm: SlurmSpec, gpus?: number) =>
  renderJobScript(base({ slurm, gpus }))
    .split('\n')
    .filter((l) => l.startsWith('#SBATCH') && !/--(job-name|comment|output|error|chdir|no-requeue)\b/.test(l));

function problemsOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SlurmSpecError);
    return (e as SlurmSpecError).problems;
  }
  throw new Error('expected a SlurmSpecError');
}

describe('a job with GPUs', () => {
  it('asks for them with --gres and gives each GPU its share of CPUs and memory', () => {
    expect(GPU_SHARE).toEqual({ cpusPerGpu: 4, memPerGpu: '32G' });
    expect(resources({}, 2)).toEqual(['#SBATCH --gres=gpu:2', '#SBATCH --cpus-per-gpu=4', '#SBATCH --mem-per-gpu=32G']);
    expect(resources({ cpusPerGpu: 32, memPerGpu: '120G' }, 1)).toEqual(['#SBATCH --gres=gpu:1', '#SBATCH --cpus-per-gpu=32', '#SBATCH --mem-per-gpu=120G']);
  });

  it('takes cpusPerTask and mem instead of the share per GPU, and a whole node without one', () => {
    expect(resources({ cpusPerTask: 16, mem: '64G' }, 1)).toEqual(['#SBATCH --cpus-per-task=16', '#SBATCH --mem=64G', '#SBATCH --gres=gpu:1']);
    expect(resources({ cpusPerTask: 16 }, 1)).toEqual(['#SBATCH --cpus-per-task=16', '#SBATCH --gres=gpu:1', '#SBATCH --mem-per-gpu=32G']);
    expect(resources({ extraDirectives: ['--mem-per-cpu=2G'] }, 1)).toEqual(['#SBATCH --gres=gpu:1', '#SBATCH --cpus-per-gpu=4', '#SBATCH --mem-per-cpu=2G']);
    expect(resources({ exclusive: true }, 4)).toEqual(['#SBATCH --gres=gpu:4', '#SBATCH --exclusive']);
  });

  it('asks for GPUs once: a --gpus* or --gres directive of the spec replaces the implicit --gres=gpu:N', () => {
    expect(resources({ extraDirectives: ['--gpus-per-node=2'] }, 2)).toEqual(['#SBATCH --cpus-per-gpu=4', '#SBATCH --mem-per-gpu=32G', '#SBATCH --gpus-per-node=2']);
    expect(resources({ extraDirectives: ['--gpus=a100:1'] }, 1)).toEqual(['#SBATCH --cpus-per-gpu=4', '#SBATCH --mem-per-gpu=32G', '#SBATCH --gpus=a100:1']);
    expect(resources({ extraDirectives: ['--gres=gpu:a100:1'] }, 1)).toEqual(['#SBATCH --cpus-per-gpu=4', '#SBATCH --mem-per-gpu=32G', '#SBATCH --gres=gpu:a100:1']);
    expect(resources({ gres: 'gpu:a100:2' }, 2)).toEqual(['#SBATCH --gres=gpu:a100:2', '#SBATCH --cpus-per-gpu=4', '#SBATCH --mem-per-gpu=32G']);
    // A gres of other devices gives the job no GPU to share CPUs out by (sbatch would refuse --mem-per-gpu).
    expect(resources({ gres: 'nvme:1' }, 1)).toEqual(['#SBATCH --gres=nvme:1']);
  });

  it('gives a job without GPUs nothing per GPU', () => {
    expect(resources({}, 0)).toEqual([]);
    expect(resources({})).toEqual([]);
  });

  it('refuses settings sbatch would refuse, each naming its field and the fix', () => {
    expect(problemsOf(() => renderJobScript(base({ slurm: { cpusPerGpu: 8, cpusPerTask: 8 }, gpus: 1 })))).toEqual([
      { path: 'spec.slurm.cpusPerGpu', message: expect.stringMatching(/one of --cpus-per-gpu and --cpus-per-task, and spec\.slurm\.cpusPerTask sets the CPUs already; remove one/) },
    ]);
    expect(problemsOf(() => renderJobScript(base({ slurm: { memPerGpu: '64G', extraDirectives: ['--mem=100G'] }, gpus: 1 })))).toEqual([
      { path: 'spec.slurm.memPerGpu', message: expect.stringMatching(/spec\.slurm\.extraDirectives --mem sets the memory already/) },
    ]);
    expect(problemsOf(() => renderJobScript(base({ slurm: { memPerGpu: '64GB' }, gpus: 1 })))).toEqual([
      { path: 'spec.slurm.memPerGpu', message: expect.stringMatching(/SLURM spells it "64G"/) },
    ]);
    const runner = problemsOf(() => renderJobScript(base({ slurm: { cpusPerGpu: 2, memPerGpu: '4G' }, slurmPath: 'spec.runner.slurm' })));
    expect(runner.map((p) => p.path)).toEqual(['spec.runner.slurm.cpusPerGpu', 'spec.runner.slurm.memPerGpu']);
    expect(runner[1].message).toMatch(/asks for none .* use mem, or give the job GPUs/);
    expect(problemsOf(() => renderJobScript(base({ slurm: { cpusPerGpu: 0 }, gpus: 1 })))[0].path).toBe('spec.slurm.cpusPerGpu');
  });

  it('takes the fields in a Service file', () => {
    const s = ServiceSpec.parse({ type: 'vllm', gpus: 4, slurm: { cpusPerGpu: 32, memPerGpu: '120G' } });
    expect(s.slurm).toEqual({ cpusPerGpu: 32, memPerGpu: '120G' });
    expect(ServiceSpec.safeParse({ type: 'vllm', slurm: { cpusPerGpu: 'many' } }).success).toBe(false);
  });
});
