// The web page's one HTML document: static tables and sections that page.js
// fills from the JSON API. Nothing from a resource is ever part of this text.
import { assetUrl } from './assets.js';

/** What `/` sends with the page: its own files only, nothing inline, nothing from another host. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const table = (id: string, caption: string, columns: string[]) =>
  `<table id="${id}"><caption>${caption}</caption><thead><tr>${columns.map((c) => `<th scope="col">${c}</th>`).join('')}</tr></thead><tbody></tbody></table>`;

let cached: string | undefined;

export function indexHtml(): string {
  cached ??= `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aifb</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl('uplot.css')}">
<link rel="stylesheet" href="${assetUrl('page.css')}">
</head>
<body>
<header>
<h1>aifb</h1>
<p id="status" role="status" data-state="loading">connecting to the controller&hellip;</p>
</header>
<main>
<section id="live" hidden>
<h2>Live runs</h2>
<p class="note">Throughput and p99 latency as the runner reports them, one point per refresh (every 2 s) since this page opened.</p>
<div id="charts"></div>
</section>
<section>
<h2>Benchmarks</h2>
${table('benchmarks', 'Requests, throughput and p99 are the results once a run ends, the counts so far while it runs.', ['Name', 'Phase', 'Requests', 'Throughput (req/s)', 'p99 (ms)', 'Errors', 'Conditions', 'Reports'])}
</section>
<section>
<h2>Services</h2>
${table('services', 'Services the benchmarks talk to.', ['Name', 'Type', 'Phase', 'Endpoint', 'Conditions'])}
</section>
<section>
<h2>Monitoring stacks</h2>
${table('monitoringstacks', 'Prometheus, Pushgateway and Grafana started by the controller.', ['Name', 'Phase', 'Endpoints', 'Conditions'])}
</section>
<section>
<h2>Run history</h2>
${table('runs', 'Finished runs from the results database, newest first.', ['Benchmark', 'Run', 'Started', 'Duration (s)', 'Requests', 'Errors', 'Throughput (req/s)', 'p99 (ms)', 'SLO', 'Reports'])}
</section>
</main>
<script src="${assetUrl('uplot.js')}"></script>
<script src="${assetUrl('page.js')}"></script>
</body>
</html>
`;
  return cached;
}
