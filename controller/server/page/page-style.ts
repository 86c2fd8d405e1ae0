// The web page's stylesheet: system fonts, plain tables, a colour per phase.
export const PAGE_STYLE = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --head: #f6f8fa; --ok: #1a7f37; --bad: #cf222e; --busy: #0969da; --wait: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 1.5em; padding: 0.6em 1.5em; border-bottom: 1px solid var(--line); background: var(--head); }
h1 { font-size: 1.3em; margin: 0; }
h2 { font-size: 1.1em; margin: 1.6em 0 0.5em; }
h3 { font-size: 1em; margin: 0 0 0.4em; }
main { padding: 0 1.5em 2em; }
#status { margin: 0; color: var(--muted); }
#status[data-state="error"] { color: var(--bad); font-weight: 600; }
.note, caption { color: var(--muted); font-size: 0.9em; }
caption { text-align: left; caption-side: top; padding-bottom: 0.3em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.35em 0.7em; border-bottom: 1px solid var(--line); }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { white-space: nowrap; }
td.empty { color: var(--muted); font-style: italic; }
.phase { display: inline-block; padding: 0 0.5em; border-radius: 1em; border: 1px solid currentColor; font-size: 0.85em; font-weight: 600; white-space: nowrap; }
.phase-Succeeded, .phase-Ready { color: var(--ok); }
.phase-Failed, .phase-Invalid { color: var(--bad); }
.phase-Running, .phase-Starting, .phase-Collecting { color: var(--busy); }
.phase-Pending, .phase-Waiting, .phase-Retrying, .phase-Terminating { color: var(--wait); }
.message { display: block; color: var(--muted); font-size: 0.85em; margin-top: 0.2em; }
ul.conditions { list-style: none; margin: 0; padding: 0; }
ul.conditions li { margin: 0 0 0.2em; }
.cond { font-weight: 600; }
.cond-True { color: var(--ok); }
.cond-False { color: var(--bad); }
.cond-Unknown { color: var(--wait); }
.cond-Info { color: var(--muted); }
.reports a { margin-right: 0.6em; }
.run-card { border: 1px solid var(--line); border-radius: 6px; padding: 0.8em; margin-bottom: 1em; }
.run-card .charts { display: flex; flex-wrap: wrap; gap: 1em; }
.run-card .chart { flex: 1 1 380px; min-width: 0; }
.run-card .latest { color: var(--muted); font-weight: normal; margin-left: 0.8em; }
`;
