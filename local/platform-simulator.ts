/**
 * Locally no platform is called: the outbox records the request and this answers the way the
 * platform would on success, so the sender's real `readDelivery` path runs (outbound ids for
 * receipts included). One entry per channel; a channel without one gets a bare 200.
 *
 * `POST /dev/simulator` arms other answers for the next requests of a channel (`PlatformSimulator`
 * below): rate limits with a retry-after, permanent refusals, "blocked" codes, timeouts — so every
 * failure path of the sender runs end to end locally.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { PlatformRequest, PlatformResponse } from '../functions/channels/channel.js';
import { CHANNELS } from '../functions/domain/inbound.js';

let seq = 1000;
const json = (body: unknown): PlatformResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const bodyOf = (r: PlatformRequest): Record<string, unknown> => {
  if (r.form) return Object.fromEntries(r.form.filter((f) => 'value' in f).map((f) => [f.name, (f as { value: string }).value]));
  try { return JSON.parse(r.body ?? '{}'); } catch { return {}; }
};

/**
 * VK's upload flow (https://dev.vk.com/en/api/upload/photo-in-message): the upload server's URL,
 * the upload's receipt, the saved photo or document — then messages.send.
 */
function vkAnswer(req: PlatformRequest): PlatformResponse {
  const method = req.url.startsWith('https://api.vk.com/method/') ? req.url.slice('https://api.vk.com/method/'.length) : undefined;
  if (method === 'photos.getMessagesUploadServer' || method === 'docs.getMessagesUploadServer') return json({ response: { upload_url: `https://pu.vk.com/c${++seq}/upload.php?act=do_add`, album_id: -3, group_id: 1 } });
  if (method === undefined) {
    const field = req.form?.find((f) => !('value' in f))?.name;
    return field === 'photo' ? json({ server: ++seq, photo: `[{"photo":"sim${seq}","sizes":[]}]`, hash: `h${seq}` }) : json({ file: `sim-file-${++seq}` });
  }
  if (method === 'photos.saveMessagesPhoto') return json({ response: [{ id: ++seq, owner_id: -1, access_key: `k${seq}` }] });
  if (method === 'docs.save') return json({ response: { type: 'doc', doc: { id: ++seq, owner_id: -1 } } });
  // messages.send with peer_id answers the new message's id (https://dev.vk.com/en/method/messages.send).
  // messages.sendMessageEventAnswer answers 1 (https://dev.vk.com/en/method/messages.sendMessageEventAnswer).
  return json({ response: method === 'messages.sendMessageEventAnswer' ? 1 : ++seq });
}

/** Graph API (WhatsApp, Messenger, Instagram) message ids as the platforms spell them. */
const graphIds = {
  wamid: (to: unknown) => `wamid.${Buffer.from(`${String(to)}\u0015${(++seq).toString(16).toUpperCase().padStart(20, '0')}`).toString('base64')}`,
  mid: (prefix: string) => `${prefix}${Buffer.from(`confluo-sim-${++seq}`).toString('base64url')}`,
  recipient: (req: PlatformRequest): unknown => { const r = bodyOf(req).recipient; return typeof r === 'object' && r !== null ? (r as Record<string, unknown>).id ?? null : null; },
};

export const SIMULATED_RESPONSES: Record<string, (req: PlatformRequest) => PlatformResponse> = {
  // answerCallbackQuery answers `result: true` (https://core.telegram.org/bots/api#answercallbackquery); sendMessage the Message.
  telegram: (req) => req.url.endsWith('/answerCallbackQuery') ? json({ ok: true, result: true }) : json({ ok: true, result: { message_id: ++seq, chat: { id: bodyOf(req).chat_id }, date: Math.floor(Date.now() / 1000) } }),
  webchat: () => ({ status: 200, headers: {}, body: '' }),
  // Messages.json answers 201 with the Message resource; its `sid` comes back in status callbacks.
  twilio: (req) => { const f = new URLSearchParams(req.body ?? ''); return { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sid: `SM${(++seq).toString(16).padStart(32, '0')}`, status: 'queued', to: f.get('To'), from: f.get('From'), messaging_service_sid: f.get('MessagingServiceSid'), body: f.get('Body'), num_segments: '1', error_code: null, error_message: null, api_version: '2010-04-01' }) }; },
  // SES SendRawEmail answers its MessageId (SES makes the Message-ID `<MessageId@<region>.amazonses.com>` of it).
  email: () => json({ MessageId: `0107${Date.now().toString(16).padStart(12, '0')}-${globalThis.crypto.randomUUID()}-000000` }),
  vk: vkAnswer,
  // send_message answers status 0 and a message_token above 2^53 as a bare integer (receipts carry it back).
  viber: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: `{"status":0,"status_message":"ok","message_token":${5741311803571721087n + BigInt(++seq)},"chat_hostname":"SN-CHAT-05_","billing_status":1}` }),
  // WhatsApp /<phone_number_id>/messages answers the wamid its statuses carry; the Send API (Messenger, Instagram) the mid receipts name.
  whatsapp: (req) => { const b = bodyOf(req); return json({ messaging_product: 'whatsapp', contacts: [{ input: b.to ?? b.recipient, ...(b.to !== undefined ? { wa_id: b.to } : { user_id: b.recipient }) }], messages: [{ id: graphIds.wamid(b.to ?? b.recipient) }] }); },
  messenger: (req) => json({ recipient_id: graphIds.recipient(req), message_id: graphIds.mid('m_') }),
  instagram: (req) => json({ recipient_id: graphIds.recipient(req), message_id: graphIds.mid('aWdfZAG1faXRlbToxOklHTWVzc2FnZAU') }),
};

