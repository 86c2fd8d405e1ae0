// Puts the report's charts on the page: a container per chart (or its "no
// data" note), and the inline uPlot build, data blob and script that draw them,
// so the file needs no network and no other file to open.
import { uplotAsset } from '../../charts/uplot-asset.js';
import type { ChartBlock, ChartSpec } from './charts.js';
import { escapeHtml } from './table.js';

/** A chart's place on the page; the script finds it by data-chart. */
export function chartHtml(block: ChartBlock): string {
  if ('noData' in block) return `<p class="no-data">${escapeHtml(block.noData)}</p>`;
  const c = block.chart;
  return `<figure><figcaption>${escapeHtml(c.title)}</figcaption><div class="chart" role="img" aria-label="${escapeHtml(c.title)}" data-chart="${escapeHtml(c.name)}"></div><p class="muted">${escapeHtml(c.caption)}</p></figure>`;
}

/**
 * JSON that is safe inside a <script> element: "</" would end it early and
 * "<!--" can make the parser skip the real end tag. Both escapes are still JSON.
 */
export const scriptJson = (v: unknown) => JSON.stringify(v).replace(/<\//g, '<\\/').replace(/<!--/g, '<\\u0021--');

/**
 * Builds one uPlot per spec. Plain ES2017 because it runs as written in the
 * browser; sized to its container and redrawn on resize.
 */
const DRAW = `(function () {
  var data = JSON.parse(document.getElementById('aifb-data').textContent);
  var shader = function (ranges) {
    return function (u) {
      var ctx = u.ctx, b = u.bbox;
      ctx.save();
      ctx.fillStyle = 'rgba(191, 135, 0, 0.15)';
      ranges.forEach(function (r) {
        var a = Math.max(b.left, u.valToPos(r[0], 'x', true)), z = Math.min(b.left + b.width, u.valToPos(r[1], 'x', true));
        if (z > a) ctx.fillRect(a, b.top, z - a, b.height);
      });
      ctx.restore();
    };
  };
  var range = function (min, max) {
    return function (u, lo, hi) {
      var r = uPlot.rangeNum(lo, hi, 0.1, true);
      return [min == null ? r[0] : min, max == null ? r[1] : max];
    };
  };
  var charts = data.charts.map(function (c) {
    var el = document.querySelector('[data-chart="' + c.name + '"]');
    var opts = {
      width: el.clientWidth || 900,
      height: 300,
      scales: {
        x: c.x.log ? { time: false, distr: 3, log: 10 } : { time: false },
        y: { range: range(c.y.min, c.y.max) }
      },
      axes: [{ label: c.x.label }, { label: c.y.label }],
      series: [{ label: c.x.label }].concat(c.series.map(function (s) {
        return { label: s.label, stroke: s.color, width: 2, dash: s.dash ? [6, 4] : undefined, points: c.markers ? { show: true, size: s.dash ? 4 : 6, fill: s.color } : {} };
      })),
      hooks: c.shade && c.shade.length ? { drawClear: [shader(c.shade)] } : {}
    };
    return { el: el, plot: new uPlot(opts, [c.xs].concat(c.series.map(function (s) { return s.values; })), el) };
  });
  window.addEventListener('resize', function () {
    charts.forEach(function (c) { c.plot.setSize({ width: c.el.clientWidth || 900, height: 300 }); });
  });
})();`;

/** The <style> for <head>, and the scripts for the end of <body>. */
export function chartAssets(charts: ChartSpec[]): { style: string; scripts: string } {
  const { js, css } = uplotAsset();
  return {
    style: `<style>${css}</style>`,
    scripts: `<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script type="application/json" id="aifb-data">${scriptJson({ charts })}</script>
<script>${DRAW}</script>`,
  };
}
