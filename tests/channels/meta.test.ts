/**
 * What the three Meta channels share (functions/channels/meta.ts; channels.md §2–§4): Meta's
 * escaped wire form and the signature over it, the GET handshake, the required top level, Graph
 * API answers to our sends — plus a signed fuzz of every accepted sample, which reaches the
 * parsers (the contract test's fuzz mostly stops at the signature).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChannelRequestError, type ChannelAdapter, type PlatformResponse, type RawRequest, type Secrets } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { instagram } from '../../functions/channels/instagram/index.js';
import { messenger } from '../../functions/channels/messenger/index.js';
import {
  META_REPLY_WINDOW_SECONDS, metaEscapeJson, metaHandshake, metaSignature, metaWireBody, readGraphDelivery, verifyMetaSignature,
} from '../../functions/channels/meta.js';
import { whatsapp } from '../../functions/channels/whatsapp/index.js';
import { NormalisedEvent } from '../../functions/domain/inbound.js';
import { TEST_SECRETS, loadSamples } from '../helpers/samples.js';

const APP_SECRET = TEST_SECRETS.META_APP_SECRET!;
const VERIFY = TEST_SECRETS.META_VERIFY_TOKEN!;
const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);
const ADAPTERS: ReadonlyArray<[string, ChannelAdapter]> = [['whatsapp', whatsapp], ['messenger', messenger], ['instagram', instagram]];

function post(body: string, headers: Record<string, string> = { 'x-hub-signature-256': metaSignature(APP_SECRET, body) }): RawRequest {
  return { method: 'POST', path: '/webhooks/whatsapp', query: {}, headers, body: Buffer.from(body, 'utf8') };
}
const get = (query: Record<string, string>): RawRequest => ({ method: 'GET', path: '/webhooks/messenger', query, headers: {}, body: Buffer.alloc(0) });

function refusal(f: () => unknown): ChannelRequestError {
  try {
    f();
  } catch (e) {
    if (e instanceof ChannelRequestError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const res = (status: number, body: unknown, headers: Record<string, string> = {}): PlatformResponse => ({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const graphError = (code: number, subcode?: number, extra: Record<string, unknown> = {}) => ({ error: { message: '(#x) something', type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: 'AbCdEf', ...extra } });

describe('Meta wire form', () => {
  it('escapes every code unit above U+007E as lowercase \\uXXXX and every / as \\/', () => {
    expect(metaEscapeJson(JSON.stringify({ t: 'Zażółć/ü 📦\u007f' }))).toBe('{"t":"Za\\u017c\\u00f3\\u0142\\u0107\\/\\u00fc \\ud83d\\udce6\\u007f"}');
  });

  it('round-trips: the escaped text parses back to the same value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      expect(JSON.parse(metaWireBody(v))).toEqual(JSON.parse(JSON.stringify(v)));
      expect(metaWireBody(JSON.parse(metaWireBody(v)))).toBe(metaWireBody(v));
    }));
  });

  it('keeps a / that follows an escaped backslash a literal /', () => {
    expect(JSON.parse(metaWireBody({ p: 'C:\\/x' }))).toEqual({ p: 'C:\\/x' });
  });
});

describe('X-Hub-Signature-256', () => {
  const body = metaWireBody({ object: 'page', entry: [{ id: '1', messaging: [{ message: { text: 'Привіт / cześć 👋' } }] }] });

  it('accepts the HMAC of the escaped bytes exactly as received', () => {
    expect(() => verifyMetaSignature('messenger', post(body), TEST_SECRETS)).not.toThrow();
  });

  it('refuses a signature computed over the re-serialised (unescaped) JSON with 401', () => {
    const reserialised = JSON.stringify(JSON.parse(body));
    expect(reserialised).not.toBe(body);
    const e = refusal(() => verifyMetaSignature('messenger', post(body, { 'x-hub-signature-256': metaSignature(APP_SECRET, reserialised) }), TEST_SECRETS));
    expect(e.status).toBe(401);
  });

  it('refuses a forged signature with 401', () => {
    expect(refusal(() => verifyMetaSignature('whatsapp', post(body, { 'x-hub-signature-256': metaSignature('another-secret-000000000', body) }), TEST_SECRETS)).status).toBe(401);
  });

  it('refuses a signature of another length with 401 instead of throwing', () => {
    expect(refusal(() => verifyMetaSignature('whatsapp', post(body, { 'x-hub-signature-256': 'sha256=abc' }), TEST_SECRETS)).status).toBe(401);
  });

  it('refuses the legacy SHA-1 X-Hub-Signature alone with 401, even when it is valid', () => {
    const sha1 = `sha1=${createHmac('sha1', APP_SECRET).update(body).digest('hex')}`;
    const e = refusal(() => verifyMetaSignature('instagram', post(body, { 'x-hub-signature': sha1 }), TEST_SECRETS));
    expect(e.status).toBe(401);
    expect(JSON.stringify(e.cause)).not.toContain(sha1);
  });

  it('refuses uppercase hex (Meta sends lowercase) with 401', () => {
    const upper = `sha256=${metaSignature(APP_SECRET, body).slice(7).toUpperCase()}`;
    expect(refusal(() => verifyMetaSignature('whatsapp', post(body, { 'x-hub-signature-256': upper }), TEST_SECRETS)).status).toBe(401);
  });

  it('refuses everything when META_APP_SECRET is not configured', () => {
    expect(refusal(() => verifyMetaSignature('whatsapp', post(body), { ...TEST_SECRETS, META_APP_SECRET: '' })).status).toBe(401);
  });

  it('checks the signature before parsing: a forged malformed body is 401, not 400', () => {
    for (const [, adapter] of ADAPTERS) {
      const e = refusal(() => adapter.admit(post('{"object":', { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }), TEST_SECRETS, NOW));
      expect(e.status).toBe(401);
    }
  });
});

describe('GET hub.challenge handshake', () => {
  const ok = { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY, 'hub.challenge': '1158201444' };

  it('answers exactly the challenge as text/plain (no JSON, no quotes)', () => {
    expect(metaHandshake('messenger', get(ok), TEST_SECRETS)).toMatchObject({ status: 200, headers: { 'content-type': 'text/plain' }, body: '1158201444' });
  });

  it('is answered by admit as a handshake on all three channels, never enqueued', async () => {
    for (const [, adapter] of ADAPTERS) expect(await adapter.admit(get(ok), TEST_SECRETS, NOW)).toMatchObject({ kind: 'handshake', reply: { status: 200, body: '1158201444' } });
  });

  it('refuses a wrong verify token with 403 and never echoes the challenge', () => {
    const e = refusal(() => metaHandshake('whatsapp', get({ ...ok, 'hub.verify_token': 'test-meta-verify-009' }), TEST_SECRETS));
    expect(e.status).toBe(403);
    expect(`${e.message} ${JSON.stringify(e.cause)}`).not.toContain('1158201444');
  });

  it('refuses a verify token of another length, a missing one, or any mode but subscribe with 403', () => {
    expect(refusal(() => metaHandshake('whatsapp', get({ ...ok, 'hub.verify_token': 'x' }), TEST_SECRETS)).status).toBe(403);
    const { 'hub.verify_token': _t, ...noToken } = ok;
    expect(refusal(() => metaHandshake('whatsapp', get(noToken), TEST_SECRETS)).status).toBe(403);
    expect(refusal(() => metaHandshake('whatsapp', get({ ...ok, 'hub.mode': 'unsubscribe' }), TEST_SECRETS)).status).toBe(403);
  });

  it('refuses when META_VERIFY_TOKEN is not configured, whatever the query says', () => {
    expect(refusal(() => metaHandshake('whatsapp', get({ ...ok, 'hub.verify_token': '' }), { ...TEST_SECRETS, META_VERIFY_TOKEN: '' })).status).toBe(403);
  });

  it('refuses a missing or unprintable challenge with 400 after a valid token', () => {
    const { 'hub.challenge': _c, ...noChallenge } = ok;
    expect(refusal(() => metaHandshake('whatsapp', get(noChallenge), TEST_SECRETS)).status).toBe(400);
    expect(refusal(() => metaHandshake('whatsapp', get({ ...ok, 'hub.challenge': '<script>x</script> y' }), TEST_SECRETS)).status).toBe(400);
  });
});

describe('capabilities shared by the Meta channels', () => {
  it('declares the 24-hour window, native buttons and the GET handshake method', () => {
    for (const [, adapter] of ADAPTERS) {
      expect(adapter.capabilities).toMatchObject({ maxBodyBytes: 262_144, replyWindowSeconds: 86_400, buttons: true, extraMethods: ['GET'] });
      expect(adapter.inboundSecrets).toEqual(['META_APP_SECRET', 'META_VERIFY_TOKEN']);
    }
    expect(META_REPLY_WINDOW_SECONDS).toBe(24 * 3600);
  });

  it('answers an accepted POST with 200 EVENT_RECEIVED', async () => {
    const body = metaWireBody({ object: 'page', entry: [] });
    expect(await messenger.admit(post(body), TEST_SECRETS, NOW)).toMatchObject({ kind: 'accepted', reply: { status: 200, body: 'EVENT_RECEIVED' } });
  });
});

describe('Graph API answers (readGraphDelivery)', () => {
  const id = (b: Record<string, unknown>) => (typeof b.message_id === 'string' ? b.message_id : undefined);

  it('reads the new message id from a 200', () => {
    expect(readGraphDelivery(res(200, { recipient_id: '1', message_id: 'm_1' }), id)).toEqual({ ok: true, external_message_id: 'm_1' });
    expect(readGraphDelivery(res(200, ''), id)).toEqual({ ok: true });
  });

  it('retries 429 and rate-limit codes, honouring Retry-After', () => {
    expect(readGraphDelivery(res(429, graphError(4), { 'retry-after': '30' }), id)).toEqual({ ok: false, retryable: true, retry_after_s: 30, error_code: '4' });
    expect(readGraphDelivery(res(400, graphError(130429)), id)).toMatchObject({ ok: false, retryable: true, error_code: '130429' });
    expect(readGraphDelivery(res(400, graphError(131056)), id)).toMatchObject({ retryable: true });
    expect(readGraphDelivery(res(400, graphError(613)), id)).toMatchObject({ retryable: true });
  });

  it('retries 5xx, transient errors and service-unavailable codes', () => {
    expect(readGraphDelivery(res(503, 'Service Unavailable'), id)).toEqual({ ok: false, retryable: true, error_code: '503' });
    expect(readGraphDelivery(res(500, graphError(2)), id)).toMatchObject({ retryable: true, error_code: '2' });
    expect(readGraphDelivery(res(400, graphError(9999, undefined, { is_transient: true })), id)).toMatchObject({ retryable: true });
    expect(readGraphDelivery(res(400, graphError(131016)), id)).toMatchObject({ retryable: true });
  });

  it('fails a reply outside the window permanently with the platform code (WhatsApp 131047, Messenger 10/2018278)', () => {
    expect(readGraphDelivery(res(400, graphError(131047)), id)).toEqual({ ok: false, retryable: false, error_code: '131047' });
    expect(readGraphDelivery(res(400, graphError(10, 2018278)), id)).toEqual({ ok: false, retryable: false, error_code: '10/2018278' });
  });

  it('marks blocked or unavailable people unreachable (131026, 131050, 551, 100/2018001)', () => {
    for (const [code, sub] of [[131026], [131050], [551, 1545041], [100, 2018001]] as const) {
      expect(readGraphDelivery(res(400, graphError(code, sub)), id)).toMatchObject({ ok: false, retryable: false, unreachable: true });
    }
  });

  it('fails other errors permanently, with the status when the body is not a Graph error', () => {
    expect(readGraphDelivery(res(401, graphError(190, 463)), id)).toEqual({ ok: false, retryable: false, error_code: '190/463' });
    expect(readGraphDelivery(res(404, '<html>'), id)).toEqual({ ok: false, retryable: false, error_code: '404' });
  });
});

describe('signed hostile input reaches the parsers and only ever yields schema-valid events', () => {
  const HOSTILE: unknown[] = ['', '0', '9'.repeat(20), 'ü'.repeat(300), -1, 1.5, 2 ** 53, true, null, {}, [], [{}], { id: {} }];

  function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(v)) return [prefix, ...v.flatMap((x, i) => paths(x, [...prefix, i]))];
    if (typeof v === 'object' && v !== null) return [prefix, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...prefix, k]))];
    return [prefix];
  }
  function mutate(doc: unknown, path: (string | number)[], value: unknown, del: boolean): unknown {
    if (path.length === 0) return value;
    const copy = structuredClone(doc) as Record<string | number, unknown>;
    let node = copy;
    for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
    const last = path.at(-1)!;
    if (del) { if (Array.isArray(node)) node.splice(Number(last), 1); else delete node[last]; } else node[last] = value;
    return copy;
  }

  async function check(adapter: ChannelAdapter, value: unknown, secrets: Secrets = TEST_SECRETS): Promise<void> {
    const body = metaWireBody(value);
    const req = post(body);
    let admission;
    try {
      admission = await adapter.admit(req, secrets, NOW);
    } catch (e) {
      if (e instanceof ChannelRequestError && e.status === 400) return;
      throw e;
    }
    if (admission.kind !== 'accepted') throw new Error('a POST was answered as a handshake');
    const envelope = JSON.parse(JSON.stringify(buildEnvelope(adapter.name, req, admission, NOW, 'req-fuzz')));
    const events = await adapter.parse(envelope);
    for (const ev of events) {
      const r = NormalisedEvent.safeParse(ev);
      if (!r.success) throw new Error(`schema-invalid event ${JSON.stringify(ev)}: ${r.error.message}`);
    }
  }

  for (const [name, adapter] of ADAPTERS) {
    const bodies = loadSamples(name).filter((s) => s.kind === 'accepted' && s.request.method === 'POST').map((s) => JSON.parse(s.request.body) as unknown);

    it(`${name}: every field of every accepted sample replaced by a hostile value, or deleted`, async () => {
      for (const doc of bodies) {
        for (const path of paths(doc).slice(1)) {
          for (const [del, value] of [[true, undefined] as const, ...HOSTILE.map((v) => [false, v] as const)]) {
            await check(adapter, mutate(doc, path, value, del)).catch((e: unknown) => {
              throw new Error(`${path.join('.')} ${del ? 'deleted' : `→ ${JSON.stringify(value)}`}: ${(e as Error).message}`);
            });
          }
        }
      }
    });

    it(`${name}: random JSON under a valid signature`, async () => {
      await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 5 }), fc.constantFrom('whatsapp_business_account', 'page', 'instagram'), async (entry, object) => {
        await check(adapter, { object, entry: Array.isArray(entry) ? entry : [entry] });
      }), { numRuns: 300 });
    });
  }
});
