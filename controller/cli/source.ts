// Picks where aifbctl reads resources from: the controller's status API when it
// answers within a second, else the resource files and state folder on disk.
import { Agent, request, type Dispatcher } from 'undici';
import type { Kind } from '../api/schemas.js';
import type { FileError } from '../store/parse.js';
import { loadViewsFromDisk } from '../store/views.js';
import { pluralOf, type ResourceSource, type ResourceView } from '../server/view.js';

export interface SourceOptions {
  resourcesDir: string;
  stateDir: string;
  serverUrl: string;
  /** Bearer token for a protected API, and where it came from (for the message of a 401). */
  token?: string;
  tokenSource?: string;
  /** CA certificate to trust for HTTPS. */
  ca?: Buffer;
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

/** How aifbctl talks to the API: its token, its trust. */
export interface ApiAccess {
  token?: string;
  tokenSource?: string;
  dispatcher?: Dispatcher;
}

export function apiAccess(opts: Pick<SourceOptions, 'token' | 'tokenSource' | 'ca'>): ApiAccess {
  return { token: opts.token, tokenSource: opts.tokenSource, ...(opts.ca ? { dispatcher: new Agent({ connect: { ca: opts.ca } }) } : {}) };
}

async function getJson(url: string, timeoutMs: number, access: ApiAccess = {}): Promise<{ statusCode: number; body: unknown }> {
  const res = await request(url, {
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
    ...(access.token ? { headers: { authorization: `Bearer ${access.token}` } } : {}),
    ...(access.dispatcher ? { dispatcher: access.dispatcher } : {}),
  });
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

/** What to tell a user whose request the API refused for want of a token: which token was sent, and the ways to give one. */
function refused(url: string, access: ApiAccess): Error {
  const sent = access.token ? `aifbctl sent ${access.tokenSource ?? 'a token'}, and it is not the controller's` : `aifbctl found ${access.tokenSource ?? 'no token'}`;
  return new Error(
    `the status API at ${url} wants a bearer token (HTTP 401); ${sent}. Pass --token-file FILE (the controller's <state>/api-token, or the file its --token-file names) or set AIFB_TOKEN_FILE`,
  );
}

export class ApiSource implements ResourceSource {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
    private readonly access: ApiAccess = {},
  ) {}

  private async get_(url: string): Promise<{ statusCode: number; body: unknown }> {
    const answer = await getJson(url, this.timeoutMs, this.access);
    if (answer.statusCode === 401) throw refused(url, this.access);
    return answer;
  }

  async list(kind: Kind): Promise<ResourceView[]> {
    const url = `${this.baseUrl}/api/v1/${pluralOf(kind)}`;
    const { statusCode, body } = await this.get_(url);
    if (statusCode !== 200) throw new Error(`the status API at ${url} answered ${statusCode}: ${apiMessage(body)}`);
    return ((body as { items?: ResourceView[] }).items ?? []) as ResourceView[];
  }

  async get(kind: Kind, name: string): Promise<ResourceView | undefined> {
    const url = `${this.baseUrl}/api/v1/${pluralOf(kind)}/${encodeURIComponent(name)}`;
    const { statusCode, body } = await this.get_(url);
    if (statusCode === 404) return undefined;
    if (statusCode !== 200) throw new Error(`the status API at ${url} answered ${statusCode}: ${apiMessage(body)}`);
    return body as ResourceView;
  }

  async problems(): Promise<FileError[]> {
    const { statusCode, body } = await this.get_(`${this.baseUrl}/api/v1/problems`);
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
export async function apiReachable(baseUrl: string, timeoutMs: number, access: ApiAccess = {}): Promise<boolean> {
  try {
    const { statusCode, body } = await getJson(`${baseUrl}/healthz`, timeoutMs, access);
    // 503 still means the API is serving; only its health check is failing.
    return (statusCode === 200 || statusCode === 503) && typeof body === 'object' && body !== null && 'status' in body;
  } catch {
    return false;
  }
}

export async function openSource(opts: SourceOptions): Promise<OpenedSource> {
  const access = apiAccess(opts);
  if (await apiReachable(opts.serverUrl, opts.probeTimeoutMs ?? 1_000, access)) {
    const api = new ApiSource(opts.serverUrl, opts.requestTimeoutMs, access);
    return { source: api, origin: 'api', problems: () => api.problems() };
  }
  const disk = new DiskSource(opts.resourcesDir, opts.stateDir);
  return { source: disk, origin: 'disk', problems: () => disk.problems() };
}
