/**
 * The shop's orders end to end over HTTP against the local runtime (README "Orders"): signed
 * pushes linked by VERIFIED e-mail or phone, the customer card listing them, an order number in
 * a message linked on the timeline (only the customer's own), `{{order.number}}` in canned
 * answers, and forged or unsigned pushes refused with nothing stored. The Shopify pull through the
 * same runtime: the simulated shop (local/shopify-simulator.ts, documented shapes, not recorded
 * traffic) holds orders, `POST /dev/shopify/pull` runs the scheduled function, a throttled answer
 * armed with `POST /dev/simulator` pauses it. And the GDPR erasure: the card no longer shows the
 * person's orders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime.js';
import { signOrderBody } from '../../functions/domain/orders.js';
import { signTwilioBody } from '../../scripts/sign-twilio.js';
import { shopifyOrderNode, throttledBody } from '../../local/shopify-simulator.js';
import { loadSamples, TEST_SECRETS } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const SECRET = TEST_SECRETS.CONFLUO_ORDERS_WEBHOOK_SECRET!;
const MARIA_PHONE = '+12065550142';

const order = (over: Record<string, unknown>) => ({
  id: 'gid-1001', number: '#51050', status: 'shipped',
  items: [{ sku: 'KET-BLUE', name: 'Blue kettle', quantity: 1, price: 49.9 }],
  totals: { currency: 'EUR', total: 54.9, shipping: 5 },
  placed_at: '2026-12-01T10:00:00Z', shipped_at: '2026-12-02T09:00:00Z', tracking_url: 'https://track.example/AB123',
  customer: { email: 'Anna.Kowalska@shop.example' }, updated_at: '2026-12-02T09:00:00Z', ...over,
});

describe('orders', () => {
  let rt: Runtime & { api: ApiClient };
  let agent: string;
  let supervisor: string;
  const push = async (body: unknown, signature?: string) => {
    const raw = JSON.stringify(body);
    const res = await fetch(`${rt.url}/webhooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature !== null ? { 'x-confluo-signature': signature ?? signOrderBody(raw, SECRET) } : {}) }, body: raw });
    return { status: res.status, body: await res.json() as any };
  };
  const card = async (identity: string) => (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(identity)}`, agent)).body.items[0];
  const orderItems = async () => ((await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }))).Items ?? [])
    .filter((i) => String(i.pk).startsWith('ORDER'));
  const sms = async (text: string, n: number) => {
    const messageSid = `SM${String(n).padStart(32, '0')}`;
    const body = new URLSearchParams([
      ['ToCountry', 'US'], ['SmsMessageSid', messageSid], ['NumMedia', '0'], ['SmsSid', messageSid], ['SmsStatus', 'received'],
      ['Body', text], ['To', '+14155550100'], ['NumSegments', '1'], ['MessageSid', messageSid],
      ['AccountSid', 'AC0123456789abcdef0123456789abcdef'], ['From', MARIA_PHONE], ['ApiVersion', '2010-04-01'],
    ]).toString();
    const signature = signTwilioBody(TEST_SECRETS.TWILIO_AUTH_TOKEN!, TEST_SECRETS.TWILIO_WEBHOOK_URL!, body);
    expect((await rt.api.webhook('twilio', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body })).status).toBe(200);
    await rt.settle();
  };

  beforeAll(async () => {
    rt = await testRuntime({ TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef' }, { visibilityTimeoutMs: 5000 });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sam', 'supervisor');
  }, 240_000);
  afterAll(async () => { await rt?.stop(); });

  it('refuses a forged or unsigned push with 401 and stores nothing', async () => {
    expect((await push(order({}), signOrderBody('{}', SECRET))).status).toBe(401);
    expect((await push(order({}), signOrderBody(JSON.stringify(order({})), 'another-secret-of-at-least-32-chars!'))).status).toBe(401);
    expect((await push(order({}), null as unknown as string)).status).toBe(401);
    expect(await orderItems()).toEqual([]);
    // Signed but not the documented shape: 422, naming the field, nothing stored.
    const bad = await push(order({ status: 'lost-in-space' }));
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toContain('status');
    expect(await orderItems()).toEqual([]);
  });

  it('links a signed order to the customer holding the e-mail verified: the card lists it', async () => {
    const s = loadSamples('email').find((x) => x.name === '01-text-utf8-v2')!;
    expect((await rt.api.webhook('email', { headers: s.request.headers, body: s.request.body })).status).toBe(200);
    await rt.settle();
    const res = await push(order({}));
    expect(res.body).toEqual({ id: 'gid-1001', result: 'stored', linked: true });
    const anna = await card('email:anna.kowalska@shop.example');
    expect(anna.orders).toEqual([expect.objectContaining({ id: 'gid-1001', number: '51050', status: 'shipped', tracking_url: 'https://track.example/AB123', totals: { currency: 'EUR', total: 54.9, shipping: 5 } })]);
    // A late, older push of the same order changes nothing.
    expect((await push(order({ status: 'paid', updated_at: '2026-12-01T10:00:00Z' }))).body.result).toBe('stale');
    expect((await card('email:anna.kowalska@shop.example')).orders[0].status).toBe('shipped');
  });

  it('links nothing for an e-mail nobody holds verified', async () => {
    const res = await push(order({ id: 'gid-2002', number: '61000', customer: { email: 'stranger@else.example' } }));
    expect(res.body).toMatchObject({ result: 'stored', linked: false });
  });

  it('recognises "where is order 51050?" on the timeline — only the customer\'s own order — and fills {{order.number}}', async () => {
    await sms('Hi, I am new here', 1);
    const maria = await card(`twilio:${MARIA_PHONE}`);
    expect((await push(order({ id: 'gid-3003', number: '51051', status: 'delivered', customer: { phone: '+1 (206) 555-0142' } }))).body.linked).toBe(true);
    await sms('where is order 51051? and what about order 51050?', 2);
    const ticket = (await card(`twilio:${MARIA_PHONE}`)).tickets[0];
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticket.id}/timeline`, agent)).body.items;
    const asked = timeline.find((e: { text?: string }) => e.text?.startsWith('where is order'));
    // 51050 is Anna's order: never shown on Maria's ticket.
    expect(asked.orders).toEqual([{ id: 'gid-3003', number: '51051', status: 'delivered', tracking_url: 'https://track.example/AB123' }]);
    expect((await rt.api.get(`/api/v1/customers/${maria.id}`, agent)).body.orders.map((o: { id: string }) => o.id)).toEqual(['gid-3003']);

    const tpl = await fetch(`${rt.url}/api/v1/templates/order-status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}` }, body: JSON.stringify({ name: 'Order status', bodies: { en: 'Order {{order.number}} is {{order.status}}.' } }) });
    expect(tpl.status).toBe(200);
    const sent = await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { template_id: 'order-status' }, agent);
    expect(sent.status).toBe(202);
    const reply = (await rt.api.get(`/api/v1/tickets/${ticket.id}/timeline`, agent)).body.items.find((e: { id: string }) => e.id === sent.body.id);
    expect(reply.text).toBe('Order 51051 is delivered.');
  });
  it('pulls the shop\'s orders from the simulated Shopify: the verified customer\'s order reaches the card, a stranger\'s links to no one', async () => {
    const dev = (path: string, body?: unknown) => fetch(`${rt.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const seeded = await dev('/dev/shopify/orders', { orders: [
      shopifyOrderNode({ id: 820001, name: '#51060', email: 'anna.kowalska@shop.example', updatedAt: '2026-12-03T10:00:00Z', fulfillment: 'FULFILLED', fulfillments: [{ createdAt: '2026-12-03T09:00:00Z', trackingUrl: 'https://track.example/SH1' }] }),
      shopifyOrderNode({ id: 820002, name: '#51061', email: 'nobody-verified@else.example', updatedAt: '2026-12-03T11:00:00Z' }),
    ] });
    expect(seeded.status).toBe(200);
    // Throttled first: the run waits, nothing is stored, the place is kept.
    expect((await dev('/dev/simulator', { channel: 'shopify', status: 200, body: throttledBody(802, 300) })).status).toBe(200);
    expect(await (await dev('/dev/shopify/pull')).json()).toMatchObject({ status: 'throttled', orders: 0 });
    expect(await (await dev('/dev/shopify/pull')).json()).toMatchObject({ status: 'waiting' });
    await fetch(`${rt.url}/dev/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 15 }) });
    expect(await (await dev('/dev/shopify/pull')).json()).toMatchObject({ status: 'caught_up', orders: 2, linked: 1 });
    const anna = await card('email:anna.kowalska@shop.example');
    expect(anna.orders.map((o: { number: string }) => o.number)).toContain('51060');
    expect(anna.orders.find((o: { number: string }) => o.number === '51060')).toMatchObject({ id: 'shopify:820001', status: 'shipped', tracking_url: 'https://track.example/SH1' });
    const stranger = (await orderItems()).find((i) => i.id === 'shopify:820002');
    expect(stranger).toMatchObject({ customer_id: null });
    // The requests went out as the GraphQL Admin API takes them (the local outbox records them).
    const sent = (await rt.api.get('/dev/outbox')).body.items.filter((i: { channel: string }) => i.channel === 'shopify');
    expect(sent.at(-1).request).toMatchObject({ method: 'POST', url: 'https://confluo-local.myshopify.com/admin/api/2026-10/graphql.json', headers: { 'x-shopify-access-token': TEST_SECRETS.CONFLUO_SHOPIFY_ACCESS_TOKEN } });
  });

  it('erases the person\'s orders with the person: the card no longer shows them', async () => {
    const admin = await rt.api.token('ada', 'admin');
    const anna = await card('email:anna.kowalska@shop.example');
    expect(anna.orders.length).toBeGreaterThan(0);
    const res = await fetch(`${rt.url}/api/v1/customers/${anna.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(202);
    await rt.settle(60_000);
    const status = (await rt.api.get(`/api/v1/customers/${anna.id}/erasure`, admin)).body;
    expect(status).toMatchObject({ state: 'erased', counts: { orders: anna.orders.length } });
    expect((await rt.api.get(`/api/v1/customers/${anna.id}`, admin)).body.orders).toEqual([]);
    for (const o of (await orderItems()).filter((i) => i.sk === 'ORDER' && anna.orders.some((a: { id: string }) => a.id === i.id))) {
      expect(o).toMatchObject({ customer_id: null, items: [], tracking_url: null, erased: true });
    }
  });
});
