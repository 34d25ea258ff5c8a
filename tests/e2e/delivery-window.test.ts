/**
 * Who can be reached, and when (issue 13), end to end over HTTP: a Telegram bot blocked by the
 * customer (403 on send) marks the identity unreachable on the customer card; the messaging
 * window runs from when the customer sent their message, so a WhatsApp message delivered 30 h
 * late opens no window (409 messaging_window_closed); a registered WhatsApp template still goes
 * out (`type: template` with its parameters); Messenger takes a HUMAN_AGENT-tagged reply for 7
 * days where the deployment allows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { customerWrites, type WritingChannel } from '../helpers/customer-writes.js';
import { testRuntime, type ApiClient, type DevOutboxItem } from '../helpers/runtime.js';

const H = 3_600_000;

describe('reachability, messaging windows, templates and HUMAN_AGENT', () => {
  let rt: Runtime & { api: ApiClient };
  let agent: string;
  let supervisor: string;
  const outbox = async (): Promise<DevOutboxItem[]> => (await rt.api.get('/dev/outbox')).body.items;
  const card = async (channel: string, id: string) => (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(`${channel}:${id}`)}`, agent)).body.items[0];
  const writes = async (channel: WritingChannel, from: string, at: number, text = 'Hello?') => {
    expect((await rt.api.webhook(channel, customerWrites(channel, from, text, at))).status).toBe(200);
    expect((await rt.settle()).dlq).toBe(0);
    return (await card(channel, from)).tickets[0].id as string;
  };

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_AUTO_ACK: 'off', META_HUMAN_AGENT_TAG: 'on' }, { visibilityTimeoutMs: 2000 });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sam', 'supervisor');
  });
  afterAll(async () => { await rt?.stop(); });

  it('telegram: a send the platform refuses with 403 (bot blocked) fails the reply and marks the identity unreachable on the card', async () => {
    const ticketId = await writes('telegram', '58120777', rt.clock.now());
    expect((await card('telegram', '58120777')).identities[0]).not.toHaveProperty('reachability', 'unreachable');
    const armed = await rt.api.post('/dev/simulator', { channel: 'telegram', status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } });
    expect(armed.status).toBe(200);
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'Your order ships today.' }, agent);
    expect(res.status).toBe(202);
    await rt.settle();
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, agent)).body.items;
    expect(timeline.find((e: { id: string }) => e.id === res.body.id)).toMatchObject({ delivery: 'failed', delivery_error: 'blocked', delivery_reason: expect.stringContaining('blocked the bot') });
    const identity = (await card('telegram', '58120777')).identities[0];
    expect(identity).toMatchObject({ reachability: 'unreachable', reachability_reason: 'blocked' });
    expect(Math.abs(Date.parse(identity.reachability_at) - rt.clock.now())).toBeLessThan(60_000);

    // The customer writes again (they unblocked the bot): reachable again.
    await writes('telegram', '58120777', rt.clock.now(), 'Sorry, I had blocked you by mistake');
    expect((await card('telegram', '58120777')).identities[0]).toMatchObject({ reachability: 'reachable' });
  });

  it('whatsapp: a message delivered 30 h after the customer sent it opens no window — the reply is refused with 409 before anything is sent', async () => {
    const sentAt = rt.clock.now() - 30 * H;
    const ticketId = await writes('whatsapp', '12065550777', sentAt, 'Olá, onde está a minha encomenda?');
    // The card counts the window from the customer's own time: it closed 6 h ago.
    expect(Date.parse((await card('whatsapp', '12065550777')).identities[0].reply_window_closes_at)).toBe(Math.floor(sentAt / 1000) * 1000 + 24 * H);
    const before = (await outbox()).length;
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'A sua encomenda sai hoje.' }, agent);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('messaging_window_closed');
    expect(res.body.error.message).toMatch(/only a registered template/);
    await rt.settle();
    expect((await outbox()).length).toBe(before);
  });

  it('whatsapp: with a registered template the agent still reaches the customer — the outbox shows type template with the parameters filled from the ticket', async () => {
    const ticketId = (await card('whatsapp', '12065550777')).tickets[0].id as string;
    const ticket = (await rt.api.get(`/api/v1/tickets/${ticketId}`, agent)).body;
    const put = await fetch(`${rt.url}/api/v1/whatsapp/templates`, {
      method: 'PUT', headers: { authorization: `Bearer ${supervisor}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ name: 'ticket_update', language: 'pt_BR', category: 'UTILITY', body: 'Olá {{1}}, há novidades sobre o seu pedido {{2}}. Responda a esta mensagem para continuar.', parameters: ['customer.first_name', 'ticket.number'] }] }),
    });
    expect(put.status).toBe(200);
    expect((await rt.api.get('/api/v1/whatsapp/templates', agent)).body).toMatchObject({ version: 1, items: [{ name: 'ticket_update', language: 'pt_BR' }] });
    // An agent may not change the registry.
    expect((await fetch(`${rt.url}/api/v1/whatsapp/templates`, { method: 'PUT', headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' }, body: JSON.stringify({ items: [] }) })).status).toBe(403);

    const before = (await outbox()).length;
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { whatsapp_template: { name: 'ticket_update', language: 'pt_BR' } }, agent);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ whatsapp_template: { name: 'ticket_update', language: 'pt_BR' } });
    await rt.settle();
    const sent = (await outbox()).slice(before).filter((o) => o.ticket_id === ticketId && o.kind === 'reply');
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!.request.body!)).toEqual({
      messaging_product: 'whatsapp', recipient_type: 'individual', to: '12065550777', type: 'template',
      template: { name: 'ticket_update', language: { code: 'pt_BR' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Test' }, { type: 'text', text: ticket.number }] }] },
    });
    const entry = (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, agent)).body.items.find((e: { id: string }) => e.id === res.body.id);
    expect(entry).toMatchObject({ delivery: 'sent', text: `Olá Test, há novidades sobre o seu pedido ${ticket.number}. Responda a esta mensagem para continuar.` });
    // A template that is not registered is refused before anything is stored.
    expect((await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { whatsapp_template: { name: 'nope', language: 'pt_BR' } }, agent)).status).toBe(400);
  });

  it('messenger: 30 h after the customer wrote, a human agent\'s reply goes out tagged HUMAN_AGENT (setting on); after 7 days it is refused', async () => {
    const ticketId = await writes('messenger', '27001122330000777', rt.clock.now() - 30 * H);
    const before = (await outbox()).length;
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'Sorry for the delay: your refund is on its way.' }, agent);
    expect(res.status).toBe(202);
    expect(res.body.tag).toBe('HUMAN_AGENT');
    await rt.settle();
    const sent = (await outbox()).slice(before).filter((o) => o.ticket_id === ticketId && o.kind === 'reply');
    expect(JSON.parse(sent[0]!.request.body!)).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'Sorry for the delay: your refund is on its way.' } });

    const lateTicket = await writes('messenger', '27001122330000778', rt.clock.now() - 8 * 24 * H);
    const late = await rt.api.post(`/api/v1/tickets/${lateTicket}/replies`, { text: 'Hello?' }, agent);
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'messaging_window_closed', message: expect.stringMatching(/7 days of HUMAN_AGENT/) });
  });
});
