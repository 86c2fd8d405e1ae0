// Prometheus text exposition (format 0.0.4), shared by the run report, the
// live series of running benchmarks and what is pushed to a Pushgateway, so
// every source writes the same names the same way.
export type Labels = Record<string, string>;
export type Sample = [suffix: string, labels: Labels, v: number];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function value(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

export class Exposition {
  private readonly lines: string[] = [];
  family(name: string, type: 'counter' | 'gauge' | 'histogram' | 'summary', help: string, samples: Sample[]): void {
    if (samples.length === 0) return;
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [suffix, labels, v] of samples) this.lines.push(`${name}${suffix}${labelText(labels)} ${value(v)}`);
  }
  text(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n` : '';
  }
}

/** Cumulative bucket counts at `le` (seconds), as `_bucket`, `_sum` and `_count` samples. */
export function histogramSamples(labels: Labels, le: readonly number[], b: { counts: number[]; count: number; sumSeconds: number }): Sample[] {
  return [
    ...le.map((bound, i): Sample => ['_bucket', { ...labels, le: String(bound) }, b.counts[i]]),
    ['_bucket', { ...labels, le: '+Inf' }, b.count],
    ['_sum', labels, b.sumSeconds],
    ['_count', labels, b.count],
  ];
}

/** outputTokens -> output_tokens */
export const snakeCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** The metric family names a declared metric is exported under, by kind. */
export function workloadFamily(name: string, kind: 'timing' | 'count' | 'value'): string {
  const base = `benchmark_${snakeCase(name)}`;
  return kind === 'timing' ? `${base}_seconds` : kind === 'count' ? `${base}_total` : base;
}
