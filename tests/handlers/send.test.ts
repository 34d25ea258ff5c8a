/**
 * The send λ against the local runtime's table: a message that cannot be rendered fails at once
 * with a reason instead of being retried into the dead-letter queue; a text over Telegram's 4096
 * characters goes out as several requests (resumed, never repeated, on a retry); a button press
 * is answered at most once, best-effort.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { sqsRecord } from '../helpers/pipeline.js';
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

describe('send: failures the agents see, backoff that respects the platform', () => {
  let rt: Runtime & { api: ApiClient };
  beforeAll(async () => { rt = await testRuntime({ TELEGRAM_BOT_TOKEN: 'test-bot-token' }, { visibilityTimeoutMs: 5000 }); });
  afterAll(async () => { await rt?.stop(); });

  const TICKET = '01JFTICKET0000000000000001';
  const CHAT = 48120088;
  let n = 0;
  const tooMany = (after: number): PlatformResponse => ({ status: 429, headers: {}, body: JSON.stringify({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 30', parameters: { retry_after: after } }) });
  const blocked: PlatformResponse = { status: 403, headers: {}, body: JSON.stringify({ ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' }) };

  beforeAll(async () => {
    // A ticket and an identity of record, so the ticket's undelivered set and the identity's reachability can be written.
    await rt.db.doc.send(new PutCommand({ TableName: rt.db.tableName, Item: { ...keys.ticket(TICKET), id: TICKET, number: 'C-900001', status: 'open', customer_id: '01JFCUSTOMER00000000000001', channel: 'telegram', conversation_id: String(CHAT), updated_at: 1, created_at: 1, message_count: 1 } }));
    await rt.db.doc.send(new PutCommand({ TableName: rt.db.tableName, Item: { ...keys.identity('telegram', String(CHAT)), channel: 'telegram', external_id: String(CHAT), customer_id: '01JFCUSTOMER00000000000001', created_at: 1 } }));
  });

  /** A queued reply on the ticket and its SQS record (receive count as given). */
  const queued = async (text = 'Your parcel ships today.', channel = 'telegram', conversation = String(CHAT)) => {
    const id = `reply-${++n}`;
    const at = 10_000 + n;
    const key = keys.timelineEntry(TICKET, at, id);
    await rt.db.doc.send(new PutCommand({ TableName: rt.db.tableName, Item: {
      ...key, ticket_id: TICKET, type: 'message', id, at, channel, conversation_id: conversation, direction: 'out', external_message_id: null, text, attachments: [], interaction: null,
      edited: false, sent_at: at, delivery: 'queued', delivery_rank: 0, outbound_kind: 'reply', author: 'ann', extras: { identity_external_id: conversation },
    } }));
    const job = { ticket_id: TICKET, entry_sk: key.sk, message_id: id };
    return { id, sk: key.sk, job, record: (receives: number) => ({ ...sqsRecord(JSON.stringify(job), `ticket:${TICKET}`), attributes: { ...sqsRecord('', '').attributes, ApproximateReceiveCount: String(receives), MessageGroupId: `ticket:${TICKET}` } }) };
  };
  const stored = async (sk: string) => (await rt.db.doc.send(new GetCommand({ TableName: rt.db.tableName, Key: { pk: keys.ticket(TICKET).pk, sk }, ConsistentRead: true }))).Item!;
  const feed = async (type: string) => (await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }))).Items!.filter((i) => String(i.pk).startsWith('FEED#') && i.type === type);
  const sender = (answer: (n: number, request: PlatformRequest) => PlatformResponse | Promise<PlatformResponse>) => {
    const calls: PlatformRequest[] = [];
    const visibility: Array<[string, number]> = [];
    const send = makeSend({
      db: rt.db, config: rt.config, maxReceiveCount: 5, random: () => 0.5,
      perform: async (request) => { calls.push(request); return answer(calls.length, request); },
      changeVisibility: async (handle, seconds) => { visibility.push([handle, seconds]); },
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    return { send, calls, visibility };
  };

  it('waits out Telegram\'s retry_after (30 s) with ChangeMessageVisibility, and holds the rest of the conversation as long', async () => {
    const first = await queued();
    const second = await queued('And the invoice follows.');
    const { send, calls, visibility } = sender(() => tooMany(30));
    const r1 = first.record(1);
    const r2 = second.record(1);
    const res = await send({ Records: [r1, r2] });
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([r1.messageId, r2.messageId]);
    expect(calls).toHaveLength(1); // the second waits behind the first, in order
    expect(visibility).toEqual([[r1.receiptHandle, 30], [r2.receiptHandle, 30]]);
    expect(await stored(first.sk)).toMatchObject({ delivery: 'queued' });
  });

  it('backs off exponentially when the platform names no wait (5xx): 30 s, 60 s, 120 s … with jitter', async () => {
    const m = await queued();
    const { send, visibility } = sender(() => ({ status: 502, headers: {}, body: 'Bad Gateway' }));
    for (const receives of [1, 2, 3]) await send({ Records: [m.record(receives)] });
    // random() = 0.5: three quarters of each step.
    expect(visibility.map(([, s]) => s)).toEqual([23, 45, 90]);
  });

  it('on the last attempt the queue allows, a failure to be retried ends in failed (retries_exhausted), never queued, and tells the agents', async () => {
    const m = await queued();
    const { send } = sender(() => tooMany(30));
    const res = await send({ Records: [m.record(5)] });
    expect(res.batchItemFailures).toEqual([]); // done with: not left for the dead-letter queue
    expect(await stored(m.sk)).toMatchObject({ delivery: 'failed', delivery_error: 'retries_exhausted', delivery_reason: expect.stringContaining('gave up') });
    expect((await feed('message.failed')).find((e) => e.data.message_id === m.id)).toMatchObject({ ticket_id: TICKET, data: { channel: 'telegram', code: 'retries_exhausted', last_error: '429', kind: 'reply' } });
    const ticket = (await rt.db.doc.send(new GetCommand({ TableName: rt.db.tableName, Key: keys.ticket(TICKET), ConsistentRead: true }))).Item!;
    expect([...ticket.undelivered]).toContain(m.id);
  });

  it('fails a record that waited behind a failure in its group and is on its last receive, instead of dead-lettering it untried', async () => {
    const first = await queued();
    const second = await queued('Second reply');
    const { send } = sender(() => ({ status: 502, headers: {}, body: '' }));
    const res = await send({ Records: [first.record(4), second.record(5)] });
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toHaveLength(1);
    expect(await stored(second.sk)).toMatchObject({ delivery: 'failed', delivery_error: 'retries_exhausted' });
    expect(await stored(first.sk)).toMatchObject({ delivery: 'queued' });
  });

  it('fails a refused message at once with the platform\'s code and reason; a blocked bot marks the identity unreachable', async () => {
    const m = await queued();
    const { send } = sender(() => blocked);
    expect(await send.sendOne(m.job)).toBe('failed');
    expect(await stored(m.sk)).toMatchObject({ delivery: 'failed', delivery_error: 'blocked', delivery_reason: 'The customer blocked the bot or deleted their Telegram account.' });
    const identity = (await rt.db.doc.send(new GetCommand({ TableName: rt.db.tableName, Key: keys.identity('telegram', String(CHAT)), ConsistentRead: true }))).Item!;
    expect(identity).toMatchObject({ reachability: 'unreachable', reachability_reason: 'blocked', reachability_at: expect.any(Number) });
    expect((await feed('message.failed')).find((e) => e.data.message_id === m.id)?.data).toMatchObject({ code: 'blocked', unreachable: true });
  });

  it('does not retry a Telegram send that timed out (it may have arrived): failed with timeout; a connection refused is retried', async () => {
    const timedOut = await queued();
    const { send } = sender(() => { throw Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }); });
    expect(await send.sendOne(timedOut.job)).toBe('failed');
    expect(await stored(timedOut.sk)).toMatchObject({ delivery: 'failed', delivery_error: 'timeout' });

    const refused = await queued();
    const { send: send2 } = sender(() => { throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }); });
    await expect(send2.sendOne(refused.job)).rejects.toMatchObject({ name: 'SendRetryLater' });
    expect(await stored(refused.sk)).toMatchObject({ delivery: 'queued' });
  });

  it('retries a VK send that timed out: random_id makes VK drop the repeat', async () => {
    const m = await queued('Привет', 'vk', '400500677');
    let first = true;
    const { send, calls } = sender(() => {
      if (first) { first = false; throw Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }); }
      return { status: 200, headers: {}, body: JSON.stringify({ response: 901 }) };
    });
    await expect(send.sendOne(m.job)).rejects.toMatchObject({ name: 'SendRetryLater' });
    expect(await send.sendOne(m.job, { receiveCount: 2 })).toBe('sent');
    expect(new URLSearchParams(calls[0]!.body!).get('random_id')).toBe(new URLSearchParams(calls[1]!.body!).get('random_id'));
  });
});
