// Resource file texts and temp folders for the tests of the verbs that touch
// the resources folder (apply, delete, validate).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function benchmarkYaml(name: string, extra = ''): string {
  return `apiVersion: aifb.io/v1alpha1
kind: Benchmark
metadata:
  name: ${name}
spec:
  workload:
    type: file-storage
  load:
    workers: 2
    duration: ${extra || '5s'}
`;
}

export function serviceYaml(name: string): string {
  return `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  type: http
  endpoint:
    port: 8080
`;
}

export interface TempDirs {
  root: string;
  resources: string;
  /** Writes a file under root (not the resources folder) and returns its path. */
  write(name: string, text: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function tempDirs(): Promise<TempDirs> {
  const root = await mkdtemp(path.join(tmpdir(), 'aifbctl-'));
  return {
    root,
    resources: path.join(root, 'resources'),
    async write(name, text) {
      const p = path.join(root, name);
      await writeFile(p, text);
      return p;
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
