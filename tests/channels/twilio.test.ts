/**
 * Twilio edge cases the samples cannot express (channels.md §7): the signed-URL rule in both
 * directions, repeated and empty parameters, form decoding, status words, the per-conversation
 * reply window, the Messages.json request and how its answers map to delivery. The ordinary
 * request kinds are covered by functions/channels/twilio/samples via contract.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { renderOne } from '../helpers/render.js';
import { renderRequests } from '../../functions/channels/channel.js';
import fc from 'fast-check';
import { ChannelRequestError, replyWindowOf, type Envelope, type OutboundMessage, type PlatformResponse, type RawRequest, type Secrets } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { decodeForm, signedString, twilioSignature, urlForms, type FormPair } from '../../functions/channels/twilio/form.js';
import { EMPTY_TWIML, TWILIO_MAX_BODY, WHATSAPP_WINDOW_SECONDS, phoneOfAddress, twilio } from '../../functions/channels/twilio/index.js';
import { NormalisedEvent, type InboundMessage } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const TOKEN = TEST_SECRETS.TWILIO_AUTH_TOKEN!;
const URL_ = TEST_SECRETS.TWILIO_WEBHOOK_URL!;
const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);
const SID = 'SM0123456789abcdef0123456789abcdef';

const form = (pairs: readonly FormPair[]) => new URLSearchParams(pairs as [string, string][]).toString();

function request(pairs: readonly FormPair[], opts: { url?: string; token?: string; headers?: Record<string, string>; body?: string } = {}): RawRequest {
  const body = opts.body ?? form(pairs);
  const signature = twilioSignature(opts.token ?? TOKEN, opts.url ?? URL_, decodeForm(Buffer.from(body, 'utf8')));
  return {
    method: 'POST', path: '/webhooks/twilio', query: {},
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, ...opts.headers },
    body: Buffer.from(body, 'utf8'),
  };
}

const sms = (extra: readonly FormPair[] = []): FormPair[] => [
  ['MessageSid', SID], ['SmsSid', SID], ['SmsStatus', 'received'], ['From', '+12065550142'], ['To', '+14155550100'],
  ['Body', 'Hello'], ['NumMedia', '0'], ['FromCity', ''], ...extra,
];

async function refusal(req: RawRequest, secrets: Secrets = TEST_SECRETS): Promise<ChannelRequestError> {
  try {
    await twilio.admit(req, secrets, NOW);
  } catch (e) {
    if (e instanceof ChannelRequestError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

async function events(req: RawRequest, secrets: Secrets = TEST_SECRETS): Promise<NormalisedEvent[]> {
  const admission = await twilio.admit(req, secrets, NOW);
  if (admission.kind !== 'accepted') throw new Error('expected acceptance');
  const envelope: Envelope = JSON.parse(JSON.stringify(buildEnvelope('twilio', req, admission, NOW, 'req-1')));
  const out = await twilio.parse(envelope);
  for (const e of out) NormalisedEvent.parse(e);
  return out;
}

async function message(req: RawRequest): Promise<InboundMessage> {
  const [e] = await events(req);
  if (e?.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(e)}`);
  return e;
}

describe('twilio signature (X-Twilio-Signature)', () => {
  it('signs the URL followed by name+value pairs in sorted name order, an empty value as the name alone', () => {
    expect(signedString('https://h.example/w', [['To', '+1'], ['Body', 'hi'], ['FromCity', ''], ['AccountSid', 'AC1']]))
      .toBe('https://h.example/wAccountSidAC1BodyhiFromCityTo+1');
  });

  it('matches the worked example of Twilio\'s security docs', () => {
    // https://www.twilio.com/docs/usage/webhooks/webhooks-security — auth token 12345, expected 0/KCTR6DLpKmkAf8muzZqo1nDgQ=
    const pairs: FormPair[] = [['CallSid', 'CA1234567890ABCDE'], ['Caller', '+12349013030'], ['Digits', '1234'], ['From', '+12349013030'], ['To', '+18005551212']];
    expect(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', pairs)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('lets a repeated name contribute each value, values sorted', () => {
    expect(signedString('u', [['b', '2'], ['a', 'z'], ['b', '1'], ['b', '1']])).toBe('uazb1b1b2');
    expect(signedString('u', [['b', '2'], ['b', '1'], ['b', '1']], true)).toBe('ub1b2');
    // The signature keeps repeated equal values unless asked to drop them (HMAC-SHA1 of `ub1b1` / `ub1`, key 12345).
    expect(twilioSignature('12345', 'u', [['b', '1'], ['b', '1']])).toBe('cXQ8iSkDSVjRu83FyQ1XrDxgUbc=');
    expect(twilioSignature('12345', 'u', [['b', '1'], ['b', '1']], true)).toBe('G+4hhHKCTV8QPRheb49C5UJ4e4w=');
  });

  it('sorts names, and the values of a repeated name, by their UTF-8 bytes (not UTF-16 code units)', () => {
    // U+FF01 is EF BC 81 in UTF-8 and sorts before U+1F600 (F0 9F 98 80); in UTF-16 the emoji's
    // surrogate D83D comes first.
    expect(signedString('u', [['\u{1F600}', '1'], ['\uFF01', '2']])).toBe('u\uFF012\u{1F600}1');
    expect(signedString('u', [['n', '\u{1F600}'], ['n', '\uFF01']])).toBe('un\uFF01n\u{1F600}');
  });

  it('accepts a signature over the configured URL and over its :443 twin', async () => {
    expect((await twilio.admit(request(sms()), TEST_SECRETS, NOW)).kind).toBe('accepted');
    expect((await twilio.admit(request(sms(), { url: 'https://hooks.acme.example:443/webhooks/twilio' }), TEST_SECRETS, NOW)).kind).toBe('accepted');
  });

  it('accepts a signature without the port when TWILIO_WEBHOOK_URL is configured with :443', async () => {
    const secrets = { ...TEST_SECRETS, TWILIO_WEBHOOK_URL: 'https://hooks.acme.example:443/webhooks/twilio' };
    expect((await twilio.admit(request(sms(), { url: 'https://hooks.acme.example/webhooks/twilio' }), secrets, NOW)).kind).toBe('accepted');
  });

  it('toggles only the default port of the scheme, keeping everything else byte for byte', () => {
    expect(urlForms('https://h.example/w?x=1')).toEqual(['https://h.example/w?x=1', 'https://h.example:443/w?x=1']);
    expect(urlForms('http://h.example/w')).toEqual(['http://h.example/w', 'http://h.example:80/w']);
    expect(urlForms('http://h.example:80/w')).toEqual(['http://h.example:80/w', 'http://h.example/w']);
    expect(urlForms('https://h.example:8443/w')).toEqual(['https://h.example:8443/w']);
    expect(urlForms('https://[2001:db8::1]/w')).toEqual(['https://[2001:db8::1]/w', 'https://[2001:db8::1]:443/w']);
    expect(urlForms('https://HOOKS.example/W%2F')).toEqual(['https://HOOKS.example/W%2F', 'https://HOOKS.example:443/W%2F']);
  });

  it('reads the scheme in any case, and keeps credentials in the URL while toggling the port', () => {
    expect(urlForms('HTTPS://h.example/w')).toEqual(['HTTPS://h.example/w', 'HTTPS://h.example:443/w']);
    expect(urlForms('https://u:p@h.example/w')).toEqual(['https://u:p@h.example/w', 'https://u:p@h.example:443/w']);
    expect(urlForms('https://u:p@h.example:443/w')).toEqual(['https://u:p@h.example:443/w', 'https://u:p@h.example/w']);
  });

  it('has no twin for another scheme\'s default port, an empty port, an unclosed IPv6 literal or what is not an http(s) URL', () => {
    for (const url of ['http://h.example:443/w', 'https://h.example:80/w', 'https://h.example:/w', 'https://[2001:db8::1/w', 'https://[ab/w', 'hooks.example/w', 'ftp://h.example/w', 'see https://h.example/w']) {
      expect(urlForms(url), url).toEqual([url]);
    }
  });

  it('refuses a signature over another port, another scheme or the URL with a trailing slash with 401', async () => {
    for (const url of ['https://hooks.acme.example:8443/webhooks/twilio', 'http://hooks.acme.example/webhooks/twilio', `${URL_}/`]) {
      expect((await refusal(request(sms(), { url }))).status, url).toBe(401);
    }
  });

  it('refuses a forged signature, one of another length, and an empty header with 401', async () => {
    expect((await refusal(request(sms(), { token: 'not-the-token' }))).status).toBe(401);
    expect((await refusal(request(sms(), { headers: { 'x-twilio-signature': 'c2hvcnQ=' } }))).status).toBe(401);
    expect((await refusal(request(sms(), { headers: { 'x-twilio-signature': '' } }))).status).toBe(401);
  });

  it('refuses when a signed empty parameter is dropped, or one is added, with 401', async () => {
    const signed = request(sms());
    const without = signed.body.toString('utf8').replace('&FromCity=', '');
    expect((await refusal({ ...signed, body: Buffer.from(without) })).status).toBe(401);
    expect((await refusal({ ...signed, body: Buffer.from(`${signed.body.toString('utf8')}&Extra=`) })).status).toBe(401);
  });

  it('verifies what the parameters mean, not how they were encoded (%20 and + are both a space)', async () => {
    const signed = request(sms([['Note', 'a b']]));
    const respelled = signed.body.toString('utf8').replace('Note=a+b', 'Note=a%20b');
    expect((await twilio.admit({ ...signed, body: Buffer.from(respelled) }, TEST_SECRETS, NOW)).kind).toBe('accepted');
  });

  it('refuses with 401 (not 404 or a crash) when the inbound settings are missing', async () => {
    expect((await refusal(request(sms()), { ...TEST_SECRETS, TWILIO_WEBHOOK_URL: undefined })).status).toBe(401);
  });

  it('decodes the form before the signature: a malformed body is 400 even without a signature', async () => {
    const req: RawRequest = { method: 'POST', path: '/webhooks/twilio', query: {}, headers: {}, body: Buffer.from('Body=%E2%82') };
    expect(await refusal(req)).toMatchObject({ status: 400, code: 'malformed' });
    const raw: RawRequest = { ...req, body: Buffer.from([0x42, 0x6f, 0x64, 0x79, 0x3d, 0xc3, 0x28]) };
    expect(await refusal(raw)).toMatchObject({ status: 400, code: 'malformed' });
  });
});

describe('twilio form decoding', () => {
  it('keeps empty values, names without `=` and wire order; skips empty pieces', () => {
    expect(decodeForm(Buffer.from('a=&b&&c=%2B1+2&=x&'))).toEqual([['a', ''], ['b', ''], ['c', '+1 2'], ['', 'x']]);
  });
});

describe('twilio validation', () => {
  it('refuses a correctly signed request without MessageSid/SmsSid or From with 400 invalid', async () => {
    expect(await refusal(request(sms().filter(([k]) => k !== 'MessageSid' && k !== 'SmsSid')))).toMatchObject({ status: 400, code: 'invalid' });
    expect(await refusal(request(sms().filter(([k]) => k !== 'From')))).toMatchObject({ status: 400, code: 'invalid' });
    expect(await refusal(request(sms().map(([k, v]) => [k, k === 'From' ? '' : v] as FormPair)))).toMatchObject({ status: 400 });
  });

  it('takes SmsSid when MessageSid is absent (older webhooks)', async () => {
    const m = await message(request(sms().filter(([k]) => k !== 'MessageSid')));
    expect(m.dedup_key).toBe(SID);
  });

  it('refuses NumMedia that is not a small count, or coordinates that are not numbers, with 400', async () => {
    for (const bad of [[['NumMedia', 'x']], [['NumMedia', '11']], [['Latitude', '52.1']], [['Latitude', 'north'], ['Longitude', '1']], [['Latitude', '91'], ['Longitude', '1']]] as FormPair[][]) {
      const pairs = [...sms().filter(([k]) => !bad.some(([b]) => b === k)), ...bad];
      expect((await refusal(request(pairs))).status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('accepts any correctly signed form as schema-valid events or refuses it with 400 (property)', async () => {
    const names = fc.constantFrom('MessageSid', 'SmsSid', 'From', 'To', 'Body', 'NumMedia', 'MediaUrl0', 'MediaContentType0', 'MessageStatus', 'SmsStatus',
      'ErrorCode', 'Latitude', 'Longitude', 'ButtonPayload', 'ButtonText', 'MessageType', 'ListId', 'OptOutType', 'ProfileName', 'FromCountry', 'OriginalRepliedMessageSid');
    const values = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', '0', '1', '10', SID, '+12065550142', 'whatsapp:+12065550142', 'STOP', 'button', 'delivered', 'received', 'US', 'image/png', '-0.5', '1e3'));
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(names, values), { maxLength: 12 }), async (extra) => {
      const req = request([['MessageSid', SID], ['From', '+12065550142'], ...extra]);
      try {
        await events(req);
      } catch (e) {
        if (!(e instanceof ChannelRequestError) || e.status !== 400) throw e;
      }
    }), { numRuns: 300 });
  });
});

describe('twilio inbound messages', () => {
  it('answers 200 with empty TwiML and carries only the idempotency token header', async () => {
    const req = request(sms(), { headers: { 'i-twilio-idempotency-token': 'a1b2c3d4-0000-4000-8000-000000000001', 'user-agent': 'TwilioProxy/1.1' } });
    const admission = await twilio.admit(req, TEST_SECRETS, NOW);
    expect(admission).toMatchObject({
      kind: 'accepted', conversationKey: '+12065550142',
      headers: { 'i-twilio-idempotency-token': 'a1b2c3d4-0000-4000-8000-000000000001' },
      reply: { status: 200, headers: { 'content-type': 'text/xml' }, body: EMPTY_TWIML },
    });
    expect(Object.keys((admission as { headers?: object }).headers ?? {})).toEqual(['i-twilio-idempotency-token']);
  });

  it('uses the time of receipt as sent_at, Body verbatim (no trimming) and the business number as reply context', async () => {
    const m = await message(request(sms([]).map(([k, v]) => [k, k === 'Body' ? '  Zażółć gęślą jaźń 🚚\n' : v] as FormPair)));
    expect(m).toMatchObject({ sent_at: Math.floor(NOW / 1000), text: '  Zażółć gęślą jaźń 🚚\n', sub_channel: 'sms', business_address: '+14155550100', conversation_id: '+12065550142' });
    expect(m.sent_at_ms).toBeUndefined();
  });

  it('keeps a delivered number on the identity even when libphonenumber calls it invalid', async () => {
    expect(phoneOfAddress('+10005550100')).toBe('+10005550100');
    expect(phoneOfAddress('whatsapp:+48600111222')).toBe('+48600111222');
    expect(phoneOfAddress('72345')).toBeUndefined(); // a short code
    expect(phoneOfAddress('ACME')).toBeUndefined(); // an alphanumeric sender
    const m = await message(request(sms().map(([k, v]) => [k, k === 'From' ? '72345' : v] as FormPair)));
    expect(m.customer_identity).toEqual({ external_id: '72345' });
  });

  it('reads a list-picker choice (ListId/ListTitle) as an interaction', async () => {
    const m = await message(request([...sms().map(([k, v]) => [k, k === 'From' ? 'whatsapp:+12065550142' : v] as FormPair), ['MessageType', 'interactive'], ['ListId', 'slot:tue-10'], ['ListTitle', 'Tuesday 10:00']]));
    expect(m).toMatchObject({ interaction: { payload: 'slot:tue-10' }, text: 'Tuesday 10:00', sub_channel: 'whatsapp' });
  });

  it('falls back to ButtonText as the payload of a button without ButtonPayload', async () => {
    const m = await message(request([...sms(), ['MessageType', 'button'], ['ButtonText', 'Yes']]));
    expect(m.interaction).toEqual({ payload: 'Yes' });
  });

  it('treats a MessageStatus of `received` as an incoming message, not a receipt', async () => {
    const [e] = await events(request([...sms(), ['MessageStatus', 'received']]));
    expect(e!.kind).toBe('message');
  });

  it('treats OptOutType=HELP as an ordinary message, without a reachability change', async () => {
    const out = await events(request([...sms().map(([k, v]) => [k, k === 'Body' ? 'HELP' : v] as FormPair), ['OptOutType', 'HELP']]));
    expect(out).toHaveLength(1);
  });
});

describe('twilio status callbacks', () => {
  const callback = (status: string, extra: FormPair[] = []) => request([['SmsSid', SID], ['SmsStatus', status], ['MessageStatus', status], ['To', '+12065550142'], ['MessageSid', SID], ['From', '+14155550100'], ...extra]);

  it('are ignored events with one status update in the platform\'s words, keyed by the customer', async () => {
    const admission = await twilio.admit(callback('failed', [['ErrorCode', '21610']]), TEST_SECRETS, NOW);
    expect(admission).toMatchObject({ conversationKey: '+12065550142' });
    expect(await events(callback('failed', [['ErrorCode', '21610']]))).toEqual([
      { kind: 'ignored', channel: 'twilio', reason: 'status callback', status_updates: [{ external_message_id: SID, status: 'failed', error_code: 21610 }] },
    ]);
  });

  it('are recognised from SmsStatus alone', async () => {
    const [e] = await events(request([['SmsSid', SID], ['SmsStatus', 'delivered'], ['To', '+12065550142'], ['From', '+14155550100']]));
    expect(e).toMatchObject({ kind: 'ignored', status_updates: [{ status: 'delivered' }] });
  });

  it('map every Twilio status word to our delivery state (§0.11)', () => {
    const map = (status: string) => twilio.deliveryFor({ external_message_id: SID, status });
    expect(['accepted', 'scheduled', 'queued', 'sending', 'sent'].map(map)).toEqual(Array(5).fill('sent'));
    expect(map('delivered')).toBe('delivered');
    expect(map('read')).toBe('read');
    expect(['undelivered', 'failed', 'canceled'].map(map)).toEqual(['failed', 'failed', 'failed']);
    expect(map('receiving')).toBeNull();
    expect(map('partially_delivered')).toBeNull();
  });
});

describe('twilio reply window', () => {
  it('is 24 h for WhatsApp via Twilio and none for SMS/MMS', () => {
    expect(replyWindowOf(twilio, { conversation_id: 'whatsapp:+12065550142' })).toBe(WHATSAPP_WINDOW_SECONDS);
    expect(replyWindowOf(twilio, { conversation_id: '+12065550142', context: { sub_channel: 'sms' } })).toBeNull();
    expect(replyWindowOf(twilio, { conversation_id: '+12065550142', context: { sub_channel: 'whatsapp' } })).toBe(WHATSAPP_WINDOW_SECONDS);
  });
});

describe('twilio reply', () => {
  const secrets = { ...TEST_SECRETS, TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef' };
  const outbound = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
    id: '01JFOUT0000000000000000000', channel: 'twilio', conversation_id: 'whatsapp:+12065550142', text: 'Your parcel left the warehouse.', kind: 'reply',
    context: { business_address: 'whatsapp:+14155550111', sub_channel: 'whatsapp' }, ...extra,
  });

  it('posts Messages.json with Basic auth, To, From = the inbound To, Body and StatusCallback', () => {
    const r = renderOne(twilio, outbound(), { secrets });
    expect(r.method).toBe('POST');
    expect(r.url).toBe('https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json');
    expect(r.headers).toEqual({
      authorization: `Basic ${Buffer.from(`AC0123456789abcdef0123456789abcdef:${TOKEN}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(Object.fromEntries(new URLSearchParams(r.body!))).toEqual({
      To: 'whatsapp:+12065550142', From: 'whatsapp:+14155550111', Body: 'Your parcel left the warehouse.', StatusCallback: URL_,
    });
  });

  it('uses the messaging service when the business address is unknown, and refuses to guess a sender otherwise', () => {
    const r = renderOne(twilio, outbound({ context: {} }), { secrets: { ...secrets, TWILIO_MESSAGING_SERVICE_SID: 'MG0123456789abcdef0123456789abcdef' } });
    expect(new URLSearchParams(r.body!).get('MessagingServiceSid')).toBe('MG0123456789abcdef0123456789abcdef');
    expect(new URLSearchParams(r.body!).has('From')).toBe(false);
    expect(() => renderOne(twilio, outbound({ context: {} }), { secrets })).toThrow(/no sender/);
  });

  it('keeps a visible placeholder when TWILIO_ACCOUNT_SID is not configured', () => {
    const { TWILIO_ACCOUNT_SID: _sid, ...withoutSid } = TEST_SECRETS;
    expect(renderOne(twilio, outbound(), { secrets: withoutSid }).url).toContain('<TWILIO_ACCOUNT_SID>');
  });

  it('lists survey buttons as numbered lines and sends a body over 1,600 characters as two messages without splitting a surrogate pair', () => {
    const r = renderOne(twilio, outbound({ text: 'How did we do?', buttons: [{ label: 'Great', payload: 'csat:5' }, { label: 'Poor', payload: 'csat:1' }] }), { secrets });
    expect(new URLSearchParams(r.body!).get('Body')).toBe('How did we do?\n\n1. Great\n2. Poor');
    const text = `${'a'.repeat(TWILIO_MAX_BODY - 1)}🚚🚚`;
    const bodies = renderRequests(twilio, outbound({ text }), { secrets }).map((q) => new URLSearchParams(q.body!).get('Body')!);
    expect(bodies).toEqual(['a'.repeat(TWILIO_MAX_BODY - 1), '🚚🚚']);
  });

  it('counts SMS segments of a reply (GSM-7 160/153, UCS-2 70/67), none for WhatsApp via Twilio', () => {
    expect(twilio.segmentsOf!('a'.repeat(160), { conversation_id: '+34600111222' })).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(twilio.segmentsOf!('a'.repeat(161), { conversation_id: '+34600111222' })).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(twilio.segmentsOf!('€'.repeat(81), { conversation_id: '+34600111222' })).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(twilio.segmentsOf!(`${'a'.repeat(69)}ż`, { conversation_id: '+34600111222' })).toEqual({ encoding: 'UCS-2', segments: 1 });
    expect(twilio.segmentsOf!(`${'a'.repeat(70)}ż`, { conversation_id: '+34600111222' })).toEqual({ encoding: 'UCS-2', segments: 2 });
    // 5,000 GSM characters: parts of 1,600 + 1,600 + 1,600 + 200 → 11 + 11 + 11 + 2 segments.
    expect(twilio.segmentsOf!('a'.repeat(5000), { conversation_id: '+34600111222' })).toEqual({ encoding: 'GSM-7', segments: 35 });
    expect(twilio.segmentsOf!('a'.repeat(500), { conversation_id: 'whatsapp:+34600111222' })).toBeNull();
  });

  const res = (status: number, body: unknown, headers: Record<string, string> = {}): PlatformResponse => ({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('reads the new message\'s sid as the outbound id (it matches later status callbacks)', () => {
    expect(twilio.readDelivery(res(201, { sid: 'SM00000000000000000000000000000abc', status: 'queued' }), outbound())).toEqual({ ok: true, external_message_id: 'SM00000000000000000000000000000abc' });
    expect(twilio.readDelivery(res(201, 'not json'), outbound())).toEqual({ ok: true });
  });

  it('retries 429 and 5xx, honouring Retry-After', () => {
    expect(twilio.readDelivery(res(429, { code: 20429, message: 'Too Many Requests', status: 429 }, { 'retry-after': '3' }), outbound())).toEqual({ ok: false, retryable: true, retry_after_s: 3, error_code: '20429' });
    expect(twilio.readDelivery(res(503, ''), outbound())).toEqual({ ok: false, retryable: true, error_code: '503' });
  });

  it('marks an opted-out recipient (21610) unreachable and other refusals permanent with their code', () => {
    expect(twilio.readDelivery(res(400, { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 }), outbound())).toEqual({ ok: false, retryable: false, unreachable: true, error_code: '21610' });
    expect(twilio.readDelivery(res(400, { code: 21211, message: 'Invalid To Phone Number', status: 400 }), outbound())).toEqual({ ok: false, retryable: false, error_code: '21211' });
    expect(twilio.readDelivery(res(401, 'Unauthorized'), outbound())).toEqual({ ok: false, retryable: false, error_code: '401' });
  });
});
