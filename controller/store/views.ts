// Builds the resource views straight from the files and the state folder, for
// aifbctl when no controller is running. Reads only: nothing is created or moved.
import { API_VERSION, Status, type Condition } from '../api/schemas.js';
import { describeProblems } from '../../api/problems.js';
import type { ResourceView } from '../server/view.js';
import { MetaStore, type ResourceMeta } from './meta-store.js';
import { scanFolder, type FileError, type ParsedDoc } from './parse.js';
import { isRecord } from '../../api/records.js';

type Loose = Record<string, unknown>;

function labelsOf(raw: Loose): Record<string, string> | undefined {
  const labels = isRecord(raw.metadata) ? raw.metadata.labels : undefined;
  if (!isRecord(labels)) return undefined;
  return Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function statusOf(doc: ParsedDoc, now: Date): Status {
  if (doc.status !== undefined) {
    const parsed = Status.safeParse(doc.status);
    if (parsed.success) return parsed.data;
  }
  if (doc.validation.ok) return {};
  const invalid: Condition = {
    type: 'Valid',
    status: 'False',
    reason: 'InvalidSpec',
    message: describeProblems(doc.validation.problems),
    lastTransitionTime: now.toISOString(),
  };
  return { phase: 'Invalid', conditions: [invalid] };
}

/**
 * One resource's view. `status` is what the controller holds in memory, when it runs; otherwise
 * the status in the file, or for an invalid document with none an Invalid phase naming the problems.
 */
export function buildView(doc: ParsedDoc, meta: ResourceMeta | undefined, status?: Status, now: Date = new Date()): ResourceView {
  const raw = isRecord(doc.raw) ? doc.raw : {};
  // A spec edited since it was last observed gets the generation the controller will give it.
  const generation = meta && doc.specHash && meta.specHash !== doc.specHash ? meta.generation + 1 : meta?.generation;
  return {
    apiVersion: typeof raw.apiVersion === 'string' ? raw.apiVersion : API_VERSION,
    kind: doc.kind ?? '',
    metadata: {
      name: doc.name ?? '',
      file: doc.file,
      index: doc.index,
      uid: meta?.uid,
      generation,
      creationTimestamp: meta?.createdAt,
      labels: labelsOf(raw),
    },
    spec: raw.spec,
    status: status ?? statusOf(doc, now),
    events: meta?.events ?? [],
  };
}

/** What `aifbctl` shows when no controller runs: files plus the state folder, read without writing. */
export async function loadViewsFromDisk(
  resourcesDir: string,
  stateDir: string,
  opts: { now?: Date } = {},
): Promise<{ views: ResourceView[]; fileErrors: FileError[] }> {
  const now = opts.now ?? new Date();
  const { docs, fileErrors } = await scanFolder(resourcesDir);
  const meta = new MetaStore(stateDir, { readOnly: true, log: () => undefined });
  const views: ResourceView[] = [];
  const errors: FileError[] = [...fileErrors];
  for (const doc of docs) {
    if (!doc.key) {
      // Without kind and name there is no resource to show; the file's problem still must be seen.
      if (!doc.validation.ok) errors.push({ file: doc.file, message: `document ${doc.index + 1}: ${describeProblems(doc.validation.problems)}` });
      continue;
    }
    views.push(buildView(doc, meta.get(doc.key), undefined, now));
  }
  for (const w of meta.warnings) errors.push({ file: meta.dir, message: w });
  return { views, fileErrors: errors };
}
