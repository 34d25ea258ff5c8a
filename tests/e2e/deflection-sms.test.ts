/**
 * Messenger deflection on a channel without buttons, end to end over signed Twilio SMS webhooks
 * (README "Knowledge base"): the offer lists the two answers as numbers, a reply of `1` deflects
 * the conversation, and on another conversation a reply of `2` opens the ticket with the question.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { customerWrites } from '../helpers/customer-writes.js';
import { devControls, testRuntime, type ApiClient, type DevOutboxItem } from '../helpers/runtime.js';

describe('deflection on SMS (local runtime)', () => {
  let rt: Runtime & { api: ApiClient };
  let agent: string;
  let dev: ReturnType<typeof devControls>;

  const writes = async (phone: string, text: string) => {
    const at = (await rt.api.get('/dev/clock')).body.epoch_ms as number;
    const req = customerWrites('twilio', phone, text, at);
    expect((await rt.api.webhook('twilio', req)).status).toBe(200);
    await dev.settle();
  };
  const ticketOf = async (phone: string) => {
    const card = (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(`twilio:${phone}`)}`, agent)).body.items[0];
    expect(card.tickets).toHaveLength(1);
    return (await rt.api.get(`/api/v1/tickets/${card.tickets[0].id}`, agent)).body;
  };
  const texts = async (ticketId: string) => ((await rt.api.get('/dev/outbox')).body.items as DevOutboxItem[])
    .filter((o) => o.ticket_id === ticketId && o.channel === 'twilio').map((o) => ({ kind: o.kind, body: new URLSearchParams(o.request.body!).get('Body') }));

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_KB_DEFLECTION: 'twilio' });
    dev = devControls(rt.api, (s) => expect(s).toBe(200));
    agent = await rt.api.token('ann', 'agent');
    const supervisor = await rt.api.token('sue', 'supervisor');
    const res = await fetch(`${rt.url}/api/v1/kb/articles/en-returns`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}` },
      body: JSON.stringify({ title: 'Returning an order', body: 'You can return orders within 30 days.', language: 'en', status: 'published', tags: ['returns'] }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => { await rt?.stop(); });

  it('lists the answers as numbers; 1 deflects the conversation', async () => {
    await writes('+14155550181', 'How do I return my order?');
    const held = await ticketOf('+14155550181');
    expect(held.status).toBe('held');
    const [offer] = await texts(held.id);
    expect(offer!.kind).toBe('deflection');
    expect(offer!.body).toContain('Returning an order');
    expect(offer!.body!.endsWith('Did it solve your problem?\n\n1. That solved it\n2. I still need help')).toBe(true);
    await writes('+14155550181', '1');
    expect(await ticketOf('+14155550181')).toMatchObject({ status: 'deflected', deflection: { answer: 'solved' } });
  });

  it('2 opens the ticket with the question on it', async () => {
    await writes('+14155550182', 'How can I return an order?');
    await writes('+14155550182', '2');
    const opened = await ticketOf('+14155550182');
    expect(opened).toMatchObject({ status: 'new', deflection: { answer: 'help' } });
    const timeline = (await rt.api.get(`/api/v1/tickets/${opened.id}/timeline`, agent)).body.items as Array<{ type: string; direction?: string; text?: string }>;
    expect(timeline.filter((e) => e.type === 'message' && e.direction === 'in').map((e) => e.text)).toEqual(['How can I return an order?', '2']);
  });
});
