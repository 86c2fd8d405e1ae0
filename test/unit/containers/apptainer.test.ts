import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  Apptainer,
  bindProblems,
  envArgument,
  envProblems,
  instanceList,
  instanceStart,
  instanceStop,
  parseInstanceList,
  runCommand,
} from '../../../containers/apptainer.js';
import { ApptainerError } from '../../../containers/errors.js';
import { problemsOf } from './problems-of.js';
import { useTempDirs } from './temp-dirs.js';

const tempDir = useTempDirs();
const FAKE = fileURLToPath(new URL('../../fakes/apptainer', import.meta.url));


describe('runCommand', () => {
  it('builds the argv in the real CLI order', () => {
    expect(
      runCommand({
        image: '/sif/vllm.sif',
        gpus: 2,
        binds: ['/scratch/hf:/root/.cache/huggingface', '/data:/data:ro'],
        env: { HF_HOME: '/root/.cache/huggingface', VLLM_LOGGING_LEVEL: 'INFO' },
        args: ['--model', 'm', '--port', '8000'],
      }),
    ).toEqual([
      'apptainer',
      'run',
      '--nv',
      '--bind',
      '/scratch/hf:/root/.cache/huggingface',
      '--bind',
      '/data:/data:ro',
      '--env',
      'HF_HOME=/root/.cache/huggingface',
      '--env',
      'VLLM_LOGGING_LEVEL=INFO',
      '/sif/vllm.sif',
      '--model',
      'm',
      '--port',
      '8000',
    ]);
  });

  it('adds --nv only when gpus > 0, and --cleanenv only when asked', () => {
    expect(runCommand({ image: 'docker://postgres:16', gpus: 0 })).toEqual(['apptainer', 'run', 'docker://postgres:16']);
    expect(runCommand({ image: 'docker://postgres:16' })).not.toContain('--nv');
    expect(runCommand({ image: 'x.sif', gpus: 1 })).toContain('--nv');
    expect(runCommand({ image: 'x.sif', cleanEnv: true, bin: '/opt/apptainer/bin/apptainer' })).toEqual([
      '/opt/apptainer/bin/apptainer',
      'run',
      '--cleanenv',
      'x.sif',
    ]);
  });

  it('keeps values with spaces, quotes and $(...) as single argv elements, never joined', () => {
    const nasty = `a b "c" 'd' $(rm -rf /) \`x\`; echo; |`;
    const argv = runCommand({ image: '/sif/x.sif', env: { MSG: nasty }, binds: ['/my data/dir:/data'], args: ['--prompt', nasty] });
    expect(argv).toContain(`MSG=${nasty}`);
    expect(argv).toContain('/my data/dir:/data');
    expect(argv.slice(-2)).toEqual(['--prompt', nasty]);
    expect(argv.filter((a) => a === '--env')).toHaveLength(1);
  });

  it('CSV-quotes an env pair only where Apptainer would split it', () => {
    expect(envArgument('A', 'x,y')).toBe('A=x,y');
    expect(envArgument('A', 'k=v')).toBe('A=k=v');
    expect(envArgument('OPTS', 'a=1,b=2')).toBe('"OPTS=a=1,b=2"');
    expect(envArgument('Q', 'x="1"')).toBe('"Q=x=""1"""');
  });

  it('reports every bad bind and env key at once, each naming its field', () => {
    const problems = problemsOf(() =>
      runCommand({ image: '/x.sif', binds: ['/ok:/ok', '/a:/b,/c:/d', ':/data', '/src:relative', '/a:/b:rx', '/a\n:/b'], env: { '1BAD': 'x', GOOD: 'y', 'A-B': 'z' } }),
    );
    expect(problems.map((p) => p.path)).toEqual(['spec.binds[1]', 'spec.binds[2]', 'spec.binds[3]', 'spec.binds[4]', 'spec.binds[5]', 'spec.env.1BAD', 'spec.env.A-B']);
    expect(problems[0].message).toMatch(/own list entry/);
    expect(problems[2].message).toMatch(/absolute path/);
    expect(problems[5].message).toMatch(/letters, digits and "_"/);
  });

  it('lets a caller name its own fields (a MonitoringStack component)', () => {
    expect(bindProblems(['x:y'], 'spec.grafana.binds')[0].path).toBe('spec.grafana.binds[0]');
    expect(envProblems({ 'a b': '1' }, 'spec.grafana.env')[0].path).toBe('spec.grafana.env.a b');
    expect(problemsOf(() => runCommand({ image: '-rf', fields: { image: 'spec.prometheus.image' } }))[0].path).toBe('spec.prometheus.image');
  });
});

