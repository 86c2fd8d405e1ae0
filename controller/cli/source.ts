// Picks where aifbctl reads resources from: the controller's status API when it
// answers within a second, else the resource files and state folder on disk.
import { request } from 'undici';
import type { Kind } from '../api/schemas.js';
import type { FileError } from '../store/parse.js';
import { loadViewsFromDisk } from '../store/views.js';
import { pluralOf, type ResourceSource, type ResourceView } from '../server/view.js';

export interface SourceOptions {
  resourcesDir: string;
  stateDir: string;
  serverUrl: string;
  /** How long the API may take to answer the probe before the CLI reads the files itself. */
  probeTimeoutMs?: number;
  /** Budget for each API call once the API has answered. */
  requestTimeoutMs?: number;
}

export interface OpenedSource {
  source: ResourceSource;
  origin: 'api' | 'disk';
  /** Files the controller (or the disk read) could not use. */
  problems(): Promise<FileError[]>;
}

async function getJson(url: string, timeoutMs: number): Promise<{ statusCode: number; body: unknown }> {
  const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.body.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  return { statusCode: res.statusCode, body };
}

function apiMessage(body: unknown): string {
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? m : JSON.stringify(body);
}

export class ApiSource implements ResourceSource {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async list(kind: Kind): Promise<ResourceView[]> {
    const url = `${this.baseUrl}/api/v1/${pluralOf(kind)}`;
    const { statusCode, body } = await getJson(url, this.timeoutMs);
    if (statusCode !== 200) throw new Error(`the status API at ${url} answered ${statusCode}: ${apiMessage(body)}`);
    return ((body as { items?: ResourceView[] }).items ?? []) as ResourceView[];
  }

  async get(kind: Kind, name: string): Promise<ResourceView | undefined> {
    const url = `${this.baseUrl}/api/v1/${pluralOf(kind)}/${encodeURIComponent(name)}`;
    const { statusCode, body } = await getJson(url, this.timeoutMs);
    if (statusCode === 404) return undefined;
    if (statusCode !== 200) throw new Error(`the status API at ${url} answered ${statusCode}: ${apiMessage(body)}`);
    return body as ResourceView;
  }

  async problems(): Promise<FileError[]> {
    const { statusCode, body } = await getJson(`${this.baseUrl}/api/v1/problems`, this.timeoutMs);
    return statusCode === 200 ? (((body as { items?: FileError[] }).items ?? []) as FileError[]) : [];
  }
}

/** Reads the files once per open, so a watch sees edits by reopening. */
export class DiskSource implements ResourceSource {
  private loaded?: Promise<{ views: ResourceView[]; fileErrors: FileError[] }>;

  constructor(
    private readonly resourcesDir: string,
    private readonly stateDir: string,
  ) {}

  private load() {
    this.loaded ??= loadViewsFromDisk(this.resourcesDir, this.stateDir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      const message = 'the resources folder does not exist; create it, or point --resources (or AIFB_RESOURCES) at yours';
      return { views: [], fileErrors: [{ file: this.resourcesDir, message }] };
    });
    return this.loaded;
  }

  async list(kind: Kind): Promise<ResourceView[]> {
    return (await this.load()).views.filter((v) => v.kind === kind);
  }

  async get(kind: Kind, name: string): Promise<ResourceView | undefined> {
    return (await this.load()).views.find((v) => v.kind === kind && v.metadata.name === name);
  }

  async problems(): Promise<FileError[]> {
    return (await this.load()).fileErrors;
  }
}

/** True when something that speaks the aifb status API answers at baseUrl. */
export async function apiReachable(baseUrl: string, timeoutMs: number): Promise<boolean> {
  try {
    const { statusCode, body } = await getJson(`${baseUrl}/healthz`, timeoutMs);
    // 503 still means the API is serving; only its health check is failing.
    return (statusCode === 200 || statusCode === 503) && typeof body === 'object' && body !== null && 'status' in body;
  } catch {
    return false;
  }
}

export async function openSource(opts: SourceOptions): Promise<OpenedSource> {
  if (await apiReachable(opts.serverUrl, opts.probeTimeoutMs ?? 1_000)) {
    const api = new ApiSource(opts.serverUrl, opts.requestTimeoutMs);
    return { source: api, origin: 'api', problems: () => api.problems() };
  }
  const disk = new DiskSource(opts.resourcesDir, opts.stateDir);
  return { source: disk, origin: 'disk', problems: () => disk.problems() };
}
