// Which Apptainer failures end a launch for good (BadImage) and which are retried:
// real error lines, as Apptainer and Singularity print them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBadImage, launchEnded, readEndpoint, writtenBy } from '../../../controller/reconcile/endpoint.js';
import type { Launched } from '../../../controller/executor/types.js';

const CHECKSUM = 'FATAL:   While making image from oci registry: error fetching image to cache: failed to get checksum for docker://x/y:z';

const FINAL: Record<string, string> = {
  'unknown tag': `${CHECKSUM}: reading manifest z in docker.io/x/y: manifest unknown`,
  'unknown repository (quay, harbor)': `${CHECKSUM}: reading manifest z in quay.io/x/y: name unknown: repository name not known to registry`,
  'registry 404': `${CHECKSUM}: reading manifest z in registry.example.org/x/y: StatusCode: 404, 404 page not found`,
  'missing local .sif': 'FATAL:   could not open image /scratch/images/vllm.sif: failed to retrieve path for /scratch/images/vllm.sif: lstat /scratch/images/vllm.sif: no such file or directory',
  'library image that does not exist': 'FATAL:   Unable to get image: image does not exist in the library: library/default/nosuch (amd64)',
  'private image without login': [
    `${CHECKSUM}: reading manifest z in docker.io/x/y: errors:`,
    'denied: requested access to the resource is denied',
    'unauthorized: authentication required',
  ].join(' | '),
  'wrong registry password': `${CHECKSUM}: unable to retrieve auth token: invalid username/password: unauthorized: incorrect username or password`,
  'old Singularity, not authorized': `FATAL:   Unable to handle docker://x/y:z uri: failed to get SHA of docker://x/y:z: reading manifest z in docker.io/x/y: unauthorized: authentication required`,
  'aifb stand-in': 'FATAL: could not pull image docker://example.org/does-not-exist:1: image does not exist or access denied (aifb stand-in)',
};

const RETRYABLE: Record<string, string> = {
  'pull rate limit': `${CHECKSUM}: reading manifest z in docker.io/x/y: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
  'container creation': 'FATAL:   container creation failed: mount /proc/self/fd/3->/usr/local/var/apptainer/mnt/session/rootfs error: while mounting image /proc/self/fd/3: failed to find loop device: could not attach image file to loop device: no loop devices available',
  'full disk while building the SIF': 'FATAL:   While making image from oci registry: error fetching image to cache: while building SIF from layers: packer failed to pack: while unpacking tmpfs: error unpacking rootfs: unpack entry: usr/lib/libx.so: write /tmp/build-temp-1/rootfs/usr/lib/libx.so: no space left on device',
  'full cache on pull': `${CHECKSUM}: writing blob: storing blob to file "/home/u/.apptainer/cache/blob/sha256:ab": write /home/u/.apptainer/cache/blob/sha256:ab: no space left on device`,
  'registry unreachable': `${CHECKSUM}: pinging container registry registry-1.docker.io: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: i/o timeout`,
  'registry hiccup': `${CHECKSUM}: reading manifest z in docker.io/x/y: received unexpected HTTP status: 503 Service Unavailable`,
  'mount refused on the node': 'FATAL:   container creation failed: mount /scratch->/scratch error: while mounting /scratch: permission denied',
  'program missing in the image': 'FATAL:   "vllm": executable file not found in $PATH',
  'the program itself, not Apptainer': 'Error: model not found: meta-llama/nosuch | access denied for user "bench"',
};

describe('isBadImage', () => {
  it.each(Object.entries(FINAL))('final: %s', (_, tail) => expect(isBadImage(tail)).toBe(true));
  it.each(Object.entries(RETRYABLE))('retryable: %s', (_, tail) => expect(isBadImage(tail)).toBe(false));
});

describe('launchEnded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-endpoint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const launched: Launched = { id: 'x', ref: { kind: 'Service', name: 's', uid: 'u', generation: 1, attempt: 1, role: 'service' }, dir, startedAt: '' };

  it('fails for good on an image that does not exist, and retries a rate limit', () => {
    const exited = { state: 'exited' as const, exitCode: 255, retryable: true };
    writeFileSync(join(dir, 'service.stderr.log'), `INFO:    Converting OCI blobs to SIF format\n${FINAL['unknown tag']}\n`);
    expect(launchEnded(launched, exited, 'service s', 'StartFailed')).toMatchObject({ reason: 'BadImage', retryable: false });
    writeFileSync(join(dir, 'service.stderr.log'), `${RETRYABLE['pull rate limit']}\n`);
    expect(launchEnded(launched, exited, 'service s', 'StartFailed')).toMatchObject({ reason: 'StartFailed', retryable: true });
  });

  it('fails for good, saying where to load it, when the job cannot find a program (exit 127 or 126)', () => {
    writeFileSync(join(dir, 'service.stderr.log'), '/var/spool/slurmd/job00042/slurm_script: line 19: apptainer: command not found\n');
    for (const exitCode of [127, 126]) {
      const failure = launchEnded(launched, { state: 'exited', exitCode, retryable: true }, 'service s', 'StartFailed');
      expect(failure).toMatchObject({ reason: 'ProgramNotFound', retryable: false });
      expect(failure.message).toContain('load it in slurm.setup (e.g. module load Apptainer) or controller run --job-setup');
      expect(failure.message).toContain('apptainer: command not found');
    }
    expect(launchEnded(launched, { state: 'exited', exitCode: 1, retryable: true }, 'service s', 'StartFailed')).toMatchObject({ reason: 'StartFailed', retryable: true });
  });
});

describe('whose endpoint record it is', () => {
  const ref = { kind: 'Service', name: 's', uid: 'u', generation: 1, attempt: 1, role: 'service' } as const;
  const local: Launched = { id: 'service.s.g1.a1.service', ref, dir: '/d', startedAt: '', pids: [100] };
  const job: Launched = { ...local, pids: undefined, jobId: '42' };
  const record = { host: 'n1', port: 41000, launchId: 'service.s.g1.a1.service' };

  it("is this launch's when it names the launch and the SLURM job, or locally the process the executor started", () => {
    expect(writtenBy({ ...record, jobId: '42', pid: 7 }, job)).toBe(true);
    expect(writtenBy({ ...record, pid: 100 }, local)).toBe(true);
  });

  it('is not when another job, another process or another launch wrote it, or it does not say', () => {
    expect(writtenBy({ ...record, jobId: '41', pid: 7 }, job)).toBe(false);
    expect(writtenBy({ ...record, pid: 7 }, job)).toBe(false);
    expect(writtenBy({ ...record, pid: 101 }, local)).toBe(false);
    expect(writtenBy({ ...record, launchId: 'service.s.g1.a2.service', pid: 100 }, local)).toBe(false);
    expect(writtenBy({ host: 'n1', port: 41000 }, local)).toBe(false);
  });

  it('reads nothing while there is no file, and names the file that is not a record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-endpoint-record-'));
    try {
      expect(readEndpoint(join(dir, 'endpoint.json'))).toBeUndefined();
      writeFileSync(join(dir, 'endpoint.json'), JSON.stringify({ host: 'n1', port: 'eighty' }));
      expect(() => readEndpoint(join(dir, 'endpoint.json'))).toThrow(/endpoint\.json is not an endpoint record: port: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
