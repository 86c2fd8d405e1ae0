// Resource names from the recipe's free-form service names: lowercase DNS
// labels of at most 63 characters, unique within one import.

const MAX = 63;
/** Room for the Benchmark's `-load` suffix. */
export const BENCHMARK_SUFFIX = '-load';

/** `vLLM_opt 125M` -> `vllm-opt-125m`; '' when nothing usable is left. */
export function dnsLabel(text: string, max = MAX): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, max)
    .replace(/-+$/, '');
}

/** Hands out names once each: a second `chromadb` becomes `chromadb-2`. */
export class NameAllocator {
  private readonly used = new Set<string>();

  /** A free name from `wanted` (already a DNS label), short enough for the suffix; and whether it had to change. */
  allocate(wanted: string): { name: string; renumbered: boolean } {
    const base = wanted.slice(0, MAX - BENCHMARK_SUFFIX.length).replace(/-+$/, '');
    let name = base;
    for (let n = 2; this.used.has(name); n++) {
      const tail = `-${n}`;
      name = `${base.slice(0, MAX - BENCHMARK_SUFFIX.length - tail.length).replace(/-+$/, '')}${tail}`;
    }
    this.used.add(name);
    return { name, renumbered: name !== base };
  }
}
