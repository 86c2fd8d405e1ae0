// Under SLURM the controller takes catalog images only from the SIF cache
// (containers/pull.sh fills it): tests of SLURM launches get a cache holding
// every catalog image, as empty files, for as long as their file runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { catalogTypes, sifPath } from '../../../containers/catalog.js';

export function useFullSifCache(): { dir: () => string } {
  let dir = '';
  let before: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aifb-sif-'));
    for (const type of catalogTypes()) writeFileSync(sifPath(dir, type), '');
    before = process.env.AIFB_SIF_CACHE;
    process.env.AIFB_SIF_CACHE = dir;
  });
  afterAll(() => {
    if (before === undefined) delete process.env.AIFB_SIF_CACHE;
    else process.env.AIFB_SIF_CACHE = before;
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir: () => dir };
}
