/**
 * Telegram and web chat end to end over HTTP against the running local runtime (channels.md §1,
 * §9): every accepted sample replayed in NN order, the customers and messages seen through the
 * Agent API exactly as the samples' expected events say, replies as each platform's request in the outbox (web chat: stored for
 * the widget, nothing performed), and every refusal leaving no trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime.js';
import { loadSamples } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';
import { expectStoredAsSamplesSay, replayAccepted } from '../helpers/replay.js';

const CHANNELS = ['telegram', 'webchat'] as const;

describe('telegram and web chat end to end', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  const snapshot = async () => {
    const items = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }));
    return { items: (items.Items ?? []).map((i) => `${i.pk}|${i.sk}`).sort(), queue: rt.queues.inbound.stats().depth };
  };

  beforeAll(async () => {
    rt = await testRuntime({ TELEGRAM_BOT_TOKEN: 'test-bot-token' }, { visibilityTimeoutMs: 5000 });
    token = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  for (const channel of CHANNELS) {
    it(`${channel}: answers every accepted sample as the contract says and stores each message once, edited in place`, async () => {
      const samples = loadSamples(channel);
      await replayAccepted(rt.api, () => rt.settle(), channel, samples);
      await expectStoredAsSamplesSay(rt.api, token, channel, samples);
    });
  }

  it('telegram: ignores group messages and a bot being blocked (no customer for the group sender)', async () => {
    const group = JSON.parse(loadSamples('telegram').find((s) => s.name === '12-group-message')!.request.body);
    const sender = String(group.message.from.id);
    expect((await rt.api.get(`/api/v1/customers?identity=telegram:${sender}`, token)).body.items).toEqual([]);
  });

  it('replies on each channel as that platform\'s request: Telegram sendMessage, web chat stored for the widget', async () => {
    const tickets = (await rt.api.get('/api/v1/tickets?limit=100', token)).body.items as Array<{ id: string; channel: string }>;
    for (const channel of CHANNELS) {
      const ticket = tickets.find((t) => t.channel === channel)!;
      const res = await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { text: `Hello from support on ${channel}` }, token);
      expect(res.status).toBe(202);
      await rt.settle();
      const sent = ((await rt.api.get('/dev/outbox')).body.items as Array<{ kind: string; channel: string; ticket_id: string; request: { url: string; body: string } }>)
        .filter((o) => o.kind === 'reply' && o.ticket_id === ticket.id);
      if (channel === 'telegram') {
        expect(sent).toHaveLength(1);
        expect(JSON.stringify(sent[0]!.request)).toContain(`Hello from support on ${channel}`);
        expect(sent[0]!.request.url).toBe('https://api.telegram.org/bottest-bot-token/sendMessage');
      } else {
        // Web chat has no platform to call: nothing is performed, the widget fetches the stored reply.
        expect(sent).toEqual([]);
        const bearers = new Set(loadSamples('webchat').filter((x) => x.kind === 'accepted').map((x) => x.request.headers.Authorization).filter((a): a is string => !!a));
        const seen: string[] = [];
        for (const authorization of bearers) {
          const res = await fetch(`${rt.url}/webchat/messages`, { headers: { authorization } });
          expect(res.status).toBe(200);
          seen.push(...((await res.json()) as { items: Array<{ direction: string; text: string }> }).items.filter((i) => i.direction === 'out').map((i) => i.text));
        }
        expect(seen).toContain(`Hello from support on ${channel}`);
      }
      const entry = ((await rt.api.get(`/api/v1/tickets/${ticket.id}/timeline`, token)).body.items as Array<{ id: string; delivery?: string }>).find((e) => e.id === res.body.id);
      // Served to the widget, a web-chat reply is delivered; Telegram's stays sent until a receipt.
      expect(entry?.delivery).toBe(channel === 'webchat' ? 'delivered' : 'sent');
    }
  });

  it('refuses every refusal sample with its status and leaves no trace', async () => {
    const before = await snapshot();
    for (const channel of CHANNELS) {
      for (const s of loadSamples(channel).filter((x) => x.kind === 'refusal')) {
        const res = await rt.api.webhook(channel, { method: s.request.method.toUpperCase(), headers: s.request.headers, body: s.request.body, query: s.request.query });
        expect(res.status, `${channel}/${s.name}`).toBe(s.expect.status);
      }
    }
    await rt.settle();
    expect(await snapshot()).toEqual(before);
  });
});
