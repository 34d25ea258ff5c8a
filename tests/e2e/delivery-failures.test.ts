/**
 * Failures agents see, end to end on the local runtime with the platform simulator (issue 13): a
 * 429 with `retry_after: 30` holds the next attempt for 30 s of virtual time; a permanent refusal
 * ends `failed` with the platform's code and reason on the timeline and a `message.failed` in
 * `/events`, the ticket is listed by `GET /tickets?delivery=failed` until the agent sends the
 * message again; a platform that keeps asking to wait ends `failed` (`retries_exhausted`) on the
 * queue's last attempt — never `queued`, nothing dead-lettered.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { customerWrites } from '../helpers/customer-writes.js';
import { devControls, testRuntime, type ApiClient, type DevOutboxItem } from '../helpers/runtime.js';

describe('delivery failures and backoff, end to end', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  let n = 0;
  const dev = () => devControls(rt.api, (s) => expect(s).toBe(200));
  const entry = async (ticketId: string, id: string) => ((await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items as Array<Record<string, any>>).find((e) => e.id === id)!;
  const attempts = async (ticketId: string): Promise<DevOutboxItem[]> => (await dev().outbox(ticketId, 'reply'));
  /** A new Telegram customer with one open ticket; its id. */
  const conversation = async (): Promise<string> => {
    const from = String(58130000 + ++n);
    expect((await rt.api.webhook('telegram', customerWrites('telegram', from, 'Where is my order?', rt.clock.now()))).status).toBe(200);
    await dev().settle();
    return (await rt.api.get(`/api/v1/customers?identity=telegram:${from}`, token)).body.items[0].tickets[0].id;
  };
  const reply = async (ticketId: string, text: string) => {
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text }, token);
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const arm = async (rule: Record<string, unknown>) => expect((await rt.api.post('/dev/simulator', rule)).status).toBe(200);

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_AUTO_ACK: 'off', CONFLUO_SURVEY: 'off' }, { visibilityTimeoutMs: 2000 });
    token = await rt.api.token('ann', 'agent');
  });
  beforeEach(async () => { await fetch(`${rt.url}/dev/simulator`, { method: 'DELETE' }); });
  afterAll(async () => { await rt?.stop(); });

  it('429 with retry_after 30: the reply stays queued, and the next attempt comes no earlier than 30 s of virtual time later', async () => {
    const ticketId = await conversation();
    await arm({ channel: 'telegram', status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 30', parameters: { retry_after: 30 } } });
    const id = await reply(ticketId, 'Your order ships today.');
    await dev().settle(); // quiet: the retry is parked in the virtual future, like a workflow's Wait
    expect(await attempts(ticketId)).toHaveLength(1);
    expect((await attempts(ticketId))[0]).toMatchObject({ simulated: { status: 429 } });
    expect(await entry(ticketId, id)).toMatchObject({ delivery: 'queued' });

    await dev().advance(28);
    expect(await attempts(ticketId)).toHaveLength(1);
    expect(await entry(ticketId, id)).toMatchObject({ delivery: 'queued' });

    await dev().advance(3);
    const [first, second] = await attempts(ticketId);
    expect(second).toBeDefined();
    expect(Date.parse(second!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(30_000);
    expect(await entry(ticketId, id)).toMatchObject({ delivery: 'sent' });
  });

  it('a permanent refusal: failed with the platform\'s code and reason on the timeline, message.failed in /events, listed as undelivered until sent again', async () => {
    const ticketId = await conversation();
    const since = (await rt.api.get('/api/v1/events?limit=500', token)).body.next_cursor as string;
    await arm({ channel: 'telegram', status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } });
    const id = await reply(ticketId, 'Hello again');
    await dev().settle();
    expect(await entry(ticketId, id)).toMatchObject({ delivery: 'failed', delivery_error: '400', delivery_reason: expect.stringContaining('Telegram refused'), failed_at: expect.any(String) });
    const events = (await rt.api.get(`/api/v1/events?since=${encodeURIComponent(since)}&limit=500`, token)).body.items as Array<Record<string, any>>;
    expect(events.filter((e) => e.type === 'message.failed')).toEqual([expect.objectContaining({ ticket_id: ticketId, data: expect.objectContaining({ message_id: id, code: '400', channel: 'telegram', reason: expect.any(String) }) })]);

    const undelivered = async () => ((await rt.api.get('/api/v1/tickets?delivery=failed', token)).body.items as Array<{ id: string; undelivered: number }>);
    expect((await undelivered()).find((t) => t.id === ticketId)).toMatchObject({ undelivered: 1 });

    // Retry: a new attempt, as a new message; the failed one says it was sent again.
    const again = await rt.api.post(`/api/v1/tickets/${ticketId}/messages/${id}/retry`, {}, token);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ retry_of: id, delivery: 'queued' });
    await dev().settle();
    expect(await entry(ticketId, again.body.id)).toMatchObject({ delivery: 'sent', text: 'Hello again', retry_of: id });
    expect(await entry(ticketId, id)).toMatchObject({ delivery: 'failed', retried_by: again.body.id });
    expect((await undelivered()).find((t) => t.id === ticketId)).toBeUndefined();
    // Once is enough.
    expect((await rt.api.post(`/api/v1/tickets/${ticketId}/messages/${id}/retry`, {}, token)).status).toBe(409);
  });

  it('a platform that keeps asking to wait: failed (retries_exhausted) on the queue\'s last attempt — never queued, nothing dead-lettered', async () => {
    const ticketId = await conversation();
    await arm({ channel: 'telegram', status: 429, body: { ok: false, error_code: 429, parameters: { retry_after: 5 } }, times: 20 });
    const id = await reply(ticketId, 'Are you there?');
    await dev().settle();
    for (let i = 0; i < 10 && (await entry(ticketId, id)).delivery === 'queued'; i++) await dev().advance(15 * 60);
    expect(await entry(ticketId, id)).toMatchObject({ delivery: 'failed', delivery_error: 'retries_exhausted', delivery_reason: expect.stringContaining('gave up') });
    // One attempt per receive the outbound queue allows (its redrive policy: 5).
    expect(await attempts(ticketId)).toHaveLength(5);
    expect(rt.queues.outboundDlq.stats().depth).toBe(0);
    expect(rt.queues.outbound.stats()).toMatchObject({ depth: 0, inFlight: 0 });
  });
});
