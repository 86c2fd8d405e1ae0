// The job script the SLURM executor submits for a runner: the srun line of a
// multi-rank load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SlurmExecutor } from '../../../controller/executor/slurm-executor.js';
import type { LaunchSpec } from '../../../controller/executor/types.js';
import { silentLogger } from '../../../controller/runtime/logger.js';
import { Slurm } from '../../../slurm/commands.js';

const stateDir = mkdtempSync(join(tmpdir(), 'aifb-executor-script-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
const executor = new SlurmExecutor({ stateDir, slurm: new Slurm(), log: silentLogger });

const runner = (over: Partial<LaunchSpec> = {}): LaunchSpec => ({
  kind: 'Benchmark',
  name: 'load',
  uid: 'u1',
  generation: 1,
  attempt: 1,
  role: 'runner',
  command: ['node', 'runner.js'],
  dir: '/scratch/runs/load',
  ...over,
});

const srunLine = (script: string) => script.split('\n').find((l) => l.startsWith('srun '));

describe('SlurmExecutor.render', () => {
  it('ends every rank when one fails, and gives srun the cpus per task of the runner', () => {
    const script = executor.render(runner({ nodes: 2, tasksPerNode: 4, slurm: { cpusPerTask: 8 } }));
    expect(script).toContain('#SBATCH --cpus-per-task=8');
    expect(srunLine(script)).toBe(
      'srun --nodes=2 --ntasks-per-node=4 --cpus-per-task=8 --kill-on-bad-exit=1 ' +
        '--output=/scratch/runs/load/runner.%t.stdout.log --error=/scratch/runs/load/runner.%t.stderr.log node runner.js',
    );
  });

  it('leaves cpus per task to SLURM when the runner sets none', () => {
    const line = srunLine(executor.render(runner({ nodes: 1, tasksPerNode: 2 })));
    expect(line).toMatch(/^srun --nodes=1 --ntasks-per-node=2 --kill-on-bad-exit=1 /);
    expect(line).not.toContain('--cpus-per-task');
  });

  it('runs a single rank without srun', () => {
    const script = executor.render(runner({ slurm: { cpusPerTask: 8 } }));
    expect(srunLine(script)).toBeUndefined();
    expect(script).toContain('exec node runner.js');
  });

  it("runs the site's and the resource's setup lines first, in that order, as written", () => {
    const withSetup = new SlurmExecutor({ stateDir, slurm: new Slurm(), log: silentLogger, setup: ['module purge'] });
    const script = withSetup.render(runner({ slurm: { setup: ['module load Apptainer', 'export HF_HOME=$SCRATCH/hf'] } }));
    const body = script.split('\n');
    const at = (line: string) => body.indexOf(line);
    expect(at('module purge')).toBeGreaterThan(at('set -euo pipefail'));
    expect(at('module load Apptainer')).toBe(at('module purge') + 1);
    expect(at('export HF_HOME=$SCRATCH/hf')).toBe(at('module purge') + 2);
    expect(at('exec node runner.js')).toBeGreaterThan(at('export HF_HOME=$SCRATCH/hf'));
  });
});