describe('instance argv builders', () => {
  it('puts the image before the instance name and the args after it', () => {
    expect(instanceStart({ name: 'ai_grafana', image: '/sif/grafana.sif', gpus: 0, binds: ['/g:/var/lib/grafana'], env: { GF_SERVER_HTTP_PORT: '3000' }, args: [] })).toEqual([
      'apptainer',
      'instance',
      'start',
      '--bind',
      '/g:/var/lib/grafana',
      '--env',
      'GF_SERVER_HTTP_PORT=3000',
      '/sif/grafana.sif',
      'ai_grafana',
    ]);
    expect(instanceStop('ai_grafana')).toEqual(['apptainer', 'instance', 'stop', 'ai_grafana']);
    expect(instanceList()).toEqual(['apptainer', 'instance', 'list', '--json']);
  });

  it('rejects an instance name that is not one argv-safe word', () => {
    expect(problemsOf(() => instanceStop('a b'))[0].path).toBe('name');
    expect(problemsOf(() => instanceStart({ name: '-x', image: '/x.sif' }))[0].path).toBe('name');
  });
});

describe('parseInstanceList', () => {
  it('reads name, pid and image from `instance list --json`', () => {
    const out = JSON.stringify({
      instances: [
        { instance: 'ai_grafana', pid: 12345, img: '/path/grafana.sif', ip: '', logErrPath: '/e', logOutPath: '/o' },
        { instance: 'ai_prometheus', pid: 12346, img: '/path/prometheus.sif' },
      ],
    });
    expect(parseInstanceList(out)).toEqual([
      { name: 'ai_grafana', pid: 12345, image: '/path/grafana.sif' },
      { name: 'ai_prometheus', pid: 12346, image: '/path/prometheus.sif' },
    ]);
  });

  it('treats no output or no instances as an empty list, and garbage as an error', () => {
    expect(parseInstanceList('')).toEqual([]);
    expect(parseInstanceList('{"instances":[]}')).toEqual([]);
    expect(parseInstanceList('{"instances":null}')).toEqual([]);
    expect(() => parseInstanceList('INSTANCE NAME PID')).toThrow(/could not parse/);
    expect(() => parseInstanceList('{"instances":{}}')).toThrow(/no "instances" list/);
  });
});

describe('Apptainer runner (against the stand-in)', () => {
  const setup = () => {
    const dir = tempDir('aifb-apptainer-');
    const log = join(dir, 'argv.jsonl');
    const seen: string[][] = [];
    const app = new Apptainer({ bin: FAKE, onCommand: (argv) => seen.push(argv), env: { AIFB_FAKE_APPTAINER_STATE: dir, AIFB_FAKE_APPTAINER_LOG: log } });
    return { dir, log, seen, app };
  };

  it('runs the argv it builds and reports each command', async () => {
    const { app, seen, log } = setup();
    expect(await app.version()).toMatch(/apptainer version/);
    expect(await app.listInstances()).toEqual([]);
    expect(seen).toEqual([
      [FAKE, '--version'],
      [FAKE, 'instance', 'list', '--json'],
    ]);
    expect(readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([['--version'], ['instance', 'list', '--json']]);
  });

  it('turns a failed pull into an ApptainerError with the exit code and message', async () => {
    const { app } = setup();
    const err = await app.start({ name: 'bad', image: 'docker://acme/does-not-exist:1' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApptainerError);
    expect(err.exitCode).toBe(255);
    expect(err.message).toMatch(/could not pull image/);
  });

  it('treats stopping an instance that is gone as done, as the real CLI reports it', async () => {
    const { app, dir } = setup();
    await expect(app.stop('never-started')).resolves.toBeUndefined();
    // Real Apptainer exits 255 here; other failures must still surface.
    const real = join(dir, 'real-apptainer');
    writeFileSync(real, '#!/bin/sh\necho "FATAL:   no instance found with name $4" >&2\nexit 255\n', { mode: 0o755 });
    await expect(new Apptainer({ bin: real }).stop('gone')).resolves.toBeUndefined();
    const broken = join(dir, 'broken-apptainer');
    writeFileSync(broken, '#!/bin/sh\necho "FATAL:   permission denied" >&2\nexit 255\n', { mode: 0o755 });
    await expect(new Apptainer({ bin: broken }).stop('x')).rejects.toThrow(/permission denied/);
  });

  it('says how to get apptainer when the binary is missing', async () => {
    const app = new Apptainer({ bin: '/nonexistent/apptainer' });
    await expect(app.listInstances()).rejects.toThrow(/module load Apptainer/);
  });
});
