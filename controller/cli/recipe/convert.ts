// Converts a recipe of the Python predecessor (the guide's section 5) into aifb
// resources: one Service and one Benchmark per service entry, each checked by
// the real schemas. Pure: text in, documents, file texts and warnings out.
import { isAbsolute, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_VERSION } from '../../../api/schemas.js';
import { serviceMismatch } from '../../../clients/registry.js';
import { VECTOR_OPERATIONS, vectorProblems, type VectorSettings } from '../../../clients/vector/schema.js';
import { parseResourceText } from '../../store/parse.js';
import type { EntryContext } from './entry.js';
import { LOAD_KEYS, mapLoad } from './load.js';
import { BENCHMARK_SUFFIX, dnsLabel, NameAllocator } from './names.js';
import { didYouMean, isMapping, Problems, RecipeError, Section, str, type RecipeProblem } from './reader.js';
import { renderFile } from './render.js';
import { mapContainer, mapServer, SERVER_KEYS, warnNoServer } from './service.js';
import { mapSlurm, SLURM_KEYS } from './slurm.js';
import { resolveType, type Target } from './types.js';
import { mapWorkload, WORKLOAD_KEYS } from './workloads.js';

export { RecipeError, type RecipeProblem } from './reader.js';

export interface ConvertOptions {
  /** The recipe's name, for the files' headers and annotations. Default: recipe.yml. */
  source?: string;
  /** The recipe's folder: a relative `reports_dir` is resolved against it. */
  baseDir?: string;
  /** Where the files will be written, for the commands in their headers (`imported/vllm.yaml`). */
  outDir?: string;
}

/** One service entry's resources, as the file `aifbctl import` writes. */
export interface ImportedFile {
  /** `<service>.yaml` */
  fileName: string;
  /** `services[2]` */
  entryKey: string;
  /** The Service's metadata.name; absent for workloads without a Service (faiss, file-storage). */
  serviceName?: string;
  benchmarkName: string;
  /** Header comment and YAML documents, validated as the controller will read them. */
  text: string;
  documents: object[];
}

export interface ConvertResult {
  /** Every produced resource, in recipe order: each entry's Service (if any), then its Benchmark. */
  documents: object[];
  /** Keys that were not carried over or need a look, each naming its recipe key and what to do. */
  warnings: RecipeProblem[];
  files: ImportedFile[];
}

/** Keys any service entry may have besides its type's own. */
const COMMON_KEYS = ['service_name', 'service_type', 'backend', 'slurm', 'description', 'pushgateway_url', 'reports_dir'] as const;

const GLOBAL_ONLY: Record<string, string> = {
  log_level:
    "not carried over: aifb has no log level to set. The controller logs what it does as it does it, `aifbctl describe benchmark NAME` shows each run's conditions and events, and the runner's own log is in its run folder (.aifb/runs/<benchmark>/<run>/). Remove it",
  metrics_db:
    'not carried over: aifb keeps every run in one SQLite database, .aifb/results.db beside the resources folder (tables runs, operations, timeseries, metrics); it is not set per recipe. Remove it',
  logs_dir:
    "not carried over: aifb keeps each run's logs in its run folder (.aifb/runs/<benchmark>/<run>/) and each service's in .aifb/services/<name>/. Remove it",
};

const TOP_LEVEL = ['benchmark', 'global', 'services'];

/** The order examples/*.yaml write a Service's fields in: what it is first, where it runs last. */
const SERVICE_ORDER = ['type', 'image', 'model', 'port', 'gpus', 'args', 'env', 'database', 'region', 'credentials', 'endpoint', 'slurm'];

function ordered(obj: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => rank(a) - rank(b)));
}

function parseRecipe(text: string, source: string): unknown {
  const list = parseAllDocuments(text);
  const docs = Array.isArray(list) ? list : [];
  const errors = docs.flatMap((d) => d.errors);
  if (errors.length > 0) {
    throw new RecipeError(
      errors.slice(0, 3).map((e) => {
        const pos = e.linePos?.[0];
        const short = e.message.split(/ at line \d+, column \d+/)[0].trim();
        return { key: '', message: `${source}${pos ? `: line ${pos.line}, column ${pos.col}` : ''}: not valid YAML: ${short}; fix the syntax` };
      }),
    );
  }
  const nonEmpty = docs.filter((d) => d.contents !== null);
  if (nonEmpty.length === 0) throw new RecipeError([{ key: '', message: `${source} is empty; a recipe has benchmark, global and services sections (the guide, section 5.2)` }]);
  if (nonEmpty.length > 1) throw new RecipeError([{ key: '', message: `${source} holds ${nonEmpty.length} YAML documents; a recipe is one (remove the "---" lines or split it)` }]);
  return nonEmpty[0].toJS({ maxAliasCount: 100 });
}

