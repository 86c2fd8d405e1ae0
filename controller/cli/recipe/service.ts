// The recipe keys that describe the server itself (port, host, URLs, image,
// environment, arguments, GPUs) as a Service's spec; for a workload without a
// Service (faiss, file-storage) they have nowhere to go and become warnings.
import { imageProblems } from '../../../containers/image-ref.js';
import type { EntryContext } from './entry.js';
import { describe, num, str, type Field } from './reader.js';
import type { Target } from './types.js';

export const SERVER_KEYS = ['port', 'host', 'service_url', 'endpoint_url', 'container_image', 'image', 'environment', 'env', 'args', 'gpus'] as const;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '0.0.0.0', '::1', '[::1]', '']);

/** Variables the catalog's containers take their credentials and database from: set through the Service's fields instead. */
const MANAGED_ENV: Record<string, { field: 'user' | 'database' | 'password'; types: string[] }> = {
  POSTGRES_USER: { field: 'user', types: ['postgresql'] },
  POSTGRES_DB: { field: 'database', types: ['postgresql'] },
  POSTGRES_PASSWORD: { field: 'password', types: ['postgresql'] },
  MINIO_ROOT_USER: { field: 'user', types: ['minio', 's3'] },
  MINIO_ROOT_PASSWORD: { field: 'password', types: ['minio', 's3'] },
  MINIO_ACCESS_KEY: { field: 'user', types: ['minio', 's3'] },
  MINIO_SECRET_KEY: { field: 'password', types: ['minio', 's3'] },
};
const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL/i;

interface Url {
  field: Field;
  url: URL;
}

function parseUrl(f: Field | undefined, ctx: EntryContext): Url | undefined {
  const text = str(f, ctx.p);
  if (text === undefined || !f) return undefined;
  try {
    return { field: f, url: new URL(text.includes('://') ? text : `http://${text}`) };
  } catch {
    return ctx.p.error(f.key, `"${text}" is not a URL; write it as http://host:port`);
  }
}

/** The secret was left out of the file on purpose; this says what aifb does instead. */
export function secretDropped(f: Field, what: string, ctx: EntryContext): void {
  ctx.p.warn(
    f.key,
    `${what} is a secret, and aifb never writes secrets into resource files; not carried over. When aifb starts the service it generates one (.aifb/services/<name>/credentials/password); to use your own, put it in a file only you can read and set the Service's spec.credentials.password: { file: /path/to/it }`,
  );
}

/** port, host, service_url (and endpoint_url for S3): the port is kept, the host is found by aifb. */
export function mapServer(ctx: EntryContext, target: Target, service: Record<string, unknown>, workload: Record<string, unknown>): void {
  const { s, p } = ctx;
  const portF = s.take('port');
  const port = num(portF, p, { integer: true, min: 1, max: 65535 });
  const hostF = s.take('host');
  const host = str(hostF, p);
  const urls = [parseUrl(s.take('service_url'), ctx), target.workload === 's3' ? parseUrl(s.take('endpoint_url'), ctx) : undefined].filter((u): u is Url => u !== undefined);

  if (target.service === 'http') {
    // aifb has no container for a plain HTTP server: the recipe's URL is where it already runs.
    const u = urls[0];
    if (!u) {
      p.error(`${ctx.key}.service_url`, 'is missing: an http service is one that already runs; give its URL, e.g. http://mel2345:8080/health');
      return;
    }
    const scheme = u.url.protocol.replace(/:$/, '');
    const urlPort = u.url.port ? Number(u.url.port) : scheme === 'https' ? 443 : 80;
    service.endpoint = { host: u.url.hostname, port: port ?? urlPort, ...(scheme === 'https' || scheme === 'http' ? { scheme } : {}) };
    ctx.serviceOrigins['spec.endpoint'] = u.field.key;
    if (u.url.pathname !== '/' || u.url.search) {
      workload.path = `${u.url.pathname}${u.url.search}`;
      ctx.benchmarkOrigins['spec.workload.path'] = u.field.key;
    }
    ctx.notes.push(`service_url: an http Service is one that already runs: spec.endpoint ${u.url.hostname}:${port ?? urlPort}; aifb launches nothing for it`);
    return;
  }

  let chosen = port;
  let chosenKey = portF?.key;
  for (const u of urls) {
    if (!u.url.port) continue;
    const urlPort = Number(u.url.port);
    if (chosen === undefined) {
      chosen = urlPort;
      chosenKey = u.field.key;
    } else if (urlPort !== chosen) p.warn(u.field.key, `its port ${urlPort} differs from ${chosenKey} (${chosen}); the Service listens on ${chosen}. Make them agree`);
  }
  if (chosen !== undefined && chosenKey) {
    service.port = chosen;
    ctx.serviceOrigins['spec.port'] = chosenKey;
  }
  const hosts: Array<{ key: string; host: string }> = [...(host !== undefined && hostF ? [{ key: hostF.key, host }] : []), ...urls.map((u) => ({ key: u.field.key, host: u.url.hostname }))];
  for (const h of hosts) {
    if (LOCAL_HOSTS.has(h.host.toLowerCase())) {
      ctx.notes.push(`${h.key.slice(h.key.lastIndexOf('.') + 1)}: ${h.host} is not needed: aifb starts the service and the benchmark finds it wherever SLURM places it (the Service's status.endpoint)`);
    } else {
      p.warn(
        h.key,
        `host ${h.host} not carried over: aifb starts the service itself and the benchmark finds it wherever SLURM places it. If a server already runs at ${h.host}, add endpoint: { host: ${h.host}, port: ${chosen ?? '<port>'} } to the Service's spec, and nothing is launched`,
      );
    }
  }
}

