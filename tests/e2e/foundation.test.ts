/**
 * One message the whole way, over HTTP against the running local runtime:
 * webhook → queue → process → DynamoDB → Agent API → reply → outbox.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime.js';
import { sample } from '../helpers/pipeline.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };

describe('local runtime: one Telegram message end to end', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  const text = sample('telegram', '01-text');
  const fromId = String(JSON.parse(text.request.body).message.from.id);

  const snapshot = async () => {
    const items = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }));
    return { items: (items.Items ?? []).map((i) => `${i.pk}|${i.sk}`).sort(), queue: rt.queues.inbound.stats(), dlq: rt.queues.inboundDlq.stats() };
  };

  beforeAll(async () => {
    // WhatsApp left unconfigured on purpose: an unconfigured channel must answer 404.
    rt = await testRuntime({ META_APP_SECRET: '' });
    token = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  it('answers /healthz', async () => {
    expect((await fetch(`${rt.url}/healthz`)).status).toBe(200);
  });

  it('turns a signed update into a customer with one ticket whose timeline holds the message', async () => {
    const res = await rt.api.webhook('telegram', { headers: TG, body: text.request.body });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    await rt.settle();
    const customers = await rt.api.get(`/api/v1/customers?identity=telegram:${fromId}`, token);
    expect(customers.status).toBe(200);
    expect(customers.body.items).toHaveLength(1);
    const card = customers.body.items[0];
    expect(card.identities).toEqual([expect.objectContaining({ channel: 'telegram', external_id: fromId })]);
    expect(card.tickets).toHaveLength(1);
    const timeline = await rt.api.get(`/api/v1/tickets/${card.tickets[0].id}/timeline`, token);
    const messages = timeline.body.items.filter((e: { type: string; direction: string }) => e.type === 'message' && e.direction === 'in');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ direction: 'in', channel: 'telegram', text: JSON.parse(text.request.body).message.text });
  });

  it('changes nothing when the same update is posted again', async () => {
    const before = await snapshot();
    const res = await rt.api.webhook('telegram', { headers: TG, body: text.request.body });
    expect(res.status).toBe(200);
    await rt.settle();
    const after = await snapshot();
    expect(after.items).toEqual(before.items);
  });

  it('sends an agent reply as a Telegram sendMessage to that chat and records it as sent', async () => {
    const card = (await rt.api.get(`/api/v1/customers?identity=telegram:${fromId}`, token)).body.items[0];
    const ticketId = card.tickets[0].id;
    const reply = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'We are checking your order.' }, token);
    expect(reply.status).toBe(202);
    await rt.settle();
    const outbox = (await rt.api.get('/dev/outbox')).body.items;
    const sent = outbox.filter((o: { kind: string }) => o.kind === 'reply');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ channel: 'telegram', ticket_id: ticketId, request: { method: 'POST' } });
    expect(sent[0].request.url).toMatch(/^https:\/\/api\.telegram\.org\/bot.+\/sendMessage$/);
    expect(JSON.parse(sent[0].request.body)).toEqual({ chat_id: Number(fromId), text: 'We are checking your order.' });
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items;
    expect(timeline.find((e: { id: string }) => e.id === reply.body.id)).toMatchObject({ direction: 'out', delivery: 'sent' });
    const ticket = (await rt.api.get(`/api/v1/tickets/${ticketId}`, token)).body;
    expect(ticket.first_response_at).not.toBeNull();
  });

  it('acknowledges the new ticket once, in the customer\'s language, and never for a join or a duplicate', async () => {
    const card = (await rt.api.get(`/api/v1/customers?identity=telegram:${fromId}`, token)).body.items[0];
    const acks = () => rt.api.get('/dev/outbox').then((r) => r.body.items.filter((o: { kind: string }) => o.kind === 'acknowledgement'));
    const first = await acks();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ channel: 'telegram', ticket_id: card.tickets[0].id });
    const body = JSON.parse(first[0].request.body);
    expect(body.chat_id).toBe(Number(fromId));
    expect(body.text).toContain(card.tickets[0].number);
    expect(body.text).toMatch(/Dziękujemy/); // the sample's sender writes in Polish (language_code pl)
    expect(body.text).toContain('1 godziny');
    await rt.api.webhook('telegram', { headers: TG, body: sample('telegram', '02-photo-caption').request.body });
    await rt.api.webhook('telegram', { headers: TG, body: text.request.body });
    await rt.settle();
    expect(await acks()).toHaveLength(1);
  });

  it('refuses forged, oversized and malformed requests and leaves no trace', async () => {
    const before = await snapshot();
    const forged = await rt.api.webhook('telegram', { headers: { ...TG, 'x-telegram-bot-api-secret-token': 'forged' }, body: text.request.body });
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body).error.code).toBe('unauthorized');
    const oversized = await rt.api.webhook('telegram', { headers: { ...TG, 'x-telegram-bot-api-secret-token': 'wrong' }, body: Buffer.alloc(262_145, 0x20) });
    expect(oversized.status).toBe(413);
    const malformed = await rt.api.webhook('telegram', { headers: TG, body: '{"update_id": 1,' });
    expect(malformed.status).toBe(400);
    const missing = await rt.api.webhook('telegram', { headers: TG, body: '{"message":{}}' });
    expect(missing.status).toBe(400);
    const unknown = await rt.api.webhook('icq', { headers: TG, body: '{}' });
    expect(unknown.status).toBe(404);
    await rt.settle();
    expect(await snapshot()).toEqual(before);
  });

  it('answers 404 for a channel whose secret is not configured', async () => {
    const res = await rt.api.webhook('whatsapp', { headers: {}, body: '{}' });
    expect(res.status).toBe(404);
  });

  it('refuses the Agent API without a valid token (401) and explains a bad body (400)', async () => {
    expect((await rt.api.get('/api/v1/tickets')).status).toBe(401);
    expect((await rt.api.get('/api/v1/tickets', 'not-a-token')).status).toBe(401);
    const list = await rt.api.get('/api/v1/tickets?limit=0', token);
    expect(list.status).toBe(400);
    expect(list.body.error.code).toBe('invalid');
    const card = (await rt.api.get(`/api/v1/customers?identity=telegram:${fromId}`, token)).body.items[0];
    const bad = await rt.api.post(`/api/v1/tickets/${card.tickets[0].id}/replies`, { text: '' }, token);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/text/);
  });

  it('serves an OpenAPI 3.1 document describing the routes', async () => {
    const doc = (await rt.api.get('/api/v1/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/tickets', '/api/v1/tickets/{id}', '/api/v1/tickets/{id}/timeline', '/api/v1/tickets/{id}/replies', '/api/v1/customers', '/api/v1/customers/{id}']));
    const body = doc.paths['/api/v1/tickets/{id}/replies'].post.requestBody.content['application/json'].schema;
    expect(body.$ref).toBe('#/components/schemas/ReplyRequest');
    expect(Object.keys(doc.components.schemas.ReplyRequest.properties)).toEqual(expect.arrayContaining(['text', 'template', 'channel']));
    expect(doc.components.schemas.Ticket.properties.status.enum).toContain('pending_customer');
  });
});
