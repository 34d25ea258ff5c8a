/**
 * Outbound attachments per channel (issue 14): the native media request each adapter describes
 * for an image and a PDF, and the limits checked before sending. The limit tables below are
 * written out from the platforms' documentation (links per row), never read from the adapters'
 * own constants, so a wrong constant fails here.
 */
import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { mediaOf, renderRequests, type ChannelAdapter, type OutboundMessage, type PlatformRequest, type PlatformResponse } from '../../functions/channels/channel.js';
import { checkMedia, type OutboundMedia } from '../../functions/channels/media.js';
import { channelByName } from '../../functions/channels/registry.js';
import { simulateResponse } from '../../local/platform-simulator.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

const image = (over: Partial<OutboundMedia> = {}): OutboundMedia => ({ as: 'image', file_name: 'damage.png', content_type: 'image/png', size: PNG.length, url: 'https://media.example/uploads/a/T/01J.png?X-Amz-Signature=s', data_b64: PNG.toString('base64'), ...over });
const pdf = (over: Partial<OutboundMedia> = {}): OutboundMedia => ({ as: 'document', file_name: 'invoice 42.pdf', content_type: 'application/pdf', size: PDF.length, url: 'https://media.example/uploads/a/T/01K.pdf?X-Amz-Signature=s', data_b64: PDF.toString('base64'), ...over });

const SECRETS = {
  TELEGRAM_BOT_TOKEN: '123:abc', WHATSAPP_ACCESS_TOKEN: 'wa-token', WHATSAPP_PHONE_NUMBER_ID: '1055', META_PAGE_ACCESS_TOKEN: 'page-token',
  VK_ACCESS_TOKEN: 'vk-token', VIBER_AUTH_TOKEN: 'viber-token', TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 't',
  TWILIO_MESSAGING_SERVICE_SID: 'MG0123456789abcdef0123456789abcdef', EMAIL_FROM: 'support@shop.example',
};

function adapter(name: string): ChannelAdapter {
  const a = channelByName(name);
  if (!a) throw new Error(`no adapter ${name}`);
  return a;
}

const CONVERSATIONS: Record<string, string> = {
  telegram: '4242', whatsapp: '4915112345678', messenger: '24000000000000001', instagram: '17841400000000001', vk: '2000000001',
  viber: '01234567890A=', twilio: '+14155550100', email: 'anna@customer.example', webchat: 'c_abcdefghijklmnopqrstuv',
};

function message(channel: string, files: OutboundMedia[], text = 'Here you go'): OutboundMessage {
  return { id: '01JABCDEFGHJKMNPQRSTVWXYZ0', channel: channel as OutboundMessage['channel'], conversation_id: CONVERSATIONS[channel]!, text, kind: 'reply', attachments: files };
}

const render = (channel: string, files: OutboundMedia[], text?: string) => renderRequests(adapter(channel), message(channel, files, text), { secrets: SECRETS });
const json = (r: PlatformRequest) => JSON.parse(r.body ?? 'null') as Record<string, unknown>;
const form = (r: PlatformRequest) => new URLSearchParams(r.body ?? '');

