/**
 * Web chat edge cases the samples cannot express (channels.md §9): the origin allow-list (needs
 * WEBCHAT_ALLOWED_ORIGINS), token timing against a fixed clock (exp skew, nbf), header and claim
 * checks beyond the signature, sentAt plausibility, identity rules, and the reply description.
 */
import { describe, expect, it } from 'vitest';
import { SignJWT, base64url } from 'jose';
import { ChannelRequestError, type Admission, type OutboundMessage, type RawRequest, type Secrets } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { webchat } from '../../functions/channels/webchat/index.js';
import { NormalisedEvent, type InboundMessage } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);
const NOW_S = NOW / 1000;
const KEY = new TextEncoder().encode(TEST_SECRETS.WEBCHAT_SECRET!);
const SUB = 'v_Zx81Lm0Qa7Rt4Ke9Wb2Hs5';
const SID = 'c_Q4n7Rk2Wm9Xp3Ts8Vb6Yd1';
const ORIGIN = 'https://shop.acme.example';

const baseClaims = { iss: 'confluo-webchat', aud: 'confluo:webchat', sub: SUB, sid: SID, iat: NOW_S - 60, exp: NOW_S + 3600 };

async function mint(claims: Record<string, unknown> = {}, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, key = KEY): Promise<string> {
  const payload = Object.fromEntries(Object.entries({ ...baseClaims, ...claims }).filter(([, v]) => v !== undefined));
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
}

const message = (extra: Record<string, unknown> = {}) => ({ type: 'message', messageId: '01JF8Z3K5M7P9R1T3V5X7Z9B1D', text: 'Is the kettle in stock?', ...extra });

