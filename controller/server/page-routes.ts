// The status API's web page and what it reads besides the resource lists: `/`
// and its assets, the run history (/api/v1/runs) and each run's report files.
// Read-only; the app's onRequest hook applies the API's access rules to all of it.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { API_VERSION } from '../api/schemas.js';
import type { RunRow } from '../../monitoring/results/results-db.js';
import { pageAssets } from './page/assets.js';
import { indexHtml, PAGE_CSP } from './page/index-html.js';
import { reportFile } from './page/report-file.js';
import type { ResourceSource } from './view.js';

export interface PageOptions {
  /** Finished runs newest first, of one benchmark when named: GET /api/v1/runs (none without it). */
  runs?: (benchmark?: string) => RunRow[];
  /**
   * The controller's reports folder and, for a finished run, its benchmark and
   * the report files written for it (format -> path): GET /api/v1/reports/...
   */
  reports?: { dir: string; of(runId: string): { benchmark: string; files: Record<string, string> } | undefined };
}

const RunsQuery = z.object({
  benchmark: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const ReportParams = z.object({ benchmark: z.string(), runId: z.string(), format: z.string() });
const AssetParams = z.object({ name: z.string() });
const ErrorBody = z.object({ error: z.string(), message: z.string() });
export const RunListBody = z.object({
  apiVersion: z.string(),
  kind: z.literal('RunList'),
  items: z.array(z.looseObject({ runId: z.string(), benchmark: z.string(), reports: z.record(z.string(), z.string()) })),
});

/** The API path of one report file; each segment encoded. */
export const reportPath = (benchmark: string, runId: string, format: string) =>
  `/api/v1/reports/${[benchmark, runId, format].map(encodeURIComponent).join('/')}`;

const noReport = (b: string, r: string, f: string) => ({
  error: 'NotFound',
  message: `no report "${f}" of run "${r}" of benchmark "${b}"; GET /api/v1/runs?benchmark=${b} lists its runs and their reports`,
});

/** Headers of everything the page loads: no sniffing, no referrer, never framed. */
function pageHeaders(reply: FastifyReply, contentType: string, cache: string): FastifyReply {
  return reply
    .header('content-type', contentType)
    .header('cache-control', cache)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

export function registerPageRoutes(app: FastifyInstance, opts: PageOptions & { source: ResourceSource }): void {
  app.get('/', async (_req, reply) =>
    // Revalidated each time: it names the current assets by hash.
    pageHeaders(reply, 'text/html; charset=utf-8', 'no-cache').header('content-security-policy', PAGE_CSP).send(indexHtml()),
  );

  app.get<{ Params: z.infer<typeof AssetParams>; Querystring: { v?: string } }>(
    '/assets/:name',
    { schema: { params: AssetParams, response: { 404: ErrorBody } } },
    async (req, reply) => {
      const asset = pageAssets().get(req.params.name);
      if (!asset) return reply.code(404).send({ error: 'NotFound', message: `no asset "${req.params.name}"; the page loads ${[...pageAssets().keys()].join(', ')}` });
      const etag = `"${asset.hash}"`;
      // A URL carrying the content hash never changes; any other is revalidated. Private: behind a token it is not for shared caches.
      const cache = req.query.v === asset.hash ? 'private, max-age=31536000, immutable' : 'private, no-cache';
      pageHeaders(reply, asset.contentType, cache).header('etag', etag);
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(asset.body);
    },
  );

  /** A run's benchmark and report files from the database; a row it cannot read counts as no run. */
  const storedReports = (runId: string) => {
    try {
      return opts.reports?.of(runId);
    } catch {
      return undefined;
    }
  };
  // Report paths come from the results database, read once per run: a stored run's reports do not change.
  const reportsOf = new Map<string, Record<string, string>>();
  const reportsOfRun = (row: RunRow): Record<string, string> => {
    let files = reportsOf.get(row.runId);
    if (!files) {
      files = storedReports(row.runId)?.files ?? {};
      if (reportsOf.size >= 10_000) reportsOf.clear();
      reportsOf.set(row.runId, files);
    }
    return files;
  };

  app.get<{ Querystring: z.infer<typeof RunsQuery> }>(
    '/api/v1/runs',
    { schema: { querystring: RunsQuery, response: { 200: RunListBody } } },
    async (req) => {
      const rows = (opts.runs?.(req.query.benchmark) ?? []).slice(0, req.query.limit);
      const items = rows.map((row) => ({
        ...row,
        reports: Object.fromEntries(Object.keys(reportsOfRun(row)).map((f) => [f, reportPath(row.benchmark, row.runId, f)])),
      }));
      return { apiVersion: API_VERSION, kind: 'RunList' as const, items };
    },
  );

  app.get<{ Params: z.infer<typeof ReportParams> }>(
    '/api/v1/reports/:benchmark/:runId/:format',
    { schema: { params: ReportParams, response: { 404: ErrorBody } } },
    async (req, reply) => {
      const { benchmark, runId, format } = req.params;
      const view = await opts.source.get('Benchmark', benchmark);
      const status = view?.status;
      // The current run's report paths are in its status; those of older runs only in the database.
      let recorded = status?.runId === runId ? status.reports : undefined;
      if (!recorded?.[format]) {
        const stored = storedReports(runId);
        recorded = stored?.benchmark === benchmark ? stored.files : undefined;
      }
      const specDir = (view?.spec as { reports?: { dir?: unknown } } | undefined)?.reports?.dir;
      const roots = [...(opts.reports ? [join(opts.reports.dir, benchmark)] : []), ...(typeof specDir === 'string' ? [specDir] : [])];
      const file = await reportFile({ benchmark, runId, format, recorded, roots });
      if (!file) return reply.code(404).send(noReport(benchmark, runId, format));
      pageHeaders(reply, file.contentType, 'private, no-cache');
      // An HTML report runs its own scripts in an origin of its own: it cannot read this API with the viewer's access.
      if (file.contentType.startsWith('text/html')) reply.header('content-security-policy', 'sandbox allow-scripts');
      return reply.send(createReadStream(file.path));
    },
  );
}