export function simulateResponse(channel: string, req: PlatformRequest): PlatformResponse {
  return (SIMULATED_RESPONSES[channel] ?? (() => json({})))(req);
}

// ---------------------------------------------------------------------------------------------
// Failures on request (`POST /dev/simulator`)
// ---------------------------------------------------------------------------------------------

/**
 * One armed answer: the next `times` requests of `channel` get this status, body and headers
 * instead of the success answer — a 429 with `retry_after`, a permanent refusal, a "blocked"
 * code — or, with `timeout: true`, no answer at all (the request times out as `fetch` with
 * `AbortSignal.timeout` would). E-mail answers go through SES: a status other than 200 is a
 * service error named by `body.Error.Code` (default `MessageRejected`).
 */
export const SimulatorRule = z.strictObject({
  // `shopify`: the orders pull's requests to the simulated shop (local/shopify-simulator.ts).
  channel: z.enum([...CHANNELS, 'shopify']),
  status: z.number().int().min(200).max(599).optional(),
  body: z.union([z.string().max(65_536), z.record(z.string(), z.unknown())]).optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(1000)).optional(),
  times: z.number().int().min(1).max(10_000).default(1),
  timeout: z.boolean().optional(),
}).refine((r) => (r.timeout === true) !== (r.status !== undefined), { message: 'give either status (with body/headers) or timeout: true' });
export type SimulatorRule = z.infer<typeof SimulatorRule>;

/** What an armed rule makes of a request. */
export type SimulatedAnswer = { readonly kind: 'response'; readonly response: PlatformResponse } | { readonly kind: 'timeout' };

/** The armed answers of the local platforms, in the order they were armed (per channel, first armed first used). */
export class PlatformSimulator {
  private rules: Array<{ rule: SimulatorRule; left: number }> = [];

  arm(rule: SimulatorRule): void { this.rules.push({ rule, left: rule.times }); }

  reset(): void { this.rules = []; }

  /** The armed rules with the answers they still give. */
  list(): Array<SimulatorRule & { readonly left: number }> { return this.rules.map((r) => ({ ...r.rule, left: r.left })); }

