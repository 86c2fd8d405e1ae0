// Parses the human units users write in resource files (`30s`, `5m`, `10MB`)
// into plain numbers, so the rest of the code only sees milliseconds and bytes.

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// Sizes follow fio's convention: K, KB and KiB are all 1024, because storage
// users coming from fio and the guide's `1KB` buckets expect powers of two.
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Milliseconds from `500ms`, `30s`, `5m`, `1h30m`, `2d` or a bare number of seconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`duration must be a non-negative number of seconds, got ${input}`);
    return Math.round(input * 1000);
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`"${input}" is not a duration; write e.g. 500ms, 30s, 5m, 1h30m`);
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]], 0));
}

/** Bytes from `512`, `4KB`, `10MB`, `1GiB` (K = 1024, as fio does). */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0) throw new Error(`size must be a non-negative whole number of bytes, got ${input}`);
    return input;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  const unit = m ? SIZE_UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`"${input}" is not a size; write e.g. 512, 4KB, 10MB, 1GiB`);
  return Math.round(Number(m[1]) * unit);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v}${units[i]}`;
}
