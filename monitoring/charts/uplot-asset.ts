// uPlot (MIT, ~50 KB minified), the one charting library of aifb's HTML report
// and web page: small enough to inline into a report that opens offline on a
// login node, and fast on a million points (it draws on a canvas). Read from
// node_modules once, at first use.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let cached: { js: string; css: string } | undefined;

/** uPlot's browser build (defines the global `uPlot`) and its stylesheet. */
export function uplotAsset(): { js: string; css: string } {
  if (!cached) {
    const dist = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
    cached = { js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
  }
  return cached;
}
