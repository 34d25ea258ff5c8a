/**
 * How each channel describes fetching an attachment (issue 14; `ChannelAdapter.mediaFetch`): the
 * platform's own method with the right credential, described and never performed; nothing to
 * fetch where there are no bytes; never a non-HTTPS link from a payload.
 */
import { describe, expect, it } from 'vitest';
import { plainDownload, type MediaFetch } from '../../functions/channels/channel.js';
import { mimePart } from '../../functions/channels/email/mime.js';
import { channelByName } from '../../functions/channels/registry.js';
import type { Attachment } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNELS_DIR } from '../helpers/samples.js';

const ctx = { secrets: { ...TEST_SECRETS, TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef' } };
const fetchOf = (channel: string, a: Attachment, n = 0, c: { secrets: Record<string, string | undefined> } = ctx) => channelByName(channel)!.mediaFetch!(a, n, c);
const answer = (body: unknown) => ({ status: 200, headers: {}, body: JSON.stringify(body) });

describe('mediaFetch', () => {
  it('telegram: getFile with the bot token, then the file URL it names with its size', () => {
    const step = fetchOf('telegram', { type: 'image', platform_ref: 'AgAC-x_1' }) as Extract<MediaFetch, { kind: 'lookup' }>;
    expect(step.kind).toBe('lookup');
    expect(step.request).toEqual({ method: 'GET', url: `https://api.telegram.org/bot${TEST_SECRETS.TELEGRAM_BOT_TOKEN}/getFile?file_id=AgAC-x_1`, headers: {}, body: null });
    expect(step.next(answer({ ok: true, result: { file_id: 'AgAC-x_1', file_path: 'photos/file 7.jpg', file_size: 1234 } }))).toEqual({
      kind: 'download', declaredSize: 1234, request: { method: 'GET', url: `https://api.telegram.org/file/bot${TEST_SECRETS.TELEGRAM_BOT_TOKEN}/photos/file%207.jpg`, headers: {}, body: null },
    });
    expect(step.next(answer({ ok: true, result: { file_path: '../../etc/passwd' } }))).toMatchObject({ kind: 'unavailable', status: 'failed' });
    expect(step.next(answer({ ok: false }))).toMatchObject({ kind: 'unavailable', status: 'failed' });
    expect(fetchOf('telegram', { type: 'location', latitude: 1, longitude: 2 })).toBeNull();
  });

  it('telegram without a bot token: a placeholder the media function refuses to perform', () => {
    const step = fetchOf('telegram', { type: 'image', platform_ref: 'f' }, 0, { secrets: {} }) as Extract<MediaFetch, { kind: 'lookup' }>;
    expect(step.request.url).toContain('<TELEGRAM_BOT_TOKEN>');
  });

  it('whatsapp: the media id with the bearer token, then its short-lived URL with the same token', () => {
    const step = fetchOf('whatsapp', { type: 'image', platform_ref: '1234567890' }) as Extract<MediaFetch, { kind: 'lookup' }>;
    const auth = { authorization: `Bearer ${TEST_SECRETS.WHATSAPP_ACCESS_TOKEN}` };
    expect(step.request).toEqual({ method: 'GET', url: 'https://graph.facebook.com/v23.0/1234567890', headers: auth, body: null });
    expect(step.next(answer({ url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1', file_size: 99, mime_type: 'image/jpeg' }))).toEqual({
      kind: 'download', declaredSize: 99, request: { method: 'GET', url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1', headers: auth, body: null },
    });
    expect(step.next(answer({ url: 'http://example.test/x' }))).toMatchObject({ kind: 'unavailable', status: 'failed' });
    expect(fetchOf('whatsapp', { type: 'other' })).toBeNull();
  });

  it('twilio: MediaUrlN with Basic auth of the account SID and auth token; only api.twilio.com', () => {
    const url = 'https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/MM1/Media/ME1';
    const basic = `Basic ${Buffer.from(`${ctx.secrets.TWILIO_ACCOUNT_SID}:${TEST_SECRETS.TWILIO_AUTH_TOKEN}`).toString('base64')}`;
    expect(fetchOf('twilio', { type: 'image', url })).toEqual({ kind: 'download', request: { method: 'GET', url, headers: { authorization: basic }, body: null } });
    expect(fetchOf('twilio', { type: 'image', url: 'https://evil.example/Media/ME1' })).toBeNull();
  });

  it.each(['messenger', 'instagram', 'vk', 'viber'])('%s: the CDN link as it is, HTTPS only', (channel) => {
    expect(fetchOf(channel, { type: 'image', url: 'https://cdn.example/p.jpg' })).toEqual({ kind: 'download', request: { method: 'GET', url: 'https://cdn.example/p.jpg', headers: {}, body: null } });
    expect(fetchOf(channel, { type: 'image', url: 'http://169.254.169.254/latest/meta-data/' })).toBeNull();
    expect(fetchOf(channel, { type: 'image', url: 'file:///etc/passwd' })).toBeNull();
    expect(fetchOf(channel, { type: 'location', latitude: 1, longitude: 2 })).toBeNull();
  });

  it('vk: videos cannot be downloaded by a community (nothing to fetch)', () => {
    expect(fetchOf('vk', { type: 'video', platform_ref: 'video1_2', thumbnail_url: 'https://cdn.example/t.jpg' })).toBeNull();
  });

  it('email: MIME attachment n of the kept mail, decoded by the same parser that listed it', async () => {
    expect(fetchOf('email', { type: 'document' }, 1)).toEqual({ kind: 'mime-part', index: 1 });
    const raw = readFileSync(join(CHANNELS_DIR, 'email', 'samples', '03-attachments.eml'));
    const pdf = await mimePart(raw, 1);
    expect(pdf).toMatchObject({ fileName: 'facture-n°42.pdf', contentType: 'application/pdf' });
    expect(pdf!.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(await mimePart(raw, 2)).toBeUndefined();
  });

  it('plainDownload keeps a declared size and refuses what is not an https: URL', () => {
    expect(plainDownload('https://x.test/a', 5)).toMatchObject({ declaredSize: 5 });
    expect(plainDownload(undefined)).toBeNull();
    expect(plainDownload('javascript:alert(1)')).toBeNull();
  });
});