describe('native media requests', () => {
  it('Telegram: the text, then sendPhoto by URL for an image and sendDocument uploaded as multipart for a PDF', () => {
    const [text, photo, doc] = render('telegram', [image(), pdf()]);
    expect(text!.url).toBe('https://api.telegram.org/bot123:abc/sendMessage');
    expect([photo!.url, json(photo!)]).toEqual(['https://api.telegram.org/bot123:abc/sendPhoto', { chat_id: 4242, photo: image().url }]);
    expect(doc!.url).toBe('https://api.telegram.org/bot123:abc/sendDocument');
    expect(doc!.form).toEqual([{ name: 'chat_id', value: '4242' }, { name: 'document', file_name: 'invoice 42.pdf', content_type: 'application/pdf', data_b64: PDF.toString('base64') }]);
  });

  it('WhatsApp: image and document media messages by link, the document with its file name', () => {
    const [, img, doc] = render('whatsapp', [image(), pdf()]);
    expect(json(img!)).toMatchObject({ messaging_product: 'whatsapp', to: '4915112345678', type: 'image', image: { link: image().url } });
    expect(json(doc!)).toMatchObject({ type: 'document', document: { link: pdf().url, filename: 'invoice 42.pdf' } });
    expect(img!.headers.authorization).toBe('Bearer wa-token');
  });

  it('a reply of files only sends no empty text message', () => {
    const requests = render('whatsapp', [pdf()], '');
    expect(requests.map((r) => json(r).type)).toEqual(['document']);
  });

  it.each(['messenger', 'instagram'])('%s: one attachment message per file (image / file), by URL', (channel) => {
    const [, img, doc] = render(channel, [image(), pdf()]);
    expect(json(img!).message).toEqual({ attachment: { type: 'image', payload: { url: image().url, is_reusable: false } } });
    expect(json(doc!).message).toEqual({ attachment: { type: 'file', payload: { url: pdf().url, is_reusable: false } } });
    expect(json(doc!).recipient).toEqual({ id: CONVERSATIONS[channel] });
  });

  it('Viber: a picture message and a file message with size and name', () => {
    const [, img, doc] = render('viber', [image(), pdf()]);
    expect(json(img!)).toMatchObject({ receiver: CONVERSATIONS.viber, type: 'picture', text: '', media: image().url });
    expect(json(doc!)).toMatchObject({ type: 'file', media: pdf().url, size: PDF.length, file_name: 'invoice 42.pdf' });
  });

  it('Twilio MMS: every MediaUrl on the text message; WhatsApp via Twilio: one media per message', () => {
    const mms = render('twilio', [image(), pdf()]);
    expect(mms).toHaveLength(1);
    expect(form(mms[0]!).getAll('MediaUrl')).toEqual([image().url, pdf().url]);
    expect(form(mms[0]!).get('Body')).toBe('Here you go');
    const wa = renderRequests(adapter('twilio'), { ...message('twilio', [image(), pdf()]), conversation_id: 'whatsapp:+14155550100', context: { business_address: 'whatsapp:+14155550199' } }, { secrets: SECRETS });
    expect(wa.map((r) => [form(r).get('Body'), form(r).getAll('MediaUrl')])).toEqual([['Here you go', []], [null, [image().url]], [null, [pdf().url]]]);
  });

  it('web chat: links the widget shows (names, types and sizes; the URL is signed when the widget reads)', () => {
    const [r] = render('webchat', [pdf()]);
    expect(json(r!).attachments).toEqual([{ file_name: 'invoice 42.pdf', content_type: 'application/pdf', size: PDF.length }]);
    expect(r!.body).not.toContain('X-Amz-Signature');
  });

  it('e-mail: multipart/mixed with the text and each file as a base64 attachment part with the same bytes', async () => {
    const [r] = render('email', [image(), pdf()]);
    expect(r!.url).toBe('ses:SendRawEmail');
    const parsed = await simpleParser(r!.body!);
    expect(parsed.text?.trim()).toBe('Here you go');
    expect(parsed.attachments.map((a) => [a.filename, a.contentType, a.contentDisposition])).toEqual([['damage.png', 'image/png', 'attachment'], ['invoice 42.pdf', 'application/pdf', 'attachment']]);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(parsed.attachments.map((a) => sha(a.content))).toEqual([sha(PNG), sha(PDF)]);
    expect(r!.body!.split('\r\n').every((l) => l.length <= 998)).toBe(true);
  });

  it('e-mail: a non-ASCII file name is RFC 2231-encoded and read back whole', async () => {
    const [r] = render('email', [pdf({ file_name: 'Счёт №7.pdf' })]);
    expect(r!.body).toContain("filename*=UTF-8''");
    expect((await simpleParser(r!.body!)).attachments[0]!.filename).toBe('Счёт №7.pdf');
  });

  it('VK: the upload-server flow (get server → upload bytes → save) gives the attachment messages.send carries', () => {
    const vk = adapter('vk');
    const msg = message('vk', [image(), pdf()]);
    const refs = msg.attachments!.map((file) => {
      const flow = vk.uploadMedia!(file, msg, { secrets: SECRETS })!;
      let previous: PlatformResponse | null = null;
      const requests: PlatformRequest[] = [];
      for (const step of flow.steps) {
        const req = step(previous);
        requests.push(req);
        previous = simulateResponse('vk', req);
      }
      return { ref: flow.ref(previous!), requests };
    });
    const [photo, doc] = refs;
    expect(photo!.requests.map((r) => r.url.replace(/c\d+/, 'cN'))).toEqual(['https://api.vk.com/method/photos.getMessagesUploadServer', 'https://pu.vk.com/cN/upload.php?act=do_add', 'https://api.vk.com/method/photos.saveMessagesPhoto']);
    expect(form(photo!.requests[0]!).get('peer_id')).toBe('2000000001');
    expect(photo!.requests[1]!.form).toEqual([{ name: 'photo', file_name: 'damage.png', content_type: 'image/png', data_b64: PNG.toString('base64') }]);
    expect(photo!.ref).toMatch(/^photo-1_\d+_k\d+$/);
    expect(doc!.requests.map((r) => r.url.split('?')[0]!.replace(/c\d+/, 'cN'))).toEqual(['https://api.vk.com/method/docs.getMessagesUploadServer', 'https://pu.vk.com/cN/upload.php', 'https://api.vk.com/method/docs.save']);
    expect(doc!.requests[1]!.form?.[0]).toMatchObject({ name: 'file', data_b64: PDF.toString('base64') });
    expect(doc!.ref).toMatch(/^doc-1_\d+$/);
    const [send] = renderRequests(vk, { ...msg, attachments: msg.attachments!.map((f, i) => ({ ...f, platform_ref: refs[i]!.ref })) }, { secrets: SECRETS });
    expect(form(send!).get('attachment')).toBe(`${photo!.ref},${doc!.ref}`);
    expect(form(send!).get('message')).toBe('Here you go');
  });

  it('VK: an upload server answer without upload_url stops the flow instead of posting the bytes somewhere', () => {
    const vk = adapter('vk');
    const msg = message('vk', [pdf()]);
    const flow = vk.uploadMedia!(msg.attachments![0]!, msg, { secrets: SECRETS })!;
    expect(() => flow.steps[1]!({ status: 200, headers: {}, body: '{"error":{"error_code":15}}' })).toThrow(/upload_url/);
    expect(() => renderRequests(vk, msg, { secrets: SECRETS })).toThrow(/not uploaded/);
  });
});

