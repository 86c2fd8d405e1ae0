// Shared fixtures for the store tests: real temp folders and resource texts with
// the comments, quoting and flow style users actually write.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempDir(prefix = 'aifb-store-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const benchmark = (name: string, serviceRef = 'nfs') => `apiVersion: aifb.io/v1alpha1
kind: Benchmark
metadata:
  name: ${name}
spec:
  serviceRef: ${serviceRef}
  workload:
    type: file-storage
  load:
    workers: 2
    duration: 10s
`;

export const service = (name: string) => `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  type: file-storage
  command: ["sleep", "1000"]
`;

/** Two resources with everything a careless byte-level rewrite would damage. */
export const TRICKY = `# Top comment: keep me
apiVersion: "aifb.io/v1alpha1"   # quoted on purpose
kind: 'Benchmark'
metadata: {name: fs-load, labels: {team: "storage"}}


spec:
  serviceRef: nfs
  workload: { type: file-storage }
  load:
    workers: 2      # two workers
    duration: "10s"
    # maxRequests: 100

# comment introducing the next document
---
# only a comment here
---
# second resource
apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: nfs
spec:
  type: file-storage
  command: ["sleep", '1000']   # odd quoting
`;
