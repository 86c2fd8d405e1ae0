// Text helpers for aifbctl output: kubectl-style aligned tables, ages and the
// number formats every verb shares, kept pure so they are unit-tested alone.

/** What kubectl prints for an empty cell. */
export const NONE = '<none>';

/**
 * Aligns columns like kubectl: every column padded to its widest cell plus two
 * spaces, the last column left ragged so lines carry no trailing blanks.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(header, rows);
  return [header, ...rows].map((r) => renderRow(r, widths)).join('\n') + '\n';
}

/** Column widths for a table, so a watch can print single rows aligned with its header. */
export function columnWidths(header: readonly string[], rows: readonly (readonly string[])[]): number[] {
  const all = [header, ...rows];
  return header.map((_, col) => Math.max(...all.map((r) => (r[col] ?? '').length)));
}

export function renderRow(row: readonly string[], widths: readonly number[]): string {
  return row
    .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? cell.length)))
    .join('  ')
    .trimEnd();
}

/**
 * kubectl's HumanDuration: coarse enough to read at a glance, precise while the
 * number is small (`90s`, `3m10s`, `2h5m`, `4d`, `1y20d`).
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of a timestamp as kubectl shows it; `<unknown>` when absent or unparsable. */
export function formatAge(iso: string | undefined, nowMs: number): string {
  if (!iso) return '<unknown>';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(nowMs - t);
}

const isNum = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/** Request counts: whole numbers. */
export function formatCount(n: number | undefined): string {
  return isNum(n) ? String(Math.round(n)) : NONE;
}

/** Requests per second: one decimal. */
export function formatRate(n: number | undefined): string {
  return isNum(n) ? n.toFixed(1) : NONE;
}

/** Latency: `12.3ms` below a second, `1.20s` from a second up. */
export function formatLatency(ms: number | undefined): string {
  if (!isNum(ms)) return NONE;
  return ms < 1000 ? `${ms.toFixed(1)}ms` : `${(ms / 1000).toFixed(2)}s`;
}

/** Seconds of run time, e.g. `30.0s`, `2m5s`, `1h2m`. */
export function formatSeconds(s: number | undefined): string {
  if (!isNum(s)) return NONE;
  if (s < 120) return `${s.toFixed(1)}s`;
  return humanDuration(s * 1000);
}

export function formatPercent(fraction: number | undefined): string {
  return isNum(fraction) ? `${(fraction * 100).toFixed(2)}%` : NONE;
}

/** Empty strings and missing values become `<none>`. */
export function orNone(v: unknown): string {
  if (v === undefined || v === null) return NONE;
  const s = String(v);
  return s === '' ? NONE : s;
}
