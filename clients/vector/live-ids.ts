// The ids a delete or update may pick: live, and with no write of theirs in
// flight (two deletes of one id would make the second fail for the benchmark's
// own reason). O(1) add, remove and uniform pick, for millions of ids.

export class LiveIds {
  private ids: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private n = 0;
  /** id -> position + 1 (0: absent). */
  private at: Int32Array<ArrayBuffer> = new Int32Array(1024);

  constructor(count = 0) {
    for (let id = 0; id < count; id++) this.add(id);
  }

  get size(): number {
    return this.n;
  }

  has(id: number): boolean {
    return id < this.at.length && this.at[id] > 0;
  }

  add(id: number): void {
    if (this.has(id)) return;
    if (id >= this.at.length) this.at = grow(this.at, id + 1);
    if (this.n >= this.ids.length) this.ids = grow(this.ids, this.n + 1);
    this.ids[this.n] = id;
    this.at[id] = ++this.n;
  }

  remove(id: number): void {
    if (!this.has(id)) return;
    const i = this.at[id] - 1;
    const last = this.ids[--this.n];
    this.ids[i] = last;
    this.at[last] = i + 1;
    this.at[id] = 0;
  }

  /** A uniformly chosen id, taken out until it is given back (add), or undefined when none is left. `u` is in [0, 1). */
  take(u: number): number | undefined {
    if (this.n === 0) return undefined;
    const id = this.ids[Math.floor(u * this.n)];
    this.remove(id);
    return id;
  }
}

function grow(a: Int32Array, min: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}
