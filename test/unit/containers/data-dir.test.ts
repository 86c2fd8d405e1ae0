// The data folder, set once, that keeps SIFs, Apptainer's cache and model
// weights off the home quota: how it is found, and that containers/pull.sh
// fills the SIF cache the controller reads, whichever setting chose it.
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { defaultSifCache } from '../../../containers/catalog.js';
import { apptainerDirsEnv, dataPaths, DataDirError, resolveDataRoot } from '../../../containers/data-dir.js';
import { useTempDirs } from './temp-dirs.js';

const tempDir = useTempDirs();
const PULL = fileURLToPath(new URL('../../../containers/pull.sh', import.meta.url));
const FAKE = fileURLToPath(new URL('../../fakes/apptainer', import.meta.url));

describe('resolveDataRoot', () => {
  it('takes the explicit folder, then AIFB_DATA_DIR, then $SCRATCH/aifb, then $PROJECT/aifb, else none', () => {
    const env = { AIFB_DATA_DIR: '/d', SCRATCH: '/scratch/u', PROJECT: '/project/p1' };
    expect(resolveDataRoot('/flag', env)).toEqual({ dir: '/flag', source: 'flag' });
    expect(resolveDataRoot(undefined, env)).toEqual({ dir: '/d', source: 'AIFB_DATA_DIR' });
    expect(resolveDataRoot(undefined, { SCRATCH: '/scratch/u', PROJECT: '/project/p1' })).toEqual({ dir: '/scratch/u/aifb', source: 'SCRATCH' });
    expect(resolveDataRoot(undefined, { PROJECT: '/project/p1' })).toEqual({ dir: '/project/p1/aifb', source: 'PROJECT' });
    expect(resolveDataRoot(undefined, {})).toBeUndefined();
    // An empty variable is an unset one, as a shell's ${VAR:-...} reads it.
    expect(resolveDataRoot(undefined, { AIFB_DATA_DIR: '', SCRATCH: '', PROJECT: '/p' })?.source).toBe('PROJECT');
  });

  it('makes a relative folder absolute from where the controller starts', () => {
    expect(resolveDataRoot('data', {}, '/work')).toEqual({ dir: '/work/data', source: 'flag' });
    expect(resolveDataRoot(undefined, { AIFB_DATA_DIR: './d/../aifb-data' }, '/work')?.dir).toBe('/work/aifb-data');
  });

  it('refuses a folder that cannot be bound into a container, naming the setting to change', () => {
    expect(() => resolveDataRoot(undefined, { AIFB_DATA_DIR: '/a:b' })).toThrow(DataDirError);
    expect(() => resolveDataRoot(undefined, { AIFB_DATA_DIR: '/a:b' })).toThrow(/AIFB_DATA_DIR "\/a:b" .*":".* set AIFB_DATA_DIR to another folder/);
    expect(() => resolveDataRoot('/x,y', {})).toThrow(/--data-dir "\/x,y" .* set --data-dir to another folder/);
    expect(() => resolveDataRoot(undefined, { SCRATCH: '/s:1' })).toThrow(/\$SCRATCH "\/s:1\/aifb" .* set AIFB_DATA_DIR/);
  });
});

describe('dataPaths', () => {
  it('puts the SIF cache and Apptainer\'s cache and build space under the data folder', () => {
    expect(dataPaths({ env: { SCRATCH: '/scratch/u' }, cwd: '/w' })).toEqual({
      root: { dir: '/scratch/u/aifb', source: 'SCRATCH' },
      sifCache: '/scratch/u/aifb/sif',
      apptainerCacheDir: '/scratch/u/aifb/apptainer/cache',
      apptainerTmpDir: '/scratch/u/aifb/apptainer/tmp',
    });
    expect(dataPaths({ dataDir: '/flag', env: { AIFB_DATA_DIR: '/d' }, cwd: '/w' }).sifCache).toBe('/flag/sif');
  });

  it('keeps AIFB_SIF_CACHE, the narrower setting, above the data folder, and today\'s default without either', () => {
    expect(dataPaths({ env: { AIFB_SIF_CACHE: '/fast/sif', AIFB_DATA_DIR: '/d' }, cwd: '/w' }).sifCache).toBe('/fast/sif');
    expect(dataPaths({ env: {}, cwd: '/w' })).toEqual({ root: undefined, sifCache: '/w/containers/sif' });
    expect(defaultSifCache({ PROJECT: '/project/p1' }, '/w')).toBe('/project/p1/aifb/sif');
  });

  it("moves Apptainer's folders only where the user or the site has not", () => {
    const paths = dataPaths({ env: { AIFB_DATA_DIR: '/d' } });
    expect(apptainerDirsEnv(paths, {})).toEqual({ APPTAINER_CACHEDIR: '/d/apptainer/cache', APPTAINER_TMPDIR: '/d/apptainer/tmp' });
    expect(apptainerDirsEnv(paths, { APPTAINER_CACHEDIR: '/site/cache' })).toEqual({ APPTAINER_TMPDIR: '/d/apptainer/tmp' });
    expect(apptainerDirsEnv(dataPaths({ env: {} }), {})).toEqual({});
  });
});

describe('containers/pull.sh and the controller agree on the SIF cache', () => {
  /** Runs pull.sh with the stand-in apptainer under `env` and returns where it wrote the vLLM SIF. */
  async function pulledTo(env: Record<string, string>, args: string[] = []): Promise<string> {
    const dir = tempDir('aifb-pull-root-');
    mkdirSync(join(dir, 'bin'));
    symlinkSync(FAKE, join(dir, 'bin', 'apptainer'));
    const log = join(dir, 'argv.jsonl');
    const r = await execa(PULL, [...args, 'vllm'], {
      env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, AIFB_FAKE_APPTAINER_LOG: log, ...env },
      extendEnv: false,
      cwd: dir,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const [verb, dest] = JSON.parse(readFileSync(log, 'utf8').trim().split('\n')[0]) as string[];
    expect(verb).toBe('pull');
    expect(existsSync(dest)).toBe(true);
    return dest;
  }

  it('for each way of setting it: --data-dir, AIFB_DATA_DIR, $SCRATCH, $PROJECT, AIFB_SIF_CACHE', async () => {
    const root = tempDir('aifb-data-');
    const cases: Array<{ env: Record<string, string>; args?: string[]; dataDir?: string }> = [
      { env: { AIFB_DATA_DIR: join(root, 'a') } },
      { env: { SCRATCH: join(root, 's'), PROJECT: join(root, 'p') } },
      { env: { PROJECT: join(root, 'p') } },
      { env: { AIFB_SIF_CACHE: join(root, 'sif'), AIFB_DATA_DIR: join(root, 'a') } },
      { env: { AIFB_DATA_DIR: join(root, 'a') }, args: ['--data-dir', join(root, 'f')], dataDir: join(root, 'f') },
    ];
    for (const c of cases) {
      const controller = dataPaths({ dataDir: c.dataDir, env: c.env });
      expect(await pulledTo(c.env, c.args), JSON.stringify(c)).toBe(join(controller.sifCache, 'vllm.sif'));
      // Converting an image fills Apptainer's cache: made under the data folder too.
      if (controller.apptainerCacheDir) expect(existsSync(controller.apptainerCacheDir), JSON.stringify(c)).toBe(true);
    }
  });
});
