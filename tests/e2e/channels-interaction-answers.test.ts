/**
 * Button presses answered end to end over HTTP against the running local runtime (channels.md
 * §1 "The sender MUST call answerCallbackQuery", §5 "sender answers with
 * messages.sendMessageEventAnswer"): the Telegram callback_query and VK message_event samples
 * replayed, each answered by exactly one platform request in /dev/outbox (kind
 * `interaction-answer`), and a replayed duplicate — byte-identical or re-serialised, so it passes
 * the queue and meets the dedupe marker — answered not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { loadSamples, type Sample } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

type OutboxItem = { kind: string; channel: string; ticket_id: string | null; request: { method: string; url: string; headers: Record<string, string>; body: string | null } };

const VK_TOKEN = 'vk1.a.test-community-token';

describe('button presses answered end to end', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;

  const sample = (channel: string, name: string): Sample => loadSamples(channel).find((s) => s.name === name)!;
  const send = async (channel: string, s: Sample, body = s.request.body) => {
    const res = await rt.api.webhook(channel, { headers: s.request.headers, body, query: s.request.query });
    expect(res.status).toBe(200);
  };
  /** The same update as the platform re-sends it, with other bytes (passes the queue's body-hash dedupe). */
  const reserialised = (s: Sample) => JSON.stringify(JSON.parse(s.request.body), null, 1);
  const answers = async (channel: string): Promise<OutboxItem[]> =>
    ((await rt.api.get('/dev/outbox')).body.items as OutboxItem[]).filter((o) => o.channel === channel && o.kind === 'interaction-answer');
  const ticketOf = async (identity: string): Promise<string> => {
    const card = (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(identity)}`, token)).body.items[0];
    expect(card.tickets).toHaveLength(1);
    return card.tickets[0].id;
  };

  beforeAll(async () => {
    rt = await testRuntime({ TELEGRAM_BOT_TOKEN: 'test-bot-token', VK_ACCESS_TOKEN: VK_TOKEN }, { visibilityTimeoutMs: 5000 });
    token = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  it('Telegram: a callback query gets exactly one answerCallbackQuery with its id, a duplicate none', async () => {
    const press = sample('telegram', '10-callback-query');
    await send('telegram', press);
    await rt.settle();
    const ticketId = await ticketOf('telegram:48120077');
    expect(await answers('telegram')).toEqual([{
      channel: 'telegram', kind: 'interaction-answer', ticket_id: ticketId, at: expect.any(String),
      request: {
        method: 'POST', url: 'https://api.telegram.org/bottest-bot-token/answerCallbackQuery',
        headers: { 'content-type': 'application/json' }, body: '{"callback_query_id":"4419800112233445566"}',
      },
    }]);

    await send('telegram', press);
    await send('telegram', press, reserialised(press));
    await rt.settle();
    expect(await answers('telegram')).toHaveLength(1);
    // The press itself is stored once, as an interaction.
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items as Array<{ direction?: string; interaction?: unknown }>;
    expect(timeline.filter((e) => e.direction === 'in')).toMatchObject([{ interaction: { payload: 'csat:5' } }]);
  });

  it('VK: a message_event gets exactly one messages.sendMessageEventAnswer with event, user and peer, a duplicate none', async () => {
    const press = sample('vk', '11-message-event-callback');
    await send('vk', press);
    await rt.settle();
    const ticketId = await ticketOf('vk:400500600');
    const [answer, ...more] = await answers('vk');
    expect(more).toEqual([]);
    expect(answer).toMatchObject({ channel: 'vk', kind: 'interaction-answer', ticket_id: ticketId });
    expect(answer!.request).toMatchObject({ method: 'POST', url: 'https://api.vk.com/method/messages.sendMessageEventAnswer', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(Object.fromEntries(new URLSearchParams(answer!.request.body!))).toEqual({
      event_id: '3f1c2a9b7d0e', user_id: '400500600', peer_id: '400500600', access_token: VK_TOKEN, v: '5.199',
    });

    // VK re-sends an event it got no `ok` for with the same event_id and X-Retry-Counter.
    await rt.api.webhook('vk', { headers: { ...press.request.headers, 'X-Retry-Counter': '1' }, body: press.request.body });
    await send('vk', press, reserialised(press));
    await rt.settle();
    expect(await answers('vk')).toHaveLength(1);
  });

  it('answers no ordinary message and dead-letters nothing', async () => {
    await send('telegram', sample('telegram', '01-text'));
    await send('vk', sample('vk', '02-message-new-text'));
    const settled = await rt.settle();
    expect(settled.dlq).toBe(0);
    expect(await answers('telegram')).toHaveLength(1);
    expect(await answers('vk')).toHaveLength(1);
  });
});
