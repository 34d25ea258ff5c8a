/**
 * Per-client rate limits of the public, unauthenticated routes (issue 17 finding 4), pure parts:
 * the rate setting (`20/10m`), the client's network and the fixed window a moment falls in. The
 * counter itself is one conditional DynamoDB update (functions/store/rate-limit.ts).
 *
 * Client = the network a request comes from, not the address: IPv4 /24, IPv6 /48 (what one
 * household, office or provider's customer commonly holds), so rotating addresses within one
 * allocation buys nothing; the cost is that visitors behind one corporate NAT share a limit,
 * hence limits sized for a busy office, not for one person.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Rate {
  /** Requests allowed per window. */
  readonly limit: number;
  readonly windowMs: number;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `<count>/<n><s|m|h>` (e.g. `20/10m`, `30/1m`) → the rate; anything else (and `off`) → null. Windows of 1 s to 24 h. */
export function parseRate(text: string): Rate | null {
  const m = /^(\d{1,6})\/(\d{1,5})([smh])$/.exec(text.trim());
  if (!m) return null;
  const limit = Number(m[1]);
  const windowMs = Number(m[2]) * UNIT_MS[m[3] as keyof typeof UNIT_MS];
  if (limit < 1 || windowMs < 1000 || windowMs > 86_400_000) return null;
  return { limit, windowMs };
}

/** The network of a source address: `203.0.113.0/24`, `2001:db8:1::/48`; anything unreadable is its own `unknown` client. */
export function clientNetwork(sourceIp: string | undefined): string {
  const ip = (sourceIp ?? '').trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const v4 = mapped ?? ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(ip)) return `${expandIPv6(ip).slice(0, 3).join(':')}::/48`;
  return 'unknown';
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => (g === '' ? '0' : g.replace(/^0+(?=.)/, '')));
}

/** The fixed window `now` falls in: its start (ms, the counter's key) and how long until it ends (s, Retry-After). */
export function windowAt(now: number, rate: Rate): { readonly start: number; readonly retryAfterS: number } {
  const start = Math.floor(now / rate.windowMs) * rate.windowMs;
  return { start, retryAfterS: Math.max(1, Math.ceil((start + rate.windowMs - now) / 1000)) };
}