/**
 * The platforms' limits, as their documentation states them (decimal MB):
 * | channel   | type                  | limit  | source |
 * | telegram  | photo by URL          | 5 MB   | https://core.telegram.org/bots/api#sending-files |
 * | telegram  | document (upload)     | 50 MB  | https://core.telegram.org/bots/api#sending-files |
 * | whatsapp  | image jpeg/png        | 5 MB   | https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types |
 * | whatsapp  | document (pdf)        | 100 MB | same |
 * | messenger | image (URL)           | 8 MB   | https://developers.facebook.com/docs/messenger-platform/send-messages/saving-assets |
 * | messenger | file                  | 25 MB  | same |
 * | instagram | image png/jpeg        | 8 MB   | https://developers.facebook.com/docs/messenger-platform/instagram/features/attachment-upload |
 * | instagram | file: pdf only        | 25 MB  | same |
 * | vk        | photo                 | 50 MB  | https://dev.vk.com/en/api/upload/photo-in-message |
 * | vk        | document              | 200 MB | https://dev.vk.com/en/api/upload/document-in-message |
 * | viber     | picture               | 1 MB   | https://developers.viber.com/docs/api/rest-bot-api/#picture-message |
 * | viber     | file                  | 50 MB  | https://developers.viber.com/docs/api/rest-bot-api/#file-message |
 * | twilio    | MMS, all media        | 5 MB   | https://www.twilio.com/docs/messaging/guides/accepted-mime-types |
 * | email     | SES raw message 10 MB | 7 MB of files (base64) | https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html |
 */
const MB = 1_000_000;
const LIMITS: ReadonlyArray<readonly [channel: string, contentType: string, fileName: string, maxBytes: number, as: string]> = [
  ['telegram', 'image/jpeg', 'a.jpg', 50 * MB, 'document'], // over 5 MB an image goes as a document (upload)
  ['telegram', 'application/pdf', 'a.pdf', 50 * MB, 'document'],
  ['whatsapp', 'image/png', 'a.png', 5 * MB, 'image'],
  ['whatsapp', 'application/pdf', 'a.pdf', 100 * MB, 'document'],
  ['messenger', 'application/pdf', 'a.pdf', 25 * MB, 'document'],
  ['instagram', 'image/jpeg', 'a.jpg', 8 * MB, 'image'],
  ['instagram', 'application/pdf', 'a.pdf', 25 * MB, 'document'],
  ['vk', 'image/png', 'a.png', 200 * MB, 'document'], // over 50 MB a photo goes as a document
  ['vk', 'application/pdf', 'a.pdf', 200 * MB, 'document'],
  ['viber', 'application/pdf', 'a.pdf', 50 * MB, 'document'],
  ['twilio', 'image/jpeg', 'a.jpg', 5 * MB, 'image'],
  ['twilio', 'application/pdf', 'a.pdf', 5 * MB, 'document'],
  ['email', 'application/pdf', 'a.pdf', 7 * MB, 'document'],
];

const limitsOf = (channel: string) => mediaOf(adapter(channel), { conversation_id: CONVERSATIONS[channel]! });

