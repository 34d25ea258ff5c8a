/**
 * Performing described requests (functions/runtime/perform.ts) as the AWS platform does it: what
 * needs no call, what no transport can do, SES in the e-mail channel's one region with its
 * refusals handed to the adapter, and the platform APIs over fetch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { MessageRejected, SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webchat } from '../../functions/channels/webchat/index.js';
import { email } from '../../functions/channels/email/index.js';
import { awsPlatform } from '../../functions/runtime/aws.js';
import { loadConfig } from '../../functions/runtime/config.js';
import { makePerform, PerformError, type Transport } from '../../functions/runtime/perform.js';
import type { OutboundMessage } from '../../functions/channels/channel.js';

const META = { channel: 'webchat', kind: 'reply', ticket_id: 'T1' };
const noCalls: Transport = {
  http: async () => { throw new Error('no HTTP call expected'); },
  sendRawEmail: async () => { throw new Error('no SES call expected'); },
};
const reply = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({ id: '01JREPLY000000000000000000', channel: 'webchat', conversation_id: 'c_conversation00000000001', text: 'Your parcel left the warehouse.', kind: 'reply', ...over });

describe('perform', () => {
  it('performs a web-chat reply without any call: the widget fetches the stored reply', async () => {
    const perform = makePerform(noCalls);
    const request = [webchat.render(reply(), { secrets: {} })].flat()[0]!;
    const res = await perform(request, META);
    expect(res.status).toBe(200);
    expect(webchat.readDelivery(res, reply())).toEqual({ ok: true, external_message_id: reply().id });
  });

  it('refuses a request no transport can perform instead of guessing', async () => {
    const perform = makePerform(noCalls);
    await expect(perform({ method: 'POST', url: 'local://webchat/c_1/messages', headers: {}, body: '{}' }, META)).rejects.toThrow(PerformError);
  });

  it('refuses a request that still carries a placeholder for a missing outbound secret', async () => {
    const perform = makePerform(noCalls);
    await expect(perform({ method: 'POST', url: 'https://api.telegram.org/bot<TELEGRAM_BOT_TOKEN>/sendMessage', headers: {}, body: '{}' }, { ...META, channel: 'telegram' }))
      .rejects.toThrow(/outbound secret not configured/);
  });
});

describe('perform on the AWS platform: SES', () => {
  const ses = mockClient(SESClient);
  afterEach(() => ses.reset());
  afterAll(() => ses.restore());
  const config = loadConfig({
    EMAIL_SNS_TOPIC_ARN: 'arn:aws:sns:eu-central-1:111122223333:acme-support-mail', EMAIL_FROM: 'support@acme.example',
  });
  const mail = reply({ channel: 'email', conversation_id: 'anna@shop.example', context: { subject: 'Order 5120' } });

  it('sends from the e-mail channel\'s SES region, the one the stored Message-ID names (not the function\'s own region)', async () => {
    ses.on(SendRawEmailCommand).resolves({ MessageId: '0107018f-aaaa-bbbb-cccc-0123456789ab-000000' });
    const perform = awsPlatform().perform(config);
    const request = [email.render(mail, { secrets: config as never })].flat()[0]!;
    const res = await perform(request, { channel: 'email', kind: 'reply', ticket_id: 'T1' });
    expect(await ses.call(0).thisValue.config.region()).toBe('eu-central-1');
    expect(email.readDelivery(res, mail, { secrets: config as never })).toEqual({ ok: true, external_message_id: '<0107018f-aaaa-bbbb-cccc-0123456789ab-000000@eu-central-1.amazonses.com>' });
  });

  it('hands an SES refusal to the adapter, which fails the message with its code (no address in the answer)', async () => {
    ses.on(SendRawEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: support@acme.example', $metadata: { httpStatusCode: 400 } }));
    const perform = awsPlatform().perform(config);
    const request = [email.render(mail, { secrets: config as never })].flat()[0]!;
    const res = await perform(request, { channel: 'email', kind: 'reply', ticket_id: 'T1' });
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('@');
    expect(email.readDelivery(res, mail, { secrets: config as never })).toEqual({ ok: false, retryable: false, error_code: 'MessageRejected' });
  });

  it('hands SES throttling to the adapter as a retry', async () => {
    ses.on(SendRawEmailCommand).rejects(Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const perform = awsPlatform().perform(config);
    const request = [email.render(mail, { secrets: config as never })].flat()[0]!;
    const res = await perform(request, { channel: 'email', kind: 'reply', ticket_id: 'T1' });
    expect(email.readDelivery(res, mail, { secrets: config as never })).toMatchObject({ ok: false, retryable: true, error_code: 'Throttling' });
  });

  it('throws a network failure (no answer from SES), so the queue retries the message', async () => {
    ses.on(SendRawEmailCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const perform = awsPlatform().perform(config);
    const request = [email.render(mail, { secrets: config as never })].flat()[0]!;
    await expect(perform(request, { channel: 'email', kind: 'reply', ticket_id: 'T1' })).rejects.toThrow(/socket hang up/);
  });
});

describe('perform on the AWS platform: platform APIs over HTTP', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' }).end('{"ok":false,"error_code":429}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

  it('returns the platform\'s answer as it came (status, headers, body) for the adapter to read', async () => {
    const perform = awsPlatform().perform(loadConfig({}));
    const res = await perform({ method: 'POST', url: `${base}/bot1/sendMessage`, headers: { 'content-type': 'application/json' }, body: '{}' }, { channel: 'telegram', kind: 'reply', ticket_id: 'T1' });
    expect(res).toMatchObject({ status: 429, headers: { 'retry-after': '7' }, body: '{"ok":false,"error_code":429}' });
  });

  it('gives up on a platform that does not answer, so the message is retried instead of hanging the function', async () => {
    const transport: Transport = { ...noCalls, http: async (request, meta, options) => (await import('../../functions/runtime/perform.js')).fetchTransport(request, meta, { ...options, timeoutMs: 200 }) };
    const perform = makePerform(transport);
    await expect(perform({ method: 'POST', url: `${base}/slow`, headers: {}, body: '{}' }, { channel: 'telegram', kind: 'reply', ticket_id: 'T1' })).rejects.toThrow(/aborted|timeout/i);
  });
});
