// The files the web page loads from /assets/NAME: uPlot, the page's script and
// stylesheet, each with a content hash so a URL carrying it can be cached for good.
import { createHash } from 'node:crypto';
import { uplotAsset } from '../../../monitoring/charts/uplot-asset.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

export interface Asset {
  body: string;
  contentType: string;
  /** First 16 hex digits of the body's SHA-256: the `?v=` of its URL and its ETag. */
  hash: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

let cached: Map<string, Asset> | undefined;

/** name -> asset; uPlot is read from node_modules at first use. */
export function pageAssets(): Map<string, Asset> {
  if (!cached) {
    const uplot = uplotAsset();
    const asset = (body: string, contentType: string): Asset => ({ body, contentType, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) });
    cached = new Map([
      ['uplot.js', asset(uplot.js, JS)],
      ['uplot.css', asset(uplot.css, CSS)],
      ['page.js', asset(PAGE_SCRIPT, JS)],
      ['page.css', asset(PAGE_STYLE, CSS)],
    ]);
  }
  return cached;
}

/** The URL the page uses for an asset: relative, so the page also works behind a proxy that serves it under a path. */
export function assetUrl(name: string): string {
  const a = pageAssets().get(name);
  if (!a) throw new Error(`no page asset "${name}"`);
  return `assets/${name}?v=${a.hash}`;
}