function request(token: string | undefined, body: unknown = message(), headers: Record<string, string> = {}, method = 'POST'): RawRequest {
  return {
    method,
    path: '/webhooks/webchat',
    query: {},
    headers: { 'content-type': 'application/json', origin: ORIGIN, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8'),
  };
}

type Outcome = { admission: Admission } | { status: number; error: ChannelRequestError };

async function outcome(req: RawRequest, secrets: Secrets = TEST_SECRETS, now = NOW): Promise<Outcome> {
  try {
    return { admission: await webchat.admit(req, secrets, now) };
  } catch (e) {
    if (e instanceof ChannelRequestError) return { status: e.status, error: e };
    throw e;
  }
}

async function statusOf(req: RawRequest, secrets: Secrets = TEST_SECRETS, now = NOW): Promise<number> {
  const o = await outcome(req, secrets, now);
  return 'admission' in o ? o.admission.reply.status : o.status;
}

/** A refusal's status and evidence (`cause.stage`, `cause.detail`): which check refused, not just that one did. */
async function refusalOf(req: RawRequest, secrets: Secrets = TEST_SECRETS, now = NOW): Promise<{ status: number; stage: string; detail?: string }> {
  const o = await outcome(req, secrets, now);
  if ('admission' in o) throw new Error(`expected a refusal, got ${o.admission.reply.status}`);
  const { stage, detail } = o.error.cause as { stage: string; detail?: string };
  return { status: o.status, stage, detail };
}

const refusedToken = (detail: string) => ({ status: 401, stage: 'authenticity', detail });

async function parsed(req: RawRequest, receivedAt = NOW): Promise<InboundMessage> {
  const admission = await webchat.admit(req, TEST_SECRETS, NOW);
  if (admission.kind !== 'accepted') throw new Error('expected acceptance');
  const [event] = await webchat.parse(JSON.parse(JSON.stringify(buildEnvelope('webchat', req, admission, receivedAt, 'req-1'))));
  NormalisedEvent.parse(event);
  if (event?.kind !== 'message') throw new Error('expected a message');
  return event;
}

describe('webchat origin allow-list', () => {
  const listed: Secrets = { ...TEST_SECRETS, WEBCHAT_ALLOWED_ORIGINS: 'https://shop.acme.example, https://www.acme.example/' };

  it('refuses an origin that is not listed with 403', async () => {
    expect(await refusalOf(request(await mint(), message(), { origin: 'https://evil.example' }), listed))
      .toEqual({ status: 403, stage: 'origin', detail: 'origin not in WEBCHAT_ALLOWED_ORIGINS' });
  });

  it('refuses a preflight from an origin that is not listed with 403', async () => {
    expect(await statusOf(request(undefined, '', { origin: 'https://evil.example' }, 'OPTIONS'), listed)).toBe(403);
  });

  it('accepts listed origins regardless of case and trailing slash, and echoes them for CORS', async () => {
    const o = await outcome(request(await mint(), message(), { origin: 'https://WWW.acme.example' }), listed);
    expect(o).toMatchObject({ admission: { reply: { status: 202, headers: { 'access-control-allow-origin': 'https://WWW.acme.example' } } } });
  });

  it('accepts requests without an Origin (origins are not authentication)', async () => {
    const req = request(await mint());
    const { origin: _o, ...headers } = req.headers;
    expect(await statusOf({ ...req, headers }, listed)).toBe(202);
  });

  it('accepts an empty Origin like a missing one', async () => {
    expect(await statusOf(request(await mint(), message(), { origin: '' }), listed)).toBe(202);
  });

  it('accepts a listed origin however many trailing slashes either side has', async () => {
    const slashes: Secrets = { ...TEST_SECRETS, WEBCHAT_ALLOWED_ORIGINS: 'https://www.acme.example//' };
    expect(await statusOf(request(await mint(), message(), { origin: 'https://www.acme.example' }), slashes)).toBe(202);
    expect(await statusOf(request(await mint(), message(), { origin: 'https://www.acme.example///' }), listed)).toBe(202);
  });

  it('accepts any origin when the allow-list is set but names none (empty, or only commas and spaces)', async () => {
    for (const none of ['', ' , ,']) {
      expect(await statusOf(request(await mint(), message(), { origin: 'https://anywhere.example' }), { ...TEST_SECRETS, WEBCHAT_ALLOWED_ORIGINS: none }), JSON.stringify(none)).toBe(202);
    }
  });

  it('accepts any origin when the allow-list is unset', async () => {
    expect(await statusOf(request(await mint(), message(), { origin: 'https://anywhere.example' }))).toBe(202);
  });

  it('answers a preflight with 204, the allowed method and headers, without a token', async () => {
    const o = await outcome(request(undefined, '', {}, 'OPTIONS'), listed);
    expect(o).toEqual({ admission: { kind: 'handshake', reply: { status: 204, headers: expect.objectContaining({
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-allow-origin': ORIGIN,
    }) } } });
  });
});

describe('webchat token timing', () => {
  it('accepts a token that expired less than 60 s ago (clock skew)', async () => {
    expect(await statusOf(request(await mint({ exp: NOW_S - 59 })))).toBe(202);
  });

  it('refuses a token that expired more than 60 s ago with 401', async () => {
    expect(await refusalOf(request(await mint({ exp: NOW_S - 61 })))).toEqual(refusedToken('token refused: ERR_JWT_EXPIRED'));
  });

  it('refuses a token whose nbf is more than 60 s ahead with 401', async () => {
    expect(await refusalOf(request(await mint({ nbf: NOW_S + 120 })))).toEqual(refusedToken('token refused: ERR_JWT_CLAIM_VALIDATION_FAILED (nbf check_failed)'));
  });

  it('accepts a token whose nbf is within the skew', async () => {
    expect(await statusOf(request(await mint({ nbf: NOW_S + 30 })))).toBe(202);
  });

  it('judges expiry by the clock it is given, not the machine clock', async () => {
    const token = await mint({ exp: NOW_S + 10 });
    expect(await statusOf(request(token), TEST_SECRETS, NOW)).toBe(202);
    expect(await statusOf(request(token), TEST_SECRETS, NOW + 3_600_000)).toBe(401);
  });
});

describe('webchat token checks', () => {
  it('refuses a token without exp, sub or sid with 401', async () => {
    for (const missing of ['exp', 'sub', 'sid']) {
      expect(await refusalOf(request(await mint({ [missing]: undefined }))), missing).toEqual(refusedToken(`token refused: ERR_JWT_CLAIM_VALIDATION_FAILED (${missing} missing)`));
    }
  });

  it('refuses another issuer with 401', async () => {
    expect(await refusalOf(request(await mint({ iss: 'https://idp.example' })))).toEqual(refusedToken('token refused: ERR_JWT_CLAIM_VALIDATION_FAILED (iss check_failed)'));
  });

  it('accepts an audience list that contains confluo:webchat', async () => {
    expect(await statusOf(request(await mint({ aud: ['confluo:inbox', 'confluo:webchat'] })))).toBe(202);
  });

  it('refuses HS512 signed with the right key with 401 (alg pinned to HS256), on the header before any cryptography', async () => {
    expect(await refusalOf(request(await mint({}, { alg: 'HS512', typ: 'JWT' })))).toEqual(refusedToken('token alg not HS256'));
  });

  it('refuses a typ other than JWT with 401, and accepts no typ at all', async () => {
    expect(await refusalOf(request(await mint({}, { alg: 'HS256', typ: 'at+jwt' })))).toEqual(refusedToken('token typ not JWT'));
    expect(await statusOf(request(await mint({}, { alg: 'HS256' })))).toBe(202);
  });

  it('refuses an unsigned token whose header says HS256 with 401', async () => {
    const [h, p] = (await mint()).split('.');
    expect(await refusalOf(request(`${h}.${p}.`))).toEqual(refusedToken('token refused: ERR_JWS_SIGNATURE_VERIFICATION_FAILED'));
    expect(await refusalOf(request(`${h}.${p}`))).toEqual(refusedToken('token header unreadable'));
  });

  it('refuses a header that is not JSON, or a non-Bearer scheme, with 401', async () => {
    expect(await refusalOf(request(`${base64url.encode('nope')}.e30.x`))).toEqual(refusedToken('token header unreadable'));
    const req = request(undefined, message(), { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    expect(await refusalOf(req)).toEqual(refusedToken('bearer token missing'));
  });

  it('refuses every token with 401 while WEBCHAT_SECRET is unset or empty', async () => {
    const token = await mint();
    for (const unset of [undefined, '']) {
      expect(await refusalOf(request(token), { ...TEST_SECRETS, WEBCHAT_SECRET: unset as unknown as string }), String(unset)).toEqual(refusedToken('inbound secret not configured'));
    }
  });

  it('reads the Bearer scheme in any case, with any spaces before and after the token (RFC 9110 §11.1)', async () => {
    const token = await mint();
    for (const authorization of [`bearer ${token}`, `BEARER   ${token}`, `Bearer ${token}  `]) {
      expect(await statusOf(request(undefined, message(), { authorization })), authorization.replace(token, '<token>')).toBe(202);
    }
  });

  it('refuses an Authorization header with anything before the scheme or after the token with 401', async () => {
    const token = await mint();
    for (const authorization of [`XBearer ${token}`, `Bearer ${token} ${token}`, `Bearer ${token} x`, 'Bearer', `Bearer${token}`]) {
      expect(await refusalOf(request(undefined, message(), { authorization })), authorization.replaceAll(token, '<token>')).toEqual(refusedToken('bearer token missing'));
    }
  });

  it('refuses a sub containing "/" with 401, since it scopes upload keys', async () => {
    expect(await refusalOf(request(await mint({ sub: 'v_a/b' })))).toEqual(refusedToken('token claims unusable'));
  });

  it('carries the verified claims to the queue, never the token, and no site-only claims for anonymous visitors', async () => {
    const token = await mint({ email: 'x@acme.example', email_verified: true, name: 'X' });
    const o = await outcome(request(token));
    if (!('admission' in o) || o.admission.kind !== 'accepted') throw new Error('expected acceptance');
    expect(o.admission.auth).toEqual({ iss: 'confluo-webchat', sub: SUB, sid: SID, exp: baseClaims.exp });
    expect(o.admission.conversationKey).toBe(SID);
    expect(JSON.stringify(o.admission)).not.toContain(token.split('.')[2]!);
  });

  it('never puts the token or the secret into a refusal', async () => {
    const token = await mint({ exp: NOW_S - 3600 });
    const o = await outcome(request(token));
    if ('admission' in o) throw new Error('expected refusal');
    const said = `${o.error.message} ${JSON.stringify(o.error.cause)}`;
    expect(said).not.toContain(token.split('.')[1]!);
    expect(said).not.toContain(TEST_SECRETS.WEBCHAT_SECRET!);
  });
});

describe('webchat body', () => {
  it('refuses an upload key that climbs out of the visitor prefix with 400', async () => {
    const attachments = [{ key: `uploads/webchat/${SID}/../c_Other0000000000000000/id.png`, name: 'id.png', contentType: 'image/png', size: 10 }];
    expect(await statusOf(request(await mint(), message({ attachments })))).toBe(400);
  });

  it('refuses a URL in place of an upload key with 400', async () => {
    const attachments = [{ key: 'https://files.example/receipt.png', name: 'receipt.png', contentType: 'image/png', size: 10 }];
    expect(await statusOf(request(await mint(), message({ attachments })))).toBe(400);
  });

  it('refuses an empty message, text over 4000 characters and more than 10 attachments with 400', async () => {
    const token = await mint();
    expect(await statusOf(request(token, message({ text: '' })))).toBe(400);
    expect(await statusOf(request(token, message({ text: 'a'.repeat(4001) })))).toBe(400);
    const file = (i: number) => ({ key: `uploads/webchat/${SID}/f${i}.png`, name: 'a.png', contentType: 'image/png', size: 1 });
    expect(await statusOf(request(token, message({ attachments: Array.from({ length: 11 }, (_, i) => file(i)) })))).toBe(400);
    expect(await statusOf(request(token, message({ text: 'a'.repeat(4000) })))).toBe(202);
  });

  it('refuses a lower-case or non-Crockford messageId with 400', async () => {
    const token = await mint();
    expect(await statusOf(request(token, message({ messageId: '01jf8z3k5m7p9r1t3v5x7z9b1d' })))).toBe(400);
    expect(await statusOf(request(token, message({ messageId: '01JF8Z3K5M7P9R1T3V5X7Z9BIL' })))).toBe(400);
  });

  it('refuses an unknown type with 400', async () => {
    expect(await statusOf(request(await mint(), { type: 'reaction', messageId: '01JF8Z3K5M7P9R1T3V5X7Z9B1D' }))).toBe(400);
  });

  it('answers typing with {"ok":true}', async () => {
    const o = await outcome(request(await mint(), { type: 'typing', state: 'stop' }));
    expect(o).toMatchObject({ admission: { reply: { status: 202, body: '{"ok":true}' } } });
  });
});

describe('webchat parse', () => {
  it('believes sentAt up to 5 minutes ahead of receipt', async () => {
    const sentAt = new Date(NOW + 4 * 60_000).toISOString();
    expect(await parsed(request(await mint(), message({ sentAt })))).toMatchObject({ sent_at_ms: NOW + 4 * 60_000 });
  });

  it('uses the receipt time when sentAt is more than 5 minutes ahead, missing or unreadable', async () => {
    const token = await mint();
    for (const sentAt of [new Date(NOW + 6 * 60_000).toISOString(), undefined, 'yesterday-ish']) {
      expect(await parsed(request(token, message({ sentAt })))).toMatchObject({ sent_at_ms: NOW, sent_at: NOW_S });
    }
  });

  it('leaves a site e-mail unverified unless email_verified is exactly true', async () => {
    const event = await parsed(request(await mint({ iss: 'site', sub: 'site_1', email: 'Ana@Shop.example' })));
    expect(event.customer_identity).toMatchObject({ email: 'ana@shop.example', email_verified: false });
  });

  it('prefers site claims over the typed profile, falling back to it', async () => {
    const token = await mint({ iss: 'site', sub: 'site_2', ext_uid: 4471, email: 'ana@shop.example', email_verified: true });
    const event = await parsed(request(token, message({ profile: { name: 'Ana P.', email: 'other@shop.example', language: 'pt-BR' } })));
    expect(event.customer_identity).toEqual({
      external_id: 'site_2', display_name: 'Ana P.', email: 'ana@shop.example', email_verified: true, site_user_id: '4471', language: 'pt-BR',
    });
  });

  it('puts a typed profile phone on the identity in E.164, unverified, and drops an unusable one', async () => {
    const token = await mint();
    expect((await parsed(request(token, message({ profile: { phone: '+1 (415) 555-0164' } })))).customer_identity)
      .toMatchObject({ phone: '+14155550164', phone_verified: false });
    expect((await parsed(request(token, message({ profile: { phone: 'ask me' } })))).customer_identity).not.toHaveProperty('phone');
  });

  it('never takes a verified e-mail from an anonymous token or the profile', async () => {
    const token = await mint({ email: 'boss@acme.example', email_verified: true });
    const event = await parsed(request(token, message({ profile: { email: 'Visitor@Mail.example' } })));
    expect(event.customer_identity).toMatchObject({ email: 'visitor@mail.example', email_verified: false });
  });
});

describe('webchat page claim', () => {
  it('keeps the page the visitor writes from without query or fragment (tokens, reset codes, addresses)', async () => {
    const m = await parsed(request(await mint(), message({ page: {
      url: 'https://shop.acme.example/account/reset?token=s3cr3t&email=ann%40example.com#code=1234', title: 'Reset', referrer: 'https://mail.example/inbox?msg=42',
    } })));
    expect(m.page).toEqual({ url: 'https://shop.acme.example/account/reset', title: 'Reset', referrer: 'https://mail.example/inbox' });
    expect(JSON.stringify(m)).not.toMatch(/s3cr3t|ann%40example|code=1234|msg=42/);
    expect((await parsed(request(await mint(), message({ page: { url: 'javascript:alert(1)', title: 'x' } })))).page).toEqual({ title: 'x' });
  });
});

describe('webchat reply', () => {
  const msg: OutboundMessage = { id: '01JFOUT0000000000000000000', channel: 'webchat', conversation_id: SID, text: 'Yes, two years.', kind: 'reply' };

  it('describes a store write for the widget, keyed by conversation', () => {
    expect(webchat.render(msg, { secrets: {} })).toEqual({
      method: 'POST',
      url: `store://webchat/${SID}/messages`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: msg.id, text: 'Yes, two years.' }),
    });
  });

  it('keeps buttons in the stored message', () => {
    const body = JSON.parse(webchat.render({ ...msg, buttons: [{ label: 'Great', payload: 'csat:5' }] }, { secrets: {} }).body!);
    expect(body.buttons).toEqual([{ label: 'Great', payload: 'csat:5' }]);
  });

  it('reports delivery with our own message id', () => {
    expect(webchat.readDelivery({ status: 200, headers: {}, body: '' }, msg)).toEqual({ ok: true, external_message_id: msg.id });
  });
});
