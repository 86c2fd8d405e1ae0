// The web page's script (vanilla JS, served as /assets/page.js): polls the JSON
// API every 2 s, fills the tables and draws live charts with uPlot. Everything
// from a resource reaches the DOM as text (textContent), never as HTML.
// Kept free of backticks and dollar-brace so the template below holds it verbatim.
export const PAGE_SCRIPT = String.raw`(() => {
  'use strict';
  const POLL_MS = 2000;
  /** Points kept per chart: an hour at one point per poll. */
  const MAX_POINTS = 1800;
  const SERIES = [
    { key: 'rps', title: 'Throughput', unit: 'req/s', stroke: 'rgb(37, 99, 235)', fill: 'rgba(37, 99, 235, 0.08)' },
    { key: 'p99Ms', title: 'p99 latency', unit: 'ms', stroke: 'rgb(217, 72, 15)', fill: 'rgba(217, 72, 15, 0.08)' },
  ];

  const byId = (id) => document.getElementById(id);

  /** An element with text, attributes and children; strings become text nodes. */
  function h(tag, props, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'className') e.className = v;
      else if (k === 'data') Object.assign(e.dataset, v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children || []) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
    return e;
  }

  const isNum = (n) => typeof n === 'number' && Number.isFinite(n);
  const fmt = (n, digits) => (isNum(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '\u2014');
  const num = (n, digits) => h('td', { className: 'num', text: fmt(n, digits) });
  const nameCell = (s) => h('td', { className: 'name', text: s });
  const text = (s) => h('td', { text: s === undefined || s === null || s === '' ? '\u2014' : s });
  /** Phases are a fixed set of words; anything else gets no class of its own. */
  const phaseOf = (status) => (status && typeof status.phase === 'string' ? status.phase : 'Pending');
  const phaseClass = (phase) => (/^[A-Za-z]+$/.test(phase) ? 'phase phase-' + phase : 'phase');
  const reportUrl = (benchmark, runId, format) =>
    'api/v1/reports/' + [benchmark, runId, format].map(encodeURIComponent).join('/');

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    let body;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    if (!res.ok) throw new Error(path + ': ' + ((body && body.message) || 'HTTP ' + res.status));
    return body;
  }

  function phaseCell(status) {
    const phase = phaseOf(status);
    const cell = h('td', {}, [h('span', { className: phaseClass(phase), text: phase, data: { phase } })]);
    if (status && status.message) cell.append(h('span', { className: 'message', text: status.message }));
    return cell;
  }

  function conditionsCell(status) {
    const conditions = (status && Array.isArray(status.conditions) && status.conditions) || [];
    if (conditions.length === 0) return text('');
    const list = h('ul', { className: 'conditions' });
    for (const c of conditions) {
      // Running=False only says the run is over; other False conditions are what went wrong.
      const st = c.type === 'Running' ? 'Info' : /^(True|False|Unknown)$/.test(c.status) ? c.status : 'Unknown';
      const item = h('li', {}, [h('span', { className: 'cond cond-' + st, text: c.type + '=' + c.status })]);
      if (c.reason) item.append(' ' + c.reason);
      if (c.message) item.append(h('span', { className: 'message', text: c.message }));
      list.append(item);
    }
    return h('td', {}, [list]);
  }

  function reportsCell(benchmark, runId, formats) {
    const cell = h('td', { className: 'reports' });
    if (!runId || formats.length === 0) return text('');
    for (const f of formats) {
      cell.append(h('a', { href: reportUrl(benchmark, runId, f), target: '_blank', rel: 'noopener', text: f, data: { format: f } }));
    }
    return cell;
  }

  function fill(tbodyOf, rows, columns, empty) {
    const body = byId(tbodyOf).tBodies[0];
    if (rows.length === 0) rows = [h('tr', {}, [h('td', { colspan: columns, className: 'empty', text: empty })])];
    body.replaceChildren(...rows);
  }

  function benchmarkRow(v) {
    const s = v.status || {};
    const r = s.results;
    const p = s.progress;
    const name = v.metadata.name;
    return h('tr', { data: { name } }, [
      nameCell(name),
      phaseCell(s),
      num(r ? r.requests : p && p.requests, 0),
      num(r ? r.throughput : p && p.rps, 1),
      num(r ? r.p99Ms : p && p.p99Ms, 2),
      num(r ? r.errors : p && p.errors, 0),
      conditionsCell(s),
      reportsCell(name, s.runId, Object.keys(s.reports || {})),
    ]);
  }

  function serviceRow(v) {
    const s = v.status || {};
    const spec = v.spec && typeof v.spec === 'object' ? v.spec : {};
    const e = s.endpoint;
    return h('tr', { data: { name: v.metadata.name } }, [
      nameCell(v.metadata.name),
      text(typeof spec.type === 'string' ? spec.type : ''),
      phaseCell(s),
      text(e && e.host ? e.host + ':' + e.port : ''),
      conditionsCell(s),
    ]);
  }

  function stackRow(v) {
    const s = v.status || {};
    const endpoints = Object.entries(s.endpoints || {}).map(([c, e]) => c + ' ' + e.host + ':' + e.port);
    return h('tr', { data: { name: v.metadata.name } }, [nameCell(v.metadata.name), phaseCell(s), text(endpoints.join(', ')), conditionsCell(s)]);
  }

  function runRow(r) {
    const slo = r.sloPassed === undefined ? '' : r.sloPassed ? 'met' : 'broken';
    return h('tr', { data: { benchmark: r.benchmark, run: r.runId } }, [
      nameCell(r.benchmark),
      nameCell(r.runId),
      text(r.startedAt ? new Date(r.startedAt).toLocaleString() : ''),
      num(r.durationS, 1),
      num(r.requests, 0),
      num(r.errors, 0),
      num(r.throughput, 1),
      num(r.p99Ms, 2),
      text(slo),
      reportsCell(r.benchmark, r.runId, Object.keys(r.reports || {})),
    ]);
  }

  // Live charts: one card per benchmark seen Running since the page opened,
  // fed from each poll's status.progress; a finished run keeps its last curve.
  const cards = new Map();

  function chartWidth(card) {
    const w = card.charts.clientWidth;
    return Math.max(280, Math.floor((w >= 800 ? (w - 16) / 2 : w) - 4));
  }

  function newCard(name, runId) {
    const title = h('h3', { text: name + ' \u00b7 ' + (runId || 'run') });
    const latest = h('span', { className: 'latest' });
    title.append(latest);
    const charts = h('div', { className: 'charts' });
    const el = h('div', { className: 'run-card', data: { benchmark: name, run: runId || '', points: '0' } }, [title, charts]);
    byId('charts').append(el);
    const card = { el, latest, charts, runId, xs: [], ys: SERIES.map(() => []), plots: [] };
    for (const s of SERIES) {
      const box = h('div', { className: 'chart', data: { series: s.key } });
      charts.append(box);
      card.plots.push(
        new uPlot(
          {
            title: s.title + ' (' + s.unit + ')',
            width: chartWidth(card),
            height: 220,
            scales: { x: { time: false } },
            axes: [{ label: 'elapsed (s)' }, { label: s.unit }],
            // Status progress changes every few seconds: markers show where each point is while they are sparse.
            series: [{ label: 'elapsed (s)' }, { label: s.title, stroke: s.stroke, fill: s.fill, width: 2, points: { size: 6, fill: s.stroke } }],
            legend: { show: false },
            cursor: { drag: { x: false, y: false } },
          },
          [[], []],
          box,
        ),
      );
    }
    return card;
  }

  function dropCard(name) {
    const card = cards.get(name);
    if (!card) return;
    for (const p of card.plots) p.destroy();
    card.el.remove();
    cards.delete(name);
  }

  function updateCharts(benchmarks) {
    const seen = new Set();
    for (const v of benchmarks) {
      const name = v.metadata.name;
      const s = v.status || {};
      seen.add(name);
      const running = phaseOf(s) === 'Running';
      let card = cards.get(name);
      if (!running) {
        if (card) card.latest.textContent = phaseOf(s);
        continue;
      }
      // A new run (or attempt) starts a new curve.
      if (card && card.runId !== s.runId) dropCard(name);
      byId('live').hidden = false;
      card = cards.get(name) || newCard(name, s.runId);
      cards.set(name, card);
      const p = s.progress;
      if (!p || !isNum(p.elapsedMs)) {
        card.latest.textContent = 'Running, waiting for the first progress';
        continue;
      }
      const x = p.elapsedMs / 1000;
      const last = card.xs.length ? card.xs[card.xs.length - 1] : -Infinity;
      if (x > last) {
        card.xs.push(x);
        SERIES.forEach((series, i) => card.ys[i].push(isNum(p[series.key]) ? p[series.key] : null));
        if (card.xs.length > MAX_POINTS) {
          card.xs.shift();
          for (const ys of card.ys) ys.shift();
        }
        card.plots.forEach((plot, i) => plot.setData([card.xs, card.ys[i]]));
        card.el.dataset.points = String(card.xs.length);
      }
      card.latest.textContent = 'Running: ' + fmt(p.rps, 1) + ' req/s, p99 ' + fmt(p.p99Ms, 2) + ' ms, ' + fmt(p.requests, 0) + ' requests';
    }
    for (const name of [...cards.keys()]) if (!seen.has(name)) dropCard(name);
    byId('live').hidden = cards.size === 0;
  }

  window.addEventListener('resize', () => {
    for (const card of cards.values()) for (const p of card.plots) p.setSize({ width: chartWidth(card), height: 220 });
  });

  function setStatus(state, message) {
    const el = byId('status');
    el.dataset.state = state;
    el.textContent = message;
  }

  const SECTIONS = [
    { path: 'api/v1/benchmarks', render: (b) => { fill('benchmarks', b.items.map(benchmarkRow), 8, 'no benchmarks'); updateCharts(b.items); } },
    { path: 'api/v1/services', render: (b) => fill('services', b.items.map(serviceRow), 5, 'no services') },
    { path: 'api/v1/monitoringstacks', render: (b) => fill('monitoringstacks', b.items.map(stackRow), 4, 'no monitoring stacks') },
    { path: 'api/v1/runs', render: (b) => fill('runs', b.items.map(runRow), 10, 'no finished runs yet') },
  ];

  async function poll() {
    const answers = await Promise.allSettled(SECTIONS.map((s) => getJson(s.path)));
    const problems = [];
    answers.forEach((a, i) => {
      if (a.status === 'rejected') return problems.push(a.reason && a.reason.message ? a.reason.message : String(a.reason));
      try {
        SECTIONS[i].render(a.value);
      } catch (e) {
        problems.push(SECTIONS[i].path + ': ' + (e && e.message ? e.message : String(e)));
      }
    });
    if (problems.length) setStatus('error', 'cannot read the status API: ' + problems.join('; '));
    else setStatus('ok', 'updated ' + new Date().toLocaleTimeString() + ', every ' + POLL_MS / 1000 + ' s');
    setTimeout(poll, POLL_MS);
  }

  poll();
})();
`;
