/**
 * The Lambda side of `DownloadBytes` (ports.ts): fetch, following redirects (Twilio's media URL
 * redirects to its storage; fetch drops `Authorization` on a cross-origin redirect, per the Fetch
 * standard), reading the body stream chunk by chunk and aborting once past the limit.
 */
import type { DownloadBytes } from './ports.js';

export const fetchDownload: DownloadBytes = async (request, { maxBytes, timeoutMs }) => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('download timed out')), timeoutMs);
  try {
    const res = await fetch(request.url, { method: request.method, headers: request.headers as Record<string, string>, redirect: 'follow', signal: controller.signal });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => { headers[k] = v; });
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      controller.abort();
      return { kind: 'too_large', status: res.status, size: declared };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > maxBytes) { controller.abort(); return { kind: 'too_large', status: res.status }; }
        chunks.push(Buffer.from(chunk));
      }
    }
    return { kind: 'bytes', status: res.status, headers, bytes: Buffer.concat(chunks) };
  } finally {
    clearTimeout(timer);
  }
};
