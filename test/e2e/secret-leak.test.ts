// Secrets travel as references only. A user's password files hold planted,
// unique strings; services the controller starts natively use them (and
// generated ones), benchmarks run against them, and then every file the
// controller, services and runners wrote, every API answer, every aifbctl
// output, the controller's log and every command line are searched for them.
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aifbctl, api, killLaunches, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';
import { Client, s3sdk } from './server-clients.js';

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  if (ws) killLaunches(ws);
  controller = undefined;
  ws = undefined;
});

/** Every regular file under dir (symlinks and sockets are not followed or read). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The files under dir whose bytes contain needle anywhere (binary files included: SQLite, WAL, PostgreSQL's data). */
function filesContaining(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle);
  return filesUnder(dir).filter((f) => {
    try {
      return readFileSync(f).includes(bytes);
    } catch (e) {
      // A file removed between listing and reading (a WAL checkpoint, a temp file) held nothing we can see.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  });
}

/** The command lines of every process on this host that holds needle. */
function commandLinesContaining(needle: string): string[] {
  const hits: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) hits.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return hits;
}

const plant = () => `planted-${randomBytes(12).toString('hex')}`;

describe('secrets stay references', () => {
  it("appear nowhere but in the user's own files and the generated password files: not in status, events, logs, reports, run folders, API or command lines", async () => {
    // The user's secrets, outside the workspace, as a user keeps them.
    const home = mkdtempSync(join(tmpdir(), 'aifb-user-secrets-'));
    const pgPassword = plant();
    const s3Secret = plant();
    const pgFile = join(home, 'pg-password');
    const s3File = join(home, 's3-secret');
    writeFileSync(pgFile, `${pgPassword}\n`, { mode: 0o600 });
    writeFileSync(s3File, `${s3Secret}\n`, { mode: 0o600 });
    // The search finds what is there: without this, a search that never matches would pass.
    expect(filesContaining(home, pgPassword)).toEqual([pgFile]);

    ws = workspace();
    controller = await startController(ws);
    const readiness = '  readiness: { interval: 500ms, timeout: 2m }\n';
    writeFileSync(
      join(ws.resources, 'services.yaml'),
      [
        `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: pg\nspec:\n  type: postgresql\n  credentials: { user: bench, password: { file: ${pgFile} } }\n${readiness}`,
        `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: pg-generated\nspec:\n  type: postgresql\n${readiness}`,
        `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: objects\nspec:\n  type: minio\n  credentials: { user: bench, password: { file: ${s3File} } }\n${readiness}`,
        `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: objects-generated\nspec:\n  type: s3\n${readiness}`,
      ].join('---\n'),
    );
    // The workloads that use the secrets: PostgreSQL with the user's password, S3 with the user's key (a Service and
    // an inline one owned by its benchmark), and PostgreSQL with the generated password.
    const load = '  load: { mode: closed, workers: 2, duration: 2s }\n  reports: { formats: [json, csv, html, prometheus] }\n';
    const s3 = '  workload: { type: s3, bucket: leak-bench, prefill: 2 }\n';
    writeFileSync(
      join(ws.resources, 'benchmarks.yaml'),
      [
        `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: against-pg\nspec:\n  serviceRef: pg\n  workload: { type: postgresql, rows: 100 }\n${load}`,
        `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: against-pg-generated\nspec:\n  serviceRef: pg-generated\n  workload: { type: postgresql, rows: 100 }\n${load}`,
        `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: against-objects\nspec:\n  serviceRef: objects\n${s3}${load}`,
        `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: inline-s3\nspec:\n  service:\n    type: s3\n    credentials: { user: bench, password: { file: ${s3File} } }\n    readiness: { interval: 500ms }\n${s3}${load}`,
      ].join('---\n'),
    );

    const services = ['pg', 'pg-generated', 'objects', 'objects-generated'];
    const endpoints: Record<string, { host: string; port: number; credentials: { user: string; password: { file: string } } }> = {};
    for (const name of services) {
      endpoints[name] = await until(`${name} Ready`, async () => {
        const { body } = await api(controller!.url, `/api/v1/services/${name}`);
        if (body.status?.phase === 'Failed') throw new Error(`${name} failed: ${body.status.message}`);
        return body.status?.phase === 'Ready' ? body.status.endpoint : undefined;
      }, 120_000, 300);
    }
    for (const name of ['against-pg', 'against-pg-generated', 'against-objects', 'inline-s3']) {
      const status = await until(`${name} Succeeded`, async () => {
        const { body } = await api(controller!.url, `/api/v1/benchmarks/${name}`);
        if (body.status?.phase === 'Failed') throw new Error(`${name} failed: ${body.status.message}`);
        return body.status?.phase === 'Succeeded' ? body.status : undefined;
      }, 60_000, 300);
      // The secrets did their work: every request authenticated.
      expect(status.results.requests, name).toBeGreaterThan(0);
      expect(status.results.errors, name).toBe(0);
    }
    // The planted secrets are the real ones: the services accept them (so finding them nowhere means something).
    const generatedPg = readFileSync(endpoints['pg-generated'].credentials.password.file, 'utf8').trim();
    const generatedS3 = readFileSync(endpoints['objects-generated'].credentials.password.file, 'utf8').trim();
    for (const [name, password] of [['pg', pgPassword], ['pg-generated', generatedPg]] as const) {
      const { host, port, credentials } = endpoints[name];
      const client = new Client({ host, port, user: credentials.user, password, database: 'aifb' });
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
    }
    for (const [name, secret] of [['objects', s3Secret], ['objects-generated', generatedS3]] as const) {
      const { host, port, credentials } = endpoints[name];
      const s3 = new s3sdk.S3Client({ endpoint: `http://${host}:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: credentials.user, secretAccessKey: secret } });
      await s3.send(new s3sdk.CreateBucketCommand({ Bucket: 'leak-check' }));
    }
    await until('statuses in the resource files', () => {
      const docs = readFileSync(join(ws!.resources, 'services.yaml'), 'utf8').split(/^---$/m).map((d) => parse(d));
      return docs.every((d) => d.status?.phase === 'Ready') ? true : undefined;
    }, 20_000);

    const secrets: Record<string, string> = { 'the planted PostgreSQL password': pgPassword, 'the planted S3 secret': s3Secret, 'the generated PostgreSQL password': generatedPg, 'the generated S3 secret': generatedS3 };
    // Where each may be: the user's secrets only in the user's files (outside the workspace), a generated one only in its own file.
    const allowed: Record<string, string[]> = {
      'the planted PostgreSQL password': [],
      'the planted S3 secret': [],
      'the generated PostgreSQL password': [endpoints['pg-generated'].credentials.password.file],
      'the generated S3 secret': [endpoints['objects-generated'].credentials.password.file],
    };
    expect(allowed['the generated PostgreSQL password'][0]).toBe(join(ws.state, 'services', 'pg-generated', 'credentials', 'password'));

    // Every command line now, while everything runs: services, the controller.
    for (const [what, secret] of Object.entries(secrets)) expect(commandLinesContaining(secret), what).toEqual([]);
    // The PostgreSQL server itself never has the password in its environment (initdb read it from a file).
    const postmaster = readFileSync(join(ws.state, 'services', 'pg', 'g1-a1', 'data', 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0];
    expect(readFileSync(`/proc/${postmaster}/environ`).includes(Buffer.from(pgPassword))).toBe(false);

    // Every API answer and aifbctl output.
    const answers: string[] = [];
    for (const path of ['/healthz', '/api/v1/problems', '/api/v1/services', '/api/v1/benchmarks', '/api/v1/monitoringstacks', ...services.map((s) => `/api/v1/services/${s}`), '/api/v1/benchmarks/against-objects', '/api/v1/benchmarks/inline-s3']) {
      const res = await fetch(`${controller.url}${path}`);
      expect(res.status, path).toBe(200);
      answers.push(`${path}: ${await res.text()}`);
    }
    for (const args of [['get', 'all', '-o', 'yaml'], ['get', 'all', '-o', 'json'], ['get', 'services', '-o', 'wide'], ['describe', 'benchmark', 'against-objects'], ['describe', 'benchmark', 'inline-s3']]) {
      const out = await aifbctl(ws, args);
      expect(out.code, args.join(' ')).toBe(0);
      answers.push(out.stdout, out.stderr);
    }
    // The answers are about these resources (an empty answer would hide nothing).
    expect(answers.join('\n')).toContain(endpoints.pg.credentials.password.file);

    const check = (when: string) => {
      for (const [what, secret] of Object.entries(secrets)) {
        expect(filesContaining(ws!.dir, secret), `${what}, ${when}: files`).toEqual(allowed[what]);
        expect(controller!.logs().includes(secret), `${what}, ${when}: controller log`).toBe(false);
      }
    };
    for (const [what, secret] of Object.entries(secrets)) expect(answers.filter((a) => a.includes(secret)), `${what}: API and aifbctl`).toEqual([]);
    check('while running');

    // Deleted, stopped, and the controller shut down: what is left behind holds none either.
    rmSync(join(ws.resources, 'benchmarks.yaml'));
    rmSync(join(ws.resources, 'services.yaml'));
    for (const name of services) {
      await until(`${name} gone`, async () => ((await api(controller!.url, `/api/v1/services/${name}`)).status === 404 ? true : undefined), 60_000);
    }
    await stopProcess(controller.child);
    check('after delete and shutdown');
    // The workspace held real outputs: reports of both benchmarks, their run folders, the services' logs.
    const written = filesUnder(ws.dir).map((f) => f.slice(ws!.dir.length + 1));
    for (const expected of [/^reports\/against-objects\/.*-report\.html$/, /^reports\/inline-s3\/.*\.prom$/, /^\.aifb\/runs\/against-objects\/.*\/spec\.json$/, /^\.aifb\/services\/pg\/g1-a1\/service\.stderr\.log$/, /^\.aifb\/services\/pg\/g1-a1\/data\/pgdata\/global\/pg_control$/]) {
      expect(written.some((f) => expected.test(f)), String(expected)).toBe(true);
    }
    expect(lstatSync(pgFile).isFile()).toBe(true);
  }, 300_000);
});
