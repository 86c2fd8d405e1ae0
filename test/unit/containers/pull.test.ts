import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { catalogEntry, catalogImageLines, catalogTypes } from '../../../containers/catalog.js';
import { useTempDirs } from './temp-dirs.js';

const tempDir = useTempDirs();
const PULL = fileURLToPath(new URL('../../../containers/pull.sh', import.meta.url));
const FAKE = fileURLToPath(new URL('../../fakes/apptainer', import.meta.url));

/** A PATH whose apptainer is the stand-in, with the argv log in the same folder. */
function withFakeApptainer() {
  const dir = tempDir('aifb-pull-');
  mkdirSync(join(dir, 'bin'));
  symlinkSync(FAKE, join(dir, 'bin', 'apptainer'));
  const log = join(dir, 'argv.jsonl');
  const env = { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, AIFB_FAKE_APPTAINER_LOG: log };
  const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]) : []);
  return { dir, env, calls, cache: join(dir, 'sif') };
}

describe('containers/pull.sh', () => {
  it('pulls every catalog image to <cache>/<name>.sif, then skips what exists', async () => {
    const { env, calls, cache } = withFakeApptainer();
    const first = await execa(PULL, ['--cache', cache], { env, reject: false });
    expect(first.exitCode, first.stderr).toBe(0);
    const expected = catalogImageLines().map((l) => {
      const [name, ref] = l.split(' ');
      return ['pull', join(cache, `${name}.sif`), ref];
    });
    expect(calls()).toEqual(expected);
    // Every catalog type is covered by one of the pulled SIFs.
    for (const t of catalogTypes()) expect(existsSync(join(cache, `${catalogEntry(t)!.sif}.sif`)), t).toBe(true);

    const again = await execa(PULL, ['--cache', cache], { env, reject: false });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/exists, skipped/);
    expect(calls()).toHaveLength(expected.length);
  });

  it('pulls only the types named, s3 meaning the MinIO SIF, and uses AIFB_SIF_CACHE by default', async () => {
    const { env, calls, cache } = withFakeApptainer();
    const r = await execa(PULL, ['postgresql', 's3'], { env: { ...env, AIFB_SIF_CACHE: cache }, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls()).toEqual([
      ['pull', join(cache, 'postgresql.sif'), 'docker://postgres:16.4'],
      ['pull', join(cache, 'minio.sif'), 'docker://minio/minio:RELEASE.2024-10-13T13-34-11Z'],
    ]);
  });

  it('fails with the list of images that could not be pulled, after trying the rest', async () => {
    const { env, dir, calls, cache } = withFakeApptainer();
    const images = join(dir, 'images.txt');
    writeFileSync(images, '# test list\nbad docker://acme/does-not-exist:1\ngood docker://acme/fine:1\n');
    const r = await execa(PULL, ['--cache', cache], { env: { ...env, AIFB_IMAGES_FILE: images }, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/failed to pull: bad/);
    expect(calls().map((c) => c[2])).toEqual(['docker://acme/does-not-exist:1', 'docker://acme/fine:1']);
    expect(existsSync(join(cache, 'good.sif'))).toBe(true);
  });

  it('rejects an unknown type, naming the known ones', async () => {
    const { env } = withFakeApptainer();
    const r = await execa(PULL, ['vlm'], { env, reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown type "vlm".*vllm/);
  });

  it('without apptainer on PATH exits non-zero with the MeluXina hint', async () => {
    const dir = tempDir('aifb-pull-');
    const r = await execa(PULL, ['--cache', dir], { env: { PATH: '/usr/bin:/bin' }, extendEnv: false, reject: false });
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/module load Apptainer/);
  });

  it('prints help naming every catalog type', async () => {
    const r = await execa(PULL, ['--help']);
    expect(r.stdout).toMatch(/Usage: containers\/pull.sh \[--cache DIR\]/);
    for (const t of catalogTypes()) expect(r.stdout).toContain(` ${t} `);
  });
});