/** The recipe key a produced field came from: the field's own origin, or its nearest parent's, or the entry. */
function originOf(path: string, origins: Record<string, string>, fallback: string): string {
  let p = path;
  while (p) {
    if (origins[p]) return origins[p];
    const cut = p.search(/(\.[^.[\]]+|\[\d+\])$/);
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return fallback;
}

interface Suite {
  label?: string;
  name?: string;
  description?: string;
}

function readBenchmarkSection(b: Section | undefined, p: Problems): Suite {
  if (!b) return {};
  const name = str(b.take('name'), p);
  const description = str(b.take('description'), p);
  const duration = b.take('duration');
  if (duration) {
    p.warn(
      duration.key,
      "not carried over: aifb has no time budget for a whole suite; each Benchmark runs for its own spec.load.duration (from each service's duration). Remove it, or set each service's duration",
    );
  }
  for (const f of b.leftovers()) {
    const last = f.key.slice(f.key.lastIndexOf('.') + 1);
    p.warn(f.key, `unknown key in benchmark:, not carried over; it has name, description and duration${didYouMean(last, ['name', 'description', 'duration'])}`);
  }
  const label = name !== undefined ? dnsLabel(name) : undefined;
  return { label: label || undefined, name, description };
}

export function convertRecipe(text: string, opts: ConvertOptions = {}): ConvertResult {
  const source = opts.source ?? 'recipe.yml';
  const p = new Problems();
  const root = parseRecipe(text, source);

  let entries: unknown[];
  let listKey: string;
  let global: Section | undefined;
  let suite: Suite = {};
  if (Array.isArray(root)) {
    // A bare list of service entries, as the guide's section 5.3 shows them.
    entries = root;
    listKey = '';
  } else if (isMapping(root)) {
    const top = new Section('', root);
    global = top.section('global', p);
    suite = readBenchmarkSection(top.section('benchmark', p), p);
    for (const [k, why] of Object.entries(GLOBAL_ONLY)) {
      const f = global?.take(k);
      if (f) p.warn(f.key, why);
    }
    const servicesF = top.take('services');
    for (const f of top.leftovers(false)) {
      if (f.key === 'slurm') p.warn(f.key, 'not carried over: a slurm: block belongs under a service entry, or under global: to apply to every service. Move it there');
      else p.warn(f.key, `unknown section, not carried over; a recipe has ${TOP_LEVEL.join(', ')}${didYouMean(f.key, TOP_LEVEL)}`);
    }
    if (!servicesF) {
      throw new RecipeError([...p.errors, { key: 'services', message: 'is missing: list the services to benchmark, each with service_name and service_type (the guide, section 5.2)' }], p.warnings);
    }
    if (!Array.isArray(servicesF.value) || servicesF.value.length === 0) {
      throw new RecipeError([...p.errors, { key: 'services', message: 'must be a list with at least one service entry (- service_name: ..., service_type: ...)' }], p.warnings);
    }
    entries = servicesF.value;
    listKey = 'services';
  } else {
    throw new RecipeError([{ key: '', message: `${source} must be a mapping with benchmark, global and services sections (the guide, section 5.2), or a list of service entries` }]);
  }

  const names = new NameAllocator();
  const files: ImportedFile[] = [];
  entries.forEach((raw, i) => {
    const key = `${listKey}[${i}]`;
    if (!isMapping(raw)) {
      p.error(key, 'must be a mapping with service_name, service_type and its settings');
      return;
    }
    const file = convertEntry(new Section(key, raw, global), { source, baseDir: opts.baseDir, outDir: opts.outDir, suite, names, p });
    if (file) files.push(file);
  });

  // Whether a global setting is used is only known once every service converted.
  for (const f of p.errors.length > 0 ? [] : (global?.leftovers() ?? [])) {
    const last = f.key.slice(f.key.lastIndexOf('.') + 1);
    const known = f.key.startsWith('global.slurm.') ? SLURM_KEYS : [...Object.keys(GLOBAL_ONLY), ...COMMON_KEYS, ...SERVER_KEYS, ...LOAD_KEYS, ...Object.values(WORKLOAD_KEYS).flat()];
    p.warn(f.key, `no imported service uses it, so it was not carried over. Remove it, or check the spelling${didYouMean(last, known)}`);
  }

  if (p.errors.length > 0) throw new RecipeError(p.errors, p.warnings);
  if (files.length === 0) {
    throw new RecipeError([{ key: listKey || '[0]', message: 'nothing to import: no service entry could be converted (see the warnings above)' }], p.warnings);
  }
  return { documents: files.flatMap((f) => f.documents), warnings: p.warnings, files };
}

interface Shared {
  source: string;
  baseDir?: string;
  outDir?: string;
  suite: Suite;
  names: NameAllocator;
  p: Problems;
}

function convertEntry(s: Section, shared: Shared): ImportedFile | undefined {
  const { p } = shared;
  const key = s.key;
  const errorsBefore = p.errors.length;
  const resolved = resolveType(s.take('service_type'), s.take('backend'), key, p);
  if (!resolved) return undefined;
  if ('skip' in resolved) {
    p.warn(resolved.key, resolved.skip);
    return undefined;
  }
  const target = resolved.target;
  const ctx: EntryContext = { key, s, p, notes: [], serviceOrigins: {}, benchmarkOrigins: {} };
  if (target.note) ctx.notes.push(`service_type: ${target.note}`);

  const nameF = s.take('service_name');
  const rawName = str(nameF, p);
  let label = rawName !== undefined ? dnsLabel(rawName) : '';
  const fallback = dnsLabel(target.service ?? target.workload);
  if (!label) {
    label = fallback;
    if (rawName !== undefined) p.warn(nameF!.key, `"${rawName}" has no letters or digits to name resources by; they are named after the type (${fallback}). Set a service_name`);
    else p.warn(`${key}.service_name`, `is missing; the resources are named after the type (${fallback}). Set a service_name`);
  }
  const { name, renumbered } = shared.names.allocate(label);
  if (renumbered) p.warn(nameF?.key ?? `${key}.service_name`, `another service already has the name ${label}; this one is ${name}. Give each service its own service_name`);
  else if (rawName !== undefined && name !== rawName) {
    ctx.notes.push(`service_name: "${rawName}" is ${name} here (resource names are lowercase letters, digits and "-", at most ${63 - BENCHMARK_SUFFIX.length} characters to leave room for "${BENCHMARK_SUFFIX}")`);
  }
  const benchmarkName = `${name}${BENCHMARK_SUFFIX}`;

  const service: Record<string, unknown> = { type: target.service };
  const workload = mapWorkload(ctx, target, service);
  const slurm = mapSlurm(s.section('slurm', p), target.service !== undefined, p);
  if (target.service) {
    mapServer(ctx, target, service, workload);
    if (Object.keys(slurm.service).length > 0) {
      service.slurm = slurm.service;
      for (const [f, k] of Object.entries(slurm.serviceOrigins)) ctx.serviceOrigins[`spec.slurm.${f}`] = k;
    }
    if (slurm.gpus) {
      service.gpus = slurm.gpus.value;
      ctx.serviceOrigins['spec.gpus'] = slurm.gpus.key;
    }
    mapContainer(ctx, target, service);
  } else warnNoServer(ctx, target);

  const load = mapLoad(ctx);
  const runner: Record<string, unknown> = {};
  if (slurm.nodes) {
    runner.nodes = slurm.nodes.value;
    ctx.benchmarkOrigins['spec.runner.nodes'] = slurm.nodes.key;
  }
  if (slurm.tasksPerNode) {
    runner.tasksPerNode = slurm.tasksPerNode.value;
    ctx.benchmarkOrigins['spec.runner.tasksPerNode'] = slurm.tasksPerNode.key;
  }
  if (Object.keys(slurm.runner).length > 0) {
    runner.slurm = slurm.runner;
    for (const [f, k] of Object.entries(slurm.runnerOrigins)) ctx.benchmarkOrigins[`spec.runner.slurm.${f}`] = k;
    if (target.service) {
      ctx.notes.push("slurm: the Service's job gets all of it; the load generator's job (spec.runner.slurm) gets the partition, account, qos and time, not the server's GPUs or memory. It needs no GPU: a cpu partition will do");
    }
  }

  const bspec: Record<string, unknown> = { ...(target.service ? { serviceRef: name } : {}), workload, load };
  if (Object.keys(runner).length > 0) bspec.runner = runner;
  mapOutputs(ctx, bspec, benchmarkName, shared);

  const annotations: Record<string, string> = { 'aifb.io/imported-from': `${shared.source} ${key}` };
  const descF = s.take('description');
  // The suite's own description is in every file's header; a service's goes with its Benchmark.
  const description = str(descF, p);
  const meta = (n: string, extra: Record<string, string> = {}) => ({
    name: n,
    ...(shared.suite.label ? { labels: { suite: shared.suite.label } } : {}),
    annotations: { ...annotations, ...extra },
  });

  for (const f of s.leftovers()) {
    const last = f.key.slice(f.key.lastIndexOf('.') + 1);
    if (f.key.startsWith(`${key}.slurm.`)) {
      p.warn(f.key, `not a SLURM setting aifb knows, so not carried over. Check the spelling${didYouMean(last, SLURM_KEYS)}, or put the sbatch option in spec.slurm.extraDirectives ("--option=value")`);
    } else {
      const known = [...COMMON_KEYS, ...LOAD_KEYS, ...(target.service ? SERVER_KEYS : []), ...WORKLOAD_KEYS[target.workload]];
      p.warn(f.key, `unknown key for a ${target.workload} service, so not carried over. Remove it, or check the spelling${didYouMean(last, known)}`);
    }
  }
  if (p.errors.length > errorsBefore) return undefined;

  const documents: object[] = [];
  if (target.service) documents.push({ apiVersion: API_VERSION, kind: 'Service', metadata: meta(name), spec: ordered(service, SERVICE_ORDER) });
  documents.push({ apiVersion: API_VERSION, kind: 'Benchmark', metadata: meta(benchmarkName, description ? { description } : {}), spec: bspec });
  const fileName = `${name}.yaml`;
  const warnings = p.warnings.filter((w) => w.key === key || w.key.startsWith(`${key}.`));
  const text = renderFile(
    {
      source: shared.source,
      entryKey: key,
      serviceName: rawName,
      filePath: shared.outDir !== undefined ? join(shared.outDir, fileName) : fileName,
      suite: { name: shared.suite.name, description: shared.suite.description },
      notes: ctx.notes,
      warnings,
    },
    documents,
  );
  checkDocuments(text, fileName, documents, ctx, target);
  if (p.errors.length > errorsBefore) return undefined;
  return { fileName, entryKey: key, ...(target.service ? { serviceName: name } : {}), benchmarkName, text, documents };
}

/** pushgateway_url and reports_dir: where the Benchmark's results go besides the default. */
function mapOutputs(ctx: EntryContext, bspec: Record<string, unknown>, benchmarkName: string, shared: Shared): void {
  const { s, p } = ctx;
  const pushF = s.take('pushgateway_url');
  const push = str(pushF, p);
  if (push !== undefined && pushF) {
    bspec.pushgateway = push;
    ctx.benchmarkOrigins['spec.pushgateway'] = pushF.key;
    if (/\/\/(localhost|127\.0\.0\.1)\b/.test(push)) {
      ctx.notes.push("pushgateway_url: the controller pushes each finished run there; localhost is the controller's own host. On a cluster give the monitoring node (http://mel2345:9091), or run a MonitoringStack and set pushgateway: { monitoringStackRef: NAME }");
    }
  }
  const reportsF = s.take('reports_dir');
  const reports = str(reportsF, p);
  if (reports === undefined || !reportsF) return;
  if (reports.replace(/^\.\//, '').replace(/\/+$/, '') === 'reports') {
    ctx.notes.push('reports_dir: reports is where aifb puts them already: reports/<benchmark>/<run>/ beside the resources folder');
    return;
  }
  const base = isAbsolute(reports) ? reports : shared.baseDir ? resolve(shared.baseDir, reports) : undefined;
  bspec.reports = { dir: join(base ?? reports, benchmarkName) };
  ctx.benchmarkOrigins['spec.reports.dir'] = reportsF.key;
  if (!base) p.warn(reportsF.key, `a relative folder would be read from wherever the controller runs; the reports go to ${join(reports, benchmarkName)} from there. Give an absolute path to be sure`);
}

/** Reads the file back as the controller will, and checks what the schemas leave to the client; each problem is named by its recipe key. */
function checkDocuments(text: string, fileName: string, documents: object[], ctx: EntryContext, target: Target): void {
  const parsed = parseResourceText(text, fileName);
  if (parsed.length !== documents.length) {
    ctx.p.error(ctx.key, `internal error: ${documents.length} resources written, ${parsed.length} read back; please report this recipe`);
    return;
  }
  parsed.forEach((doc) => {
    const origins = doc.kind === 'Service' ? ctx.serviceOrigins : ctx.benchmarkOrigins;
    const v = doc.validation;
    if (!v.ok) {
      for (const prob of v.problems) ctx.p.error(originOf(prob.path, origins, ctx.key), `${prob.message} (in ${doc.kind} ${doc.name ?? ''}: ${prob.path || 'the document'})`);
      return;
    }
    if (v.kind !== 'Benchmark') return;
    const spec = v.resource.spec as { workload: { type: string } };
    if (target.workload === 'faiss' || target.workload === 'chromadb' || target.workload === 'weaviate') {
      // The schemas leave these to the client, which would only find them when the run starts.
      for (const prob of vectorProblems(spec.workload as unknown as VectorSettings, VECTOR_OPERATIONS)) {
        const path = `spec.${prob.path}`;
        ctx.p.error(originOf(path, origins, ctx.key), `${prob.message} (in Benchmark ${doc.name ?? ''}: ${path})`);
      }
    }
    if (target.service) {
      const mismatch = serviceMismatch(spec.workload, target.service);
      if (mismatch) ctx.p.error(`${ctx.key}.service_type`, mismatch);
    }
  });
}
