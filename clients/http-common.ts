// What every HTTP-speaking client needs the same way: the origin of a service,
// short excerpts of server text for error reasons, and an error's best message.
import type { Connection } from '../api/connection.js';

/** `http://host:port` (IPv6 hosts bracketed); https only when the service says so. */
export function originOf(service: Connection): string {
  return `${service.scheme === 'https' ? 'https' : 'http'}://${hostHeaderOf(service)}`;
}

/** Where a connection pool connects for a service: the host without IPv6 brackets. */
export function socketTargetOf(service: Connection): { scheme: 'http' | 'https'; host: string; port: number } {
  return { scheme: service.scheme === 'https' ? 'https' : 'http', host: service.host.replace(/^\[(.*)\]$/, '$1'), port: service.port };
}

/** `host:port` as a Host header (and an origin) carries it: IPv6 hosts bracketed. */
export function hostHeaderOf(service: Pick<Connection, 'host' | 'port'>): string {
  const host = service.host.includes(':') && !service.host.startsWith('[') ? `[${service.host}]` : service.host;
  return `${host}:${service.port}`;
}

/** The first 200 characters of a server message, on one line, for error reasons. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** An error's message, else its code (ECONNREFUSED), else its name. */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  return e.message || code || e.name;
}
