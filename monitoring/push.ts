// Pushes a finished run's Prometheus text to a Pushgateway (spec.pushgateway),
// grouped by benchmark so each benchmark's last run replaces its previous one.
import { request } from 'undici';
import type { RunResult } from './results/model.js';
import { renderPrometheus } from './reports/prometheus.js';

export class PushError extends Error {
  override name = 'PushError';
}

/** The Pushgateway URL for one benchmark's group: `<base>/metrics/job/aifb/benchmark/<name>`. */
export function pushUrl(base: string, benchmark: string): string {
  return `${base.replace(/\/+$/, '')}/metrics/job/aifb/benchmark/${encodeURIComponent(benchmark)}`;
}

/** PUT replaces the whole group; throws PushError with the gateway's answer when it refuses. */
export async function pushRun(base: string, result: RunResult, timeoutMs = 10_000): Promise<void> {
  const url = pushUrl(base, result.benchmark);
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain; version=0.0.4' },
      body: renderPrometheus(result),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (e) {
    throw new PushError(`cannot reach the Pushgateway at ${base}: ${(e as Error).message}; check spec.pushgateway`);
  }
  if (status < 200 || status >= 300) throw new PushError(`the Pushgateway at ${base} answered HTTP ${status}: ${text.trim().slice(0, 300)}`);
}
