/**
 * GDPR erasure end to end through the local runtime (issue 17 finding 6): `DELETE
 * /api/v1/customers/{id}` answers 202 with a status resource at once, however long the history;
 * the job then runs by itself through the change feed (the dispatch function on the table stream,
 * one bounded chunk per feed event) until `GET /api/v1/customers/{id}/erasure` says `erased`; a
 * customer with 500 messages, notes quoting them and a survey comment is then gone from the table
 * (a scan finds none of it); a second DELETE answers 200 with the same status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { keys } from '../../functions/store/table.js';
import { testRuntime } from '../helpers/runtime.js';
import { sample } from '../helpers/pipeline.js';

const MESSAGES = 500;
const textOf = (n: number) => `confidential-${String(n).padStart(4, '0')}: my card ends ${1000 + n}`;

describe('GDPR erasure through the Agent API and the change feed', () => {
  let rt: Awaited<ReturnType<typeof testRuntime>>;
  let admin: string;
  let customerId: string;
  let ticketId: string;
  let name: string;
  const ulid = monotonicFactory();
  const call = (method: string, path: string, token: string) => fetch(`${rt.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    rt = await testRuntime({}, { visibilityTimeoutMs: 5000 });
    admin = await rt.api.token('root', 'admin');
    const s = sample('telegram', '01-text');
    expect((await rt.api.webhook('telegram', { headers: s.request.headers, body: s.request.body })).status).toBe(200);
    await rt.settle();
    const ticket = (await rt.api.get('/api/v1/tickets', admin)).body.items[0] as { id: string; customer_id: string };
    ticketId = ticket.id;
    customerId = ticket.customer_id;
    // A long history: 500 more messages on the ticket, as the process function writes them.
    const rows: Array<Record<string, unknown>> = [];
    for (let n = 0; n < MESSAGES; n++) {
      const at = rt.clock.now() - (MESSAGES - n) * 1000;
      const id = ulid(at);
      rows.push({ ...keys.timelineEntry(ticketId, at, id), type: 'message', id, ticket_id: ticketId, at, channel: 'telegram', direction: 'in', external_message_id: `9${n}`, conversation_id: '4242', text: textOf(n), attachments: [], interaction: null, edited: false, sent_at: at });
      rows.push({ ...keys.messageRef('telegram', `9${n}`), ticket_id: ticketId, entry_sk: keys.timelineEntry(ticketId, at, id).sk, direction: 'in' });
    }
    for (let i = 0; i < rows.length; i += 25) {
      await rt.db.doc.send(new BatchWriteCommand({ RequestItems: { [rt.db.tableName]: rows.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    name = (await rt.api.get(`/api/v1/customers/${customerId}`, admin)).body.display_name as string;
    expect(name.length).toBeGreaterThan(2);
    const note = await rt.api.post(`/api/v1/tickets/${ticketId}/notes`, { text: `Spoke to ${name}: refund approved, call back on +1 206 555 0142.` }, admin);
    expect(note.status).toBeLessThan(300);
    await rt.db.doc.send(new UpdateCommand({ TableName: rt.db.tableName, Key: keys.ticket(ticketId), UpdateExpression: 'SET survey = :s', ExpressionAttributeValues: { ':s': { round: 1, state: 'answered', scale: 'csat', score: 1, comment: 'confidential-comment: the courier shouted' } } }));
  });
  afterAll(async () => { await rt?.stop(); });

  it('answers 202 with a status to follow, runs to erased by itself, and leaves nothing personal in the table', async () => {
    const agent = await rt.api.token('ann', 'agent');
    expect((await call('DELETE', `/api/v1/customers/${customerId}`, agent)).status).toBe(403);

    const res = await call('DELETE', `/api/v1/customers/${customerId}`, admin);
    expect(res.status).toBe(202);
    const started = await res.json() as { state: string; status_url: string; customer_id: string };
    expect(started).toMatchObject({ customer_id: customerId, state: 'running', status_url: `/api/v1/customers/${customerId}/erasure` });
    expect(res.headers.get('location')).toBe(started.status_url);

    await rt.settle(60_000);
    const status = await (await call('GET', started.status_url, admin)).json() as { state: string; counts: Record<string, number>; finished_at: string | null };
    expect(status).toMatchObject({ state: 'erased', finished_at: expect.any(String), counts: { customers: 1, tickets: 1, messages: MESSAGES + 2, notes: 1, surveys: 1, identities: 1 } }); // + her first message and our acknowledgement

    const items = (await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }))).Items ?? [];
    const all = JSON.stringify(items);
    expect(items.filter((i) => JSON.stringify(i).includes('confidential-')).map((i) => `${i.pk}|${i.sk}|${i.type}`)).toEqual([]);
    expect(all).not.toContain(name);
    expect(all).not.toContain('555 0142');
    // Notes keep the agent's words, not the customer's identifiers (functions/store/erasure.ts).
    expect(items.filter((i) => i.type === 'note').map((i) => i.text)).toEqual(['Spoke to [erased]: refund approved, call back on [erased].']);
    // References: gone — but her first message's, its exactly-once marker (functions/store/table.ts), stays as key and TTL only.
    const refs = items.filter((i) => String(i.pk).startsWith('MREF#telegram#'));
    expect(refs).toHaveLength(1);
    expect(Object.keys(refs[0]!).sort()).toEqual(['at', 'erased', 'once', 'pk', 'sk', 'ttl']);
    expect(items.filter((i) => String(i.pk).startsWith('IDENT#'))).toEqual([]);
    expect(items.filter((i) => i.type === 'customer.erased' && i.customer_id === customerId)).toHaveLength(1);
    const card = (await rt.api.get(`/api/v1/customers/${customerId}`, admin)).body as { erased_at: string | null; display_name: string | null; identities: unknown[] };
    expect(card).toMatchObject({ display_name: null, identities: [] });
    expect(card.erased_at).not.toBeNull();

    const again = await call('DELETE', `/api/v1/customers/${customerId}`, admin);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ state: 'erased' });
  });

  it('answers 404 for a customer that does not exist or was never erased', async () => {
    expect((await call('GET', '/api/v1/customers/01J00000000000000000000000/erasure', admin)).status).toBe(404);
    expect((await call('DELETE', '/api/v1/customers/01J00000000000000000000000', admin)).status).toBe(404);
  });
});