  /** The armed answer for this channel (used up one at a time), or undefined: answer as on success. */
  take(channel: string): SimulatedAnswer | undefined {
    const armed = this.rules.find((r) => r.rule.channel === channel && r.left > 0);
    if (!armed) return undefined;
    armed.left -= 1;
    this.rules = this.rules.filter((r) => r.left > 0);
    if (armed.rule.timeout) return { kind: 'timeout' };
    const body = armed.rule.body === undefined ? '' : typeof armed.rule.body === 'string' ? armed.rule.body : JSON.stringify(armed.rule.body);
    const headers = Object.fromEntries(Object.entries(armed.rule.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    if (typeof armed.rule.body === 'object' && !('content-type' in headers)) headers['content-type'] = 'application/json';
    return { kind: 'response', response: { status: armed.rule.status!, headers, body } };
  }
}

/** The error `fetch` rejects with when `AbortSignal.timeout` fires (a DOMException named TimeoutError). */
export function simulatedTimeout(): Error {
  return Object.assign(new Error('The operation was aborted due to timeout (simulated)'), { name: 'TimeoutError' });
}

// ---------------------------------------------------------------------------------------------
// Attachment downloads (issue 14)
// ---------------------------------------------------------------------------------------------

const SAMPLE_DIR = new URL('./sample-media/', import.meta.url);
/** The sample files the simulated platforms serve, by name. */
export const SAMPLE_MEDIA = {
  jpeg: { file: 'photo.jpg', type: 'image/jpeg', ext: 'jpg' },
  png: { file: 'image.png', type: 'image/png', ext: 'png' },
  pdf: { file: 'invoice.pdf', type: 'application/pdf', ext: 'pdf' },
} as const;
export type SampleMedia = keyof typeof SAMPLE_MEDIA;

export function sampleMediaBytes(name: SampleMedia): Buffer {
  return readFileSync(new URL(SAMPLE_MEDIA[name].file, SAMPLE_DIR));
}

/** Size of the body served for a URL that asks for an oversized file (`…oversize…`): past a 1 MB limit. */
export const OVERSIZE_BYTES = 2 * 1024 * 1024 + 1;

/**
 * Which sample a URL or id asks for, by a word in it: `pdf`/`doc`, `png`; anything else a JPEG
 * (the usual photo). `gone`/`expired` → 404, `oversize` → OVERSIZE_BYTES of JPEG-headed bytes.
 */
function sampleFor(hint: string): SampleMedia | 'gone' | 'oversize' {
  const h = hint.toLowerCase();
  if (/gone|expired/.test(h)) return 'gone';
  if (/oversize/.test(h)) return 'oversize';
  if (/pdf|doc/.test(h)) return 'pdf';
  if (/png/.test(h)) return 'png';
  return 'jpeg';
}

const bytesAnswer = (status: number, type: string, bytes: Buffer) => ({ status, headers: { 'content-type': type, 'content-length': String(bytes.length) }, bytes });

/**
 * What the platforms answer to attachment downloads (never recorded in the outbox: reads, not
 * messages): Telegram getFile and the file URL; the Graph API media lookup and its lookaside URL
 * (bearer token required); Twilio media URLs (Basic auth required); CDN URLs of the other
 * channels. Bytes come from local/sample-media/.
 */
export function simulateDownload(req: PlatformRequest): { status: number; headers: Record<string, string>; bytes: Buffer } {
  const url = new URL(req.url);
  const auth = req.headers.authorization ?? '';
  const unauthorized = bytesAnswer(401, 'application/json', Buffer.from('{"error":"unauthorized"}'));
  const notFound = bytesAnswer(404, 'application/json', Buffer.from('{"error":"not found"}'));
  const serve = (hint: string) => {
    const s = sampleFor(hint);
    if (s === 'gone') return notFound;
    if (s === 'oversize') { const b = Buffer.alloc(OVERSIZE_BYTES); sampleMediaBytes('jpeg').copy(b); return bytesAnswer(200, 'image/jpeg', b); }
    return bytesAnswer(200, SAMPLE_MEDIA[s].type, sampleMediaBytes(s));
  };
  if (url.hostname === 'api.telegram.org') {
    const getFile = /^\/bot[^/]+\/getFile$/.exec(url.pathname);
    if (getFile) {
      const fileId = url.searchParams.get('file_id') ?? '';
      const s = sampleFor(fileId);
      if (s === 'gone') return bytesAnswer(400, 'application/json', Buffer.from('{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}'));
      const path = s === 'oversize' ? 'videos/file_oversize.mp4' : `${s === 'pdf' ? 'documents' : 'photos'}/file_${(++seq).toString(36)}.${SAMPLE_MEDIA[s].ext}`;
      const body = { ok: true, result: { file_id: fileId, file_unique_id: `u${seq}`, file_path: path, ...(s === 'oversize' ? {} : { file_size: sampleMediaBytes(s).length }) } };
      return bytesAnswer(200, 'application/json', Buffer.from(JSON.stringify(body)));
    }
    if (url.pathname.startsWith('/file/bot')) return serve(url.pathname);
    return notFound;
  }
  if (url.hostname === 'graph.facebook.com' && /^\/v[\d.]+\/\d+$/.test(url.pathname)) {
    if (!auth.startsWith('Bearer ') || auth.includes('<')) return unauthorized;
    const id = url.pathname.split('/').pop()!;
    // Media ids are digits: every one is a photo here.
    const kind: SampleMedia = 'jpeg';
    const bytes = sampleMediaBytes(kind);
    const body = { messaging_product: 'whatsapp', id, url: `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=${id}&ext=${SAMPLE_MEDIA[kind].ext}`, mime_type: SAMPLE_MEDIA[kind].type, sha256: createHash('sha256').update(bytes).digest('hex'), file_size: bytes.length };
    return bytesAnswer(200, 'application/json', Buffer.from(JSON.stringify(body)));
  }
  if (url.hostname === 'lookaside.fbsbx.com') {
    if (!auth.startsWith('Bearer ') || auth.includes('<')) return unauthorized;
    return serve(url.searchParams.get('ext') ?? '');
  }
  if (url.hostname === 'api.twilio.com') {
    if (!auth.startsWith('Basic ') || auth.includes('<')) return unauthorized;
    return serve(url.pathname);
  }
  return serve(`${url.pathname}${url.search}`);
}
