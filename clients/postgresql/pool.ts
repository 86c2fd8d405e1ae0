// A fixed set of connections, all opened before the run (each timed: the
// connection time reported apart from the run), lent to one request at a time.
// A connection the server or the network dropped is opened again by the next
// request that draws it, and that request's latency includes it.
import { connectFailure, type Target } from './failure.js';
import type { PgClient } from './pg.js';

export interface Slot {
  client: PgClient | undefined;
  /** Set when the socket failed or ended: the client is replaced before its next use. */
  broken: boolean;
}

/** Opens one connection, timed; throws an Error whose message says what to check. */
export async function openConnection(make: () => PgClient, target: Target, onLost: (client: PgClient) => void = () => {}): Promise<{ client: PgClient; ms: number }> {
  const client = make();
  // Without a listener an idle connection's socket error would take the runner down.
  client.on('error', () => onLost(client));
  client.on('end', () => onLost(client));
  const started = performance.now();
  try {
    await client.connect();
  } catch (e) {
    throw new Error(connectFailure(e, target, performance.now() - started));
  }
  return { client, ms: performance.now() - started };
}

/** How long ending a connection may take before its socket is dropped. */
const END_WAIT_MS = 5000;

/**
 * Ends a connection politely, or drops its socket when the server does not
 * answer within END_WAIT_MS (a host gone from the network): teardown never hangs.
 */
export async function endConnection(client: PgClient | undefined): Promise<void> {
  if (!client) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), END_WAIT_MS)));
  const ended = await Promise.race([client.end().then(() => 'ended' as const, () => 'ended' as const), late]);
  clearTimeout(timer);
  if (ended === 'late') client.connection?.stream?.destroy();
}

export class ConnectionPool {
  private readonly slots: Slot[];
  private readonly free: Slot[] = [];
  private readonly waiting: { resolve: (s: Slot) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  constructor(
    size: number,
    private readonly make: () => PgClient,
    private readonly target: Target,
  ) {
    this.slots = Array.from({ length: size }, () => ({ client: undefined, broken: true }));
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * Opens every connection one after another, as pgbench does, so each time is
   * the server's alone and not a share of a burst. Returns each one's time (ms).
   */
  async open(): Promise<number[]> {
    const times: number[] = [];
    for (const slot of this.slots) {
      const { client, ms } = await this.connect(slot);
      slot.client = client;
      slot.broken = false;
      times.push(ms);
      this.free.push(slot);
    }
    return times;
  }

  /** A connection for one request: at once when one is free, else the first to be released. */
  async acquire(): Promise<Slot> {
    if (this.closed) throw new Error('the connection pool is closed');
    const slot = this.free.pop() ?? (await new Promise<Slot>((resolve, reject) => this.waiting.push({ resolve, reject })));
    if (slot.broken) {
      try {
        void endConnection(slot.client);
        slot.client = undefined;
        const { client } = await this.connect(slot);
        slot.client = client;
        slot.broken = false;
      } catch (e) {
        this.release(slot);
        throw e;
      }
    }
    return slot;
  }

  /** Gives the connection back; released synchronously, so a worker's next request finds it free. */
  release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next.resolve(slot);
    else this.free.push(slot);
  }

  /** Ends every connection; requests still waiting for one fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('the connection pool closed while this request waited for a connection'));
    const ending = this.slots.map((s) => endConnection(s.client));
    for (const s of this.slots) s.client = undefined;
    await Promise.all(ending);
  }

  private connect(slot: Slot) {
    // Only the slot's current client can break it: the one it replaced still ends later.
    return openConnection(this.make, this.target, (client) => {
      if (slot.client === client) slot.broken = true;
    });
  }
}
