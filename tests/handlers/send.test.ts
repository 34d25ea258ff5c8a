/**
 * The send λ against the local runtime's table: a message that cannot be rendered fails at once
 * with a reason instead of being retried into the dead-letter queue; a text over Telegram's 4096
 * characters goes out as several requests (resumed, never repeated, on a retry); a button press
 * is answered at most once, best-effort.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PlatformRequest, PlatformResponse } from '../../functions/channels/channel.js';
import { makeSend, type SendMeta } from '../../functions/handlers/send.js';
import { keys } from '../../functions/store/table.js';
import type { Runtime } from '../../local/runtime.js';
import { loadSamples } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

describe('send', () => {
  let rt: Runtime & { api: ApiClient };
  beforeAll(async () => {
    // Inbound e-mail configured, outbound not: EMAIL_FROM missing.
    rt = await testRuntime({ EMAIL_FROM: '' }, { visibilityTimeoutMs: 5000 });
  });
  afterAll(async () => { await rt?.stop(); });

  it('fails an acknowledgement it cannot render (EMAIL_FROM missing) once, with render_failed, and dead-letters nothing', async () => {
    const mail = loadSamples('email').find((s) => s.name === '01-text-utf8-v2')!;
    expect((await rt.api.webhook('email', { headers: mail.request.headers, body: mail.request.body })).status).toBe(200);
    const settled = await rt.settle();
    expect(settled.dlq).toBe(0);
    expect(rt.queues.outboundDlq.stats().depth).toBe(0);
    const token = await rt.api.token('ann', 'agent');
    const card = (await rt.api.get('/api/v1/customers?identity=email:anna.kowalska@shop.example', token)).body.items[0];
    const timeline = (await rt.api.get(`/api/v1/tickets/${card.tickets[0].id}/timeline`, token)).body.items;
    const ack = timeline.find((e: { direction?: string }) => e.direction === 'out');
    expect(ack).toMatchObject({ delivery: 'failed', delivery_error: 'render_failed' });
    expect((await rt.api.get('/dev/outbox')).body.items.filter((o: { channel: string }) => o.channel === 'email')).toHaveLength(0);
  });
});

describe('send: a text over Telegram\'s limit and the answer to a button press', () => {
  let rt: Runtime & { api: ApiClient };
  beforeAll(async () => { rt = await testRuntime({ TELEGRAM_BOT_TOKEN: 'test-bot-token' }, { visibilityTimeoutMs: 5000 }); });
  afterAll(async () => { await rt?.stop(); });

  const TICKET = '01JFTICKET0000000000000000';
  const CHAT = 48120077;
  type Call = { request: PlatformRequest; meta: SendMeta };
  /** A send λ over the runtime's table whose platform answers with `answer(call number)`. */
  const sender = (answer: (n: number, request: PlatformRequest) => PlatformResponse) => {
    const calls: Call[] = [];
    const logs: unknown[] = [];
    const log = (level: string) => (msg: unknown, ...facts: unknown[]) => { logs.push({ level, msg, facts: facts[0] }); };
    const send = makeSend({
      db: rt.db, config: rt.config,
      perform: async (request, meta) => { calls.push({ request, meta }); return answer(calls.length, request); },
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
    });
    return { send, calls, logs };
  };
  const telegramOk = (messageId: number): PlatformResponse => ({ status: 200, headers: {}, body: JSON.stringify({ ok: true, result: { message_id: messageId, chat: { id: CHAT }, date: 1 } }) });
  const put = async (entry: Record<string, unknown> & { id: string; at: number }) => {
    const key = keys.timelineEntry(TICKET, entry.at, entry.id);
    await rt.db.doc.send(new PutCommand({ TableName: rt.db.tableName, Item: { ...key, ticket_id: TICKET, type: 'message', channel: 'telegram', conversation_id: String(CHAT), attachments: [], edited: false, sent_at: entry.at, ...entry } }));
    return key.sk;
  };
  const outboundEntry = (id: string, at: number, text: string) => put({
    id, at, direction: 'out', external_message_id: null, text, interaction: null, delivery: 'queued', delivery_rank: 0, outbound_kind: 'acknowledgement', author: 'system',
  });
  const stored = async (sk: string) => (await rt.db.doc.send(new GetCommand({ TableName: rt.db.tableName, Key: { pk: keys.ticket(TICKET).pk, sk }, ConsistentRead: true }))).Item!;
  // Three paragraphs (2,998 + 2,998 + 3,000 characters) joined by blank lines: 9,000 characters of system text.
  const longText = ['a'.repeat(2998), 'b'.repeat(2998), 'c'.repeat(3000)].join('\n\n');

  it('sends a 9,000-character system text to Telegram as 3 sendMessage requests, the delivery id being the last part\'s', async () => {
    const { send, calls } = sender((n) => telegramOk(900 + n));
    const sk = await outboundEntry('ack-long-1', 1_000, longText);
    expect(await send.sendOne({ ticket_id: TICKET, entry_sk: sk, message_id: 'ack-long-1' })).toBe('sent');
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => c.meta.kind)).toEqual(['acknowledgement', 'acknowledgement', 'acknowledgement']);
    expect(longText).toHaveLength(9000);
    expect(calls.map((c) => (JSON.parse(c.request.body!).text as string).length)).toEqual([2998, 2998, 3000]);
    expect(await stored(sk)).toMatchObject({ delivery: 'sent', external_message_id: `${CHAT}:903` });
  });

  it('resumes a split text after the parts the platform accepted when a later part is retried, sending none twice', async () => {
    // Part 2 hits flood control once (429), then everything goes through.
    const { send, calls } = sender((n) => (n === 2 ? { status: 429, headers: {}, body: JSON.stringify({ ok: false, error_code: 429, parameters: { retry_after: 1 } }) } : telegramOk(900 + n)));
    const sk = await outboundEntry('ack-long-2', 2_000, longText);
    await expect(send.sendOne({ ticket_id: TICKET, entry_sk: sk, message_id: 'ack-long-2' })).rejects.toThrow(/retry/);
    expect(await stored(sk)).toMatchObject({ delivery: 'queued', parts_sent: 1 });
    expect(await send.sendOne({ ticket_id: TICKET, entry_sk: sk, message_id: 'ack-long-2' })).toBe('sent');
    const texts = calls.map((c) => (JSON.parse(c.request.body!).text as string)[0]);
    expect(texts).toEqual(['a', 'b', 'b', 'c']);
    expect(await stored(sk)).toMatchObject({ delivery: 'sent', external_message_id: `${CHAT}:904` });
  });

  it('answers a press at most once: a refused answer is logged without the platform ids and not retried, a redelivered job does nothing', async () => {
    const { send, calls, logs } = sender(() => ({ status: 400, headers: {}, body: JSON.stringify({ ok: false, error_code: 400, description: 'Bad Request: query is too old and response timeout expired or query ID is invalid' }) }));
    const sk = await put({
      id: 'in-press-1', at: 3_000, direction: 'in', external_message_id: 'callback:5566778899', text: '😀 Great', interaction: { payload: 'csat:5' },
      extras: { interaction_ref: { callback_query_id: '5566778899' } },
    });
    const job = { kind: 'interaction-answer' as const, ticket_id: TICKET, entry_sk: sk, message_id: 'in-press-1' };
    expect(await send.sendOne(job)).toBe('failed');
    expect(await send.sendOne(job)).toBe('skipped');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.request.url).toBe('https://api.telegram.org/bottest-bot-token/answerCallbackQuery');
    expect(calls[0]!.meta).toMatchObject({ channel: 'telegram', kind: 'interaction-answer', ticket_id: TICKET });
    expect((await stored(sk)).extras).toMatchObject({ interaction_answer: 'failed', interaction_answer_error: '400' });
    expect(logs).toContainEqual({ level: 'warn', msg: 'interaction answer failed', facts: { channel: 'telegram', ticket_id: TICKET, message_id: 'in-press-1', code: '400' } });
    expect(JSON.stringify(logs)).not.toContain('5566778899');
  });

  it('records an answer it could not perform (network error) as failed, once', async () => {
    const { send, calls } = sender(() => { throw new Error('fetch failed'); });
    const sk = await put({ id: 'in-press-2', at: 4_000, direction: 'in', external_message_id: 'callback:1', text: 'x', interaction: { payload: 'x' }, extras: { interaction_ref: { callback_query_id: '1' } } });
    const job = { kind: 'interaction-answer' as const, ticket_id: TICKET, entry_sk: sk, message_id: 'in-press-2' };
    expect(await send.sendOne(job)).toBe('failed');
    expect(await send.sendOne(job)).toBe('skipped');
    expect(calls).toHaveLength(1);
    expect((await stored(sk)).extras).toMatchObject({ interaction_answer: 'failed', interaction_answer_error: 'perform_failed' });
  });

  it('skips an answer job for a message without an interaction ref', async () => {
    const { send, calls } = sender(() => telegramOk(1));
    const sk = await put({ id: 'in-text-1', at: 5_000, direction: 'in', external_message_id: `${CHAT}:1`, text: 'hi', interaction: null });
    expect(await send.sendOne({ kind: 'interaction-answer', ticket_id: TICKET, entry_sk: sk, message_id: 'in-text-1' })).toBe('skipped');
    expect(calls).toHaveLength(0);
  });
});
