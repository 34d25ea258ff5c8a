/**
 * Issue 16 through the running local service: the phone channel's handlers (voice-lookup,
 * voice-events) invoked by `POST /dev/connect/lookup` and `/dev/connect/events` with the Connect
 * samples, as the synthesised stack wires them (local/template.ts synthesises a placeholder Connect
 * instance); tickets, timelines and SLA seen through the Agent API, deadlines on the virtual clock.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { keys } from '../../functions/store/table.js';
import { customerWrites } from '../helpers/customer-writes.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

type Rt = Runtime & { api: ApiClient };
type TimelineItem = { id: string; type: string; channel?: string; direction?: string; text?: string; event?: string; call?: Record<string, unknown> };

describe('phone calls through Amazon Connect (local runtime)', () => {
  let rt: Rt;
  let agent: string;

  beforeAll(async () => {
    rt = await testRuntime({ WHATSAPP_PHONE_NUMBER_ID: '120300400500600' });
    agent = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  const lookup = async (body: Record<string, unknown>) => {
    const res = await rt.api.post('/dev/connect/lookup', body);
    expect(res.status).toBe(200);
    return res.body as Record<string, string>;
  };
  const events = async (body: unknown) => {
    const res = await rt.api.post('/dev/connect/events', body);
    expect(res.status).toBe(200);
    expect((await rt.api.post('/dev/settle', {})).body.dlq).toBe(0);
    return res.body.results as Array<{ outcome: string; ticket_id?: string; reason?: string }>;
  };
  const timeline = async (ticketId: string): Promise<TimelineItem[]> => (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, agent)).body.items;
  const calls = async (ticketId: string) => (await timeline(ticketId)).filter((e) => e.type === 'message' && e.channel === 'voice');

  it('recognises a WhatsApp customer who calls, answers their ticket and files the call on it once', async () => {
    const phone = '+34600111001';
    const wrote = customerWrites('whatsapp', phone.slice(1), 'Where is my parcel?', rt.clock.now(), 'Ana Pérez');
    expect((await rt.api.webhook('whatsapp', wrote)).status).toBe(200);
    await rt.api.post('/dev/settle', {});
    const card = (await rt.api.get(`/api/v1/customers?identity=whatsapp:${phone.slice(1)}`, agent)).body.items[0];
    const ticket = (await rt.api.get(`/api/v1/tickets/${card.tickets[0].id}`, agent)).body;
    // The tier is another capability's attribute (issue 15): set on the customer item directly.
    await rt.db.doc.send(new UpdateCommand({ TableName: rt.db.tableName, Key: keys.customer(card.id), UpdateExpression: 'SET tier = :t', ExpressionAttributeValues: { ':t': 'vip' } }));

    const contactId = 'c0ffee00-0000-4000-8000-000000000101';
    const attrs = await lookup({ sample: 'lookup-inbound', contactId, phone });
    expect(attrs).toEqual({
      customer_id: card.id, name: 'Ana Pérez', tier: 'vip', language: '', open_ticket_number: ticket.number, open_ticket_priority: 'normal',
      last_channel: 'whatsapp', verified: 'true', sla_breached: 'false',
    });
    expect(Object.values(attrs).every((v) => typeof v === 'string')).toBe(true);

    const answered = await events({ sample: 'event-inbound-answered', contactId });
    expect(answered).toEqual([expect.objectContaining({ outcome: 'filed', ticket_id: ticket.id })]);
    // EventBridge delivers again: nothing more is added.
    expect(await events({ sample: 'event-inbound-answered', contactId })).toEqual([expect.objectContaining({ outcome: 'duplicate', ticket_id: ticket.id })]);
    // Events other than DISCONNECTED are acknowledged and dropped.
    expect(await events({ sample: 'event-queued', contactId })).toEqual([{ outcome: 'ignored', reason: 'not_filed' }]);

    const filed = await calls(ticket.id);
    expect(filed).toHaveLength(1);
    expect(filed[0]).toMatchObject({
      direction: 'in', text: 'Phone call answered, talked 3 min 55 s, waited 45 s',
      call: { contact_id: contactId, direction: 'in', outcome: 'answered', queue: '0a0b0c0d-0000-4000-8000-000000000001', agent: 'a9e47000-0000-4000-8000-000000000001', wait_seconds: 45, talk_seconds: 235, disconnect_reason: 'CUSTOMER_DISCONNECT', recording: null },
    });
    const after = (await rt.api.get(`/api/v1/tickets/${ticket.id}`, agent)).body;
    // The answered call is the first response; the ticket stays the customer's one open ticket.
    expect(after.first_response_at).not.toBeNull();
    expect(after.channel).toBe('voice');
    const again = (await rt.api.get(`/api/v1/customers/${card.id}`, agent)).body;
    expect(again.tickets.filter((t: { status: string }) => !['resolved', 'closed', 'merged'].includes(t.status))).toHaveLength(1);
    // The caller's number is a claim: a voice identity on the same customer, not verified.
    expect(again.identities).toEqual(expect.arrayContaining([expect.objectContaining({ channel: 'voice', external_id: phone, phone_verified: false })]));

    // `channel=voice` lists it; a text reply on voice is refused with the way to answer.
    const listed = (await rt.api.get('/api/v1/tickets?channel=voice', agent)).body.items.map((t: { id: string }) => t.id);
    expect(listed).toContain(ticket.id);
    const reply = await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { text: 'Hello' }, agent);
    expect(reply.status).toBe(409);
    expect(reply.body.error.code).toBe('voice_reply_not_sent');
    expect((await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { text: 'Hello', channel: 'whatsapp' }, agent)).status).toBe(202);
  });

  it('turns an abandoned call from an unknown number into a call-back ticket whose deadline breaches when nobody calls back', async () => {
    const phone = '+34600222002';
    const contactId = 'c0ffee00-0000-4000-8000-000000000201';
    expect(await lookup({ sample: 'lookup-inbound', contactId, phone })).toMatchObject({ customer_id: '', tier: '', open_ticket_number: '', verified: '' });
    const [filed] = await events({ sample: 'event-inbound-abandoned', contactId });
    expect(filed).toMatchObject({ outcome: 'filed' });
    const id = filed!.ticket_id!;
    const ticket = (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
    expect(ticket).toMatchObject({ channel: 'voice', priority: 'normal', callback: { state: 'pending', contact_id: contactId }, sla: { policy: 'default-voice', breached: [] } });
    expect(Date.parse(ticket.sla.first_response_due) - Date.parse(ticket.created_at)).toBe(30 * 60_000);
    const entries = await timeline(id);
    expect(entries.filter((e) => e.type === 'message')).toEqual([expect.objectContaining({ direction: 'in', call: expect.objectContaining({ outcome: 'abandoned', wait_seconds: 165, talk_seconds: 0 }) })]);
    expect(entries.map((e) => e.event).filter(Boolean)).toEqual(expect.arrayContaining(['ticket.opened', 'callback.requested']));
    // Nothing is sent on voice: no acknowledgement in the outbox.
    expect((await rt.api.get('/dev/outbox')).body.items.filter((i: { ticket_id: string }) => i.ticket_id === id)).toEqual([]);
    expect((await events({ sample: 'event-inbound-abandoned', contactId }))[0]).toMatchObject({ outcome: 'duplicate' });
    expect((await timeline(id)).filter((e) => e.event === 'callback.requested')).toHaveLength(1);

    await rt.api.post('/dev/clock', { advanceSeconds: 31 * 60 });
    await rt.api.post('/dev/settle', {});
    const late = (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
    expect(late.sla.breached).toEqual(['first_response']);
    expect(late.callback.state).toBe('pending');
  });

  it('settles the call-back with the agent\'s outbound call, at the tier\'s priority', async () => {
    const phone = '+34600333003';
    const wrote = customerWrites('whatsapp', phone.slice(1), 'Please call me', rt.clock.now(), 'Bo Lind');
    expect((await rt.api.webhook('whatsapp', wrote)).status).toBe(200);
    await rt.api.post('/dev/settle', {});
    const card = (await rt.api.get(`/api/v1/customers?identity=whatsapp:${phone.slice(1)}`, agent)).body.items[0];
    await rt.db.doc.send(new UpdateCommand({ TableName: rt.db.tableName, Key: keys.customer(card.id), UpdateExpression: 'SET tier = :t', ExpressionAttributeValues: { ':t': 'vip' } }));
    const missed = 'c0ffee00-0000-4000-8000-000000000301';
    await lookup({ sample: 'lookup-inbound', contactId: missed, phone });
    const [filed] = await events({ sample: 'event-inbound-abandoned', contactId: missed });
    const id = filed!.ticket_id!;
    expect(id).toBe(card.tickets[0].id);
    const waiting = (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
    expect(waiting).toMatchObject({ priority: 'high', callback: { state: 'pending' }, sla: { policy: 'default-voice-priority' } });

    const back = 'c0ffee00-0000-4000-8000-000000000302';
    await lookup({ sample: 'lookup-inbound', contactId: back, phone });
    expect((await events({ sample: 'event-outbound-callback', contactId: back }))[0]).toMatchObject({ outcome: 'filed', ticket_id: id });
    const done = (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
    expect(done.callback).toMatchObject({ state: 'done', done_by: back });
    const out = (await calls(id)).filter((c) => c.direction === 'out');
    expect(out).toEqual([expect.objectContaining({ call: expect.objectContaining({ outcome: 'answered', talk_seconds: 288 }) })]);
    expect((await timeline(id)).map((e) => e.event)).toContain('callback.completed');
  });
});