/** container_image, environment, args, gpus. */
export function mapContainer(ctx: EntryContext, target: Target, service: Record<string, unknown>): void {
  const { s, p } = ctx;
  const imageF = s.takeAny(['container_image', 'image']);
  const image = str(imageF, p);
  if (image !== undefined && imageF) {
    const problems = imageProblems(image, imageF.key);
    if (problems.length > 0) for (const pr of problems) p.error(imageF.key, pr.message);
    else {
      service.image = image;
      ctx.serviceOrigins['spec.image'] = imageF.key;
    }
  }

  const env: Record<string, string | { env: string }> = {};
  for (const name of ['environment', 'env']) {
    const sec = s.section(name, p);
    if (!sec) continue;
    for (const v of sec.names()) {
      const f = sec.take(v);
      if (!f) continue;
      if (typeof f.value === 'object') {
        p.error(f.key, `must be a text value (${describe(f.value)} given)`);
        continue;
      }
      const value = String(f.value);
      const managed = MANAGED_ENV[v];
      if (managed && target.service && managed.types.includes(target.service)) {
        if (managed.field === 'password') secretDropped(f, v, ctx);
        else if (managed.field === 'user') setCredentialUser(ctx, service, value, f.key);
        else {
          service.database = value;
          ctx.serviceOrigins['spec.database'] = f.key;
        }
        continue;
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) {
        p.error(f.key, `"${v}" is not an environment variable name; use letters, digits and "_", not starting with a digit`);
        continue;
      }
      if (SECRET_NAME.test(v)) {
        // The value stays out of the file: the service reads the variable from the controller's environment.
        env[v] = { env: v };
        p.warn(f.key, `looks like a secret, so its value was not written: the Service reads ${v} from the environment aifb runs in (env: { ${v}: { env: ${v} } }). Export ${v} before starting the controller`);
      } else env[v] = value;
      ctx.serviceOrigins[`spec.env.${v}`] = f.key;
    }
  }
  if (Object.keys(env).length > 0) service.env = env;

  const argsF = s.take('args');
  if (argsF) {
    const list = typeof argsF.value === 'string' ? argsF.value.trim().split(/\s+/) : argsF.value;
    if (Array.isArray(list) && list.every((a) => typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean')) {
      service.args = list.map(String);
      ctx.serviceOrigins['spec.args'] = argsF.key;
    } else p.error(argsF.key, `must be a list of arguments, e.g. [--max-model-len, "4096"] (${describe(argsF.value)} given)`);
  }

  const gpusF = s.take('gpus');
  const gpus = num(gpusF, p, { integer: true, min: 0 });
  if (gpus !== undefined && gpusF) {
    if (service.gpus !== undefined && service.gpus !== gpus) {
      p.warn(gpusF.key, `${gpus} disagrees with ${ctx.serviceOrigins['spec.gpus']} (${String(service.gpus)} GPUs); the Service gets ${String(service.gpus)}. Keep one of the two`);
    } else {
      service.gpus = gpus;
      ctx.serviceOrigins['spec.gpus'] = gpusF.key;
    }
  }
}

export function setCredentialUser(ctx: EntryContext, service: Record<string, unknown>, user: string, key: string): void {
  const credentials = (service.credentials ??= {}) as Record<string, unknown>;
  credentials.user = user;
  ctx.serviceOrigins['spec.credentials.user'] = key;
}

/** A workload that runs inside aifb's runner has no server to configure: each such key of the entry says so. */
export function warnNoServer(ctx: EntryContext, target: Target): void {
  const why = target.workload === 'faiss' ? "Faiss runs inside aifb's runner process" : "file storage is measured from aifb's runner process";
  for (const name of SERVER_KEYS) {
    // One inherited from global: is simply not used here (global: reports it if no service uses it).
    if (!ctx.s.hasOwn(name)) continue;
    ctx.s.consume(name);
    ctx.p.warn(ctx.s.keyOf(name), `not carried over: ${why}, so there is no Service to give it to. Remove it`);
  }
}