describe('platform limits, checked before sending', () => {
  it.each(LIMITS)('%s takes %s up to the documented size and refuses one byte more, naming the limit', (channel, contentType, fileName, max, as) => {
    const ok = checkMedia(channel, limitsOf(channel), [{ file_name: fileName, content_type: contentType, size: max }]);
    expect(ok).toMatchObject({ ok: true, plans: [{ as }] });
    const over = checkMedia(channel, limitsOf(channel), [{ file_name: fileName, content_type: contentType, size: max + 1 }]);
    expect(over).toMatchObject({ ok: false, code: 'attachment_too_large' });
    expect(over.ok ? '' : over.message).toContain(`${max / MB} MB`);
  });

  it('an image over the photo limit still goes where the platform takes it as a file (Telegram, Messenger)', () => {
    expect(checkMedia('telegram', limitsOf('telegram'), [{ file_name: 'a.png', content_type: 'image/png', size: 5 * MB }])).toMatchObject({ ok: true, plans: [{ as: 'image', via: 'url' }] });
    expect(checkMedia('telegram', limitsOf('telegram'), [{ file_name: 'a.png', content_type: 'image/png', size: 5 * MB + 1 }])).toMatchObject({ ok: true, plans: [{ as: 'document', via: 'bytes' }] });
    expect(checkMedia('messenger', limitsOf('messenger'), [{ file_name: 'a.png', content_type: 'image/png', size: 8 * MB + 1 }])).toMatchObject({ ok: true, plans: [{ as: 'document' }] });
    expect(checkMedia('vk', limitsOf('vk'), [{ file_name: 'a.png', content_type: 'image/png', size: 50 * MB }])).toMatchObject({ ok: true, plans: [{ as: 'image' }] });
    expect(checkMedia('vk', limitsOf('vk'), [{ file_name: 'a.png', content_type: 'image/png', size: 50 * MB + 1 }])).toMatchObject({ ok: true, plans: [{ as: 'document' }] });
    // Viber: a picture up to 1 MB, a larger one as a file.
    expect(checkMedia('viber', limitsOf('viber'), [{ file_name: 'a.png', content_type: 'image/png', size: 1 * MB + 1 }])).toMatchObject({ ok: true, plans: [{ as: 'document' }] });
  });

  it('refuses types the platform does not take, saying what it takes', () => {
    const webp = checkMedia('whatsapp', limitsOf('whatsapp'), [{ file_name: 'a.webp', content_type: 'image/webp', size: 1000 }]);
    expect(webp).toMatchObject({ ok: false, code: 'attachment_type_not_allowed' });
    expect(webp.ok ? '' : webp.message).toMatch(/image\/jpeg, image\/png \(5 MB\)/);
    // Instagram files are PDF only.
    expect(checkMedia('instagram', limitsOf('instagram'), [{ file_name: 'a.zip', content_type: 'application/zip', size: 1000 }])).toMatchObject({ ok: false, code: 'attachment_type_not_allowed' });
    // Viber refuses executables by extension.
    const exe = checkMedia('viber', limitsOf('viber'), [{ file_name: 'setup.exe', content_type: 'application/x-msdownload', size: 1000 }]);
    expect(exe).toMatchObject({ ok: false, code: 'attachment_type_not_allowed' });
    expect(exe.ok ? '' : exe.message).toContain('.exe');
  });

  it('Twilio MMS: 5 MB for all media together, at most 10; WhatsApp via Twilio: images 5 MB, PDFs 16 MB', () => {
    const three = Array.from({ length: 3 }, (_, i) => ({ file_name: `${i}.jpg`, content_type: 'image/jpeg', size: 2 * MB }));
    expect(checkMedia('twilio', limitsOf('twilio'), three)).toMatchObject({ ok: false, code: 'attachments_too_large' });
    const eleven = Array.from({ length: 11 }, (_, i) => ({ file_name: `${i}.jpg`, content_type: 'image/jpeg', size: 1000 }));
    expect(checkMedia('twilio', limitsOf('twilio'), eleven)).toMatchObject({ ok: false, code: 'too_many_attachments' });
    const wa = mediaOf(adapter('twilio'), { conversation_id: 'whatsapp:+14155550100' });
    expect(checkMedia('twilio', wa, [{ file_name: 'a.pdf', content_type: 'application/pdf', size: 16 * MB }])).toMatchObject({ ok: true });
    expect(checkMedia('twilio', wa, [{ file_name: 'a.pdf', content_type: 'application/pdf', size: 16 * MB + 1 }])).toMatchObject({ ok: false, code: 'attachment_too_large' });
    expect(checkMedia('twilio', wa, [{ file_name: 'a.jpg', content_type: 'image/jpeg', size: 5 * MB + 1 }])).toMatchObject({ ok: false, code: 'attachment_too_large' });
  });

  it('e-mail: 7 MB of files together (SES takes 10 MB of raw message, base64 included)', () => {
    const two = [{ file_name: 'a.pdf', content_type: 'application/pdf', size: 4 * MB }, { file_name: 'b.pdf', content_type: 'application/pdf', size: 4 * MB }];
    expect(checkMedia('email', limitsOf('email'), two)).toMatchObject({ ok: false, code: 'attachments_too_large' });
  });
});
