/**
 * The local server's HTTP framing, over a raw socket (what `fetch` hides): a request body over the
 * size cap is refused with 413 and leaves its keep-alive connection usable — the next request on
 * it is answered, or the server closes the connection cleanly; never a stall or a reset. And the
 * `Host` check against DNS rebinding (any Host can be written on a raw socket).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRuntime } from '../helpers/runtime.js';

type Rt = Awaited<ReturnType<typeof testRuntime>>;

/** What a raw client saw on one connection: everything received and how the connection ended. */
interface Exchange { socket: Socket; text: () => string; ended: Promise<'closed cleanly' | 'reset' | 'no answer'> }

function open(port: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { received += d; });
    // Guard only: a stalled connection fails the test in seconds instead of hanging it.
    socket.setTimeout(5_000);
    const ended = new Promise<'closed cleanly' | 'reset' | 'no answer'>((done) => {
      socket.on('timeout', () => { done('no answer'); socket.destroy(); });
      socket.on('error', () => done('reset'));
      socket.on('end', () => done('closed cleanly'));
    });
    socket.once('connect', () => resolve({ socket, text: () => received, ended }));
    socket.once('error', reject);
  });
}

/** Complete responses so far (status and body), parsed from the raw bytes (Content-Length or chunked). */
function responses(raw: string): Array<{ status: number; headers: string; body: string }> {
  const out: Array<{ status: number; headers: string; body: string }> = [];
  let rest = raw;
  for (;;) {
    const head = rest.indexOf('\r\n\r\n');
    if (head < 0) return out;
    const headers = rest.slice(0, head);
    let at = head + 4;
    let body = '';
    if (/\r\ntransfer-encoding: *chunked/i.test(headers)) {
      for (;;) {
        const line = rest.indexOf('\r\n', at);
        if (line < 0) return out;
        const size = parseInt(rest.slice(at, line), 16);
        if (rest.length < line + 2 + size + 2) return out;
        body += rest.slice(line + 2, line + 2 + size);
        at = line + 2 + size + 2;
        if (size === 0) break;
      }
    } else {
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
      if (rest.length < at + length) return out;
      body = rest.slice(at, at + length);
      at += length;
    }
    out.push({ status: Number(headers.slice(9, 12)), headers, body });
    rest = rest.slice(at);
  }
}

/** Resolves once `n` complete responses arrived or the connection ended (whichever first). */
async function waitFor(x: Exchange, n: number): Promise<void> {
  let over = false;
  void x.ended.then(() => { over = true; });
  while (!over && responses(x.text()).length < n) await new Promise((r) => setTimeout(r, 20));
}

describe('local server', () => {
  let rt: Rt;
  beforeAll(async () => { rt = await testRuntime(); });
  afterAll(async () => { await rt?.stop(); });

  it('refuses a chunked body over the cap with 413 and keeps the keep-alive connection usable', async () => {
    const x = await open(rt.port);
    try {
      // 1 MiB cap (local/server.ts): 17 chunks of 64 KiB, no Content-Length.
      const chunk = 'x'.repeat(64 * 1024);
      x.socket.write(`POST /webhooks/telegram HTTP/1.1\r\nHost: 127.0.0.1:${rt.port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      for (let i = 0; i < 17; i++) x.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      x.socket.write('0\r\n\r\n');
      await waitFor(x, 1);
      const [refused] = responses(x.text());
      expect(refused?.status).toBe(413);
      expect(JSON.parse(refused!.body)).toEqual({ error: { code: 'payload_too_large', message: 'body too large' } });

      x.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${rt.port}\r\n\r\n`);
      await waitFor(x, 2);
      const next = responses(x.text())[1];
      if (next) expect(next.status).toBe(200);
      else expect(await x.ended).toBe('closed cleanly');
    } finally {
      x.socket.destroy();
    }
  });

  it('answers only its own names as Host: a DNS-rebinding name is refused with 403 before any route (/dev included)', async () => {
    const raw = async (host: string | null, path = '/dev/outbox') => {
      const x = await open(rt.port);
      try {
        x.socket.write(`GET ${path} HTTP/1.1\r\n${host === null ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`);
        await waitFor(x, 1);
        return responses(x.text())[0];
      } finally {
        x.socket.destroy();
      }
    };
    for (const host of [`127.0.0.1:${rt.port}`, `localhost:${rt.port}`, `LOCALHOST:${rt.port}`, `[::1]:${rt.port}`]) expect((await raw(host))?.status, host).toBe(200);
    for (const host of [`attacker.example:${rt.port}`, 'attacker.example', `127.0.0.1.attacker.example:${rt.port}`, `localhost:${rt.port + 1}`, '127.0.0.1', `localhost.:${rt.port}`]) {
      const r = await raw(host);
      expect(r?.status, host).toBe(403);
      expect(JSON.parse(r!.body).error.code).toBe('host_not_allowed');
      expect(r!.body).not.toContain('items');
    }
    expect((await raw(`attacker.example:${rt.port}`, '/dev/token'))?.status).toBe(403);
    expect((await raw(null))?.status).toBe(400); // HTTP/1.1 without Host: Node itself refuses it
  });

  it('answers a chunked body under the cap normally on the same kind of connection', async () => {
    const x = await open(rt.port);
    try {
      x.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${rt.port}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`);
      x.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${rt.port}\r\n\r\n`);
      await waitFor(x, 2);
      expect(responses(x.text()).map((r) => r.status)).toEqual([200, 200]);
    } finally {
      x.socket.destroy();
    }
  });
});

describe('local server Host check', () => {
  it('answers a configured extra host (a tunnel), by name or name:port', async () => {
    const { hostAllowed } = await import('../../local/server.js');
    expect(hostAllowed('abc.tunnel.example', 3000, ['abc.tunnel.example'])).toBe(true);
    expect(hostAllowed('abc.tunnel.example:443', 3000, ['abc.tunnel.example'])).toBe(true);
    expect(hostAllowed('abc.tunnel.example:8443', 3000, ['abc.tunnel.example:443'])).toBe(false);
    expect(hostAllowed('evil.example', 3000, ['abc.tunnel.example'])).toBe(false);
    expect(hostAllowed(undefined, 3000, [])).toBe(false);
  });
});
