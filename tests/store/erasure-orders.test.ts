/**
 * GDPR erasure of the shop's orders (functions/store/erasure.ts, phase `orders`; README "Orders")
 * against DynamoDB Local: every order linked to the person — to the root customer or to a
 * customer merged into it, more than one chunk of them — loses its link, items and tracking link,
 * its number item no longer names the person, the card's query finds none, no item of the table
 * holds their e-mail or phone, and another customer's order is untouched. A later push of the
 * same order links it to no one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import type { Db } from '../../functions/store/db.js';
import { mergeCustomers } from '../../functions/store/customers.js';
import { getErasureJob, ORDER_CHUNK_ITEMS, runErasure } from '../../functions/store/erasure.js';
import { customerOrders, ordersByNumber, storeShopOrder } from '../../functions/store/orders.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { freshTable } from '../helpers/ddb.js';

const T0 = Date.parse('2026-12-07T09:00:00Z');
const EMAIL = 'anna.kowalska@shop.example';
const PHONE = '+48600100200';
const OTHER_EMAIL = 'maria@else.example';

const order = (n: number, contact: { email?: string; phone?: string }) => ({
  id: `shopify:${n}`, number: String(51000 + n), status: 'shipped' as const,
  items: [{ sku: 'KET-BLUE', name: 'Engraved kettle "For Anna"', quantity: 1, price: 49.9 }], totals: { currency: 'EUR', total: 49.9 },
  placed_at: T0 - n * 60_000, shipped_at: T0, tracking_url: `https://track.example/${n}`, updated_at: T0, contact,
});

describe('erasure of orders (DynamoDB Local)', () => {
  let db: Db;
  const ulid = monotonicFactory();
  const scan = async () => (await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }))).Items ?? [];
  const customer = async (id: string, kind: 'email' | 'phone', value: string) => {
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customer(id), id, display_name: 'Anna Kowalska', created_at: T0 - 86_400_000 } }));
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.verifiedAttribute(kind, value), ...indexKeys.customerAttribute(id, kind, value), kind, customer_id: id, channel: kind === 'email' ? 'email' : 'whatsapp', at: 1 } }));
  };

  beforeAll(async () => {
    ({ db } = await freshTable('erasure-orders'));
    // Anna: an e-mail customer, and her WhatsApp self (phone) — orders linked to each — merged later.
    await customer('cust-anna', 'email', EMAIL);
    await customer('cust-anna-wa', 'phone', PHONE);
    await customer('cust-maria', 'email', OTHER_EMAIL);
    for (let n = 1; n <= ORDER_CHUNK_ITEMS + 5; n++) expect((await storeShopOrder(db, order(n, { email: EMAIL }), T0)).linked).toBe(true);
    expect((await storeShopOrder(db, order(100, { phone: '+48 600 100 200' }), T0)).linked).toBe(true);
    expect((await storeShopOrder(db, order(200, { email: OTHER_EMAIL }), T0)).linked).toBe(true);
    const merged = await mergeCustomers(db, { winnerId: 'cust-anna', loserId: 'cust-anna-wa', reason: 'manual', attribute: null, sources: [], actor: 'agent:sam', now: T0, newId: () => ulid() });
    expect(merged.status).toBe('merged');
    expect(await customerOrders(db, ['cust-anna', 'cust-anna-wa'], 100)).toHaveLength(ORDER_CHUNK_ITEMS + 6);
  });

  it('anonymises every order of the person, in more than one chunk, and the card no longer shows them', async () => {
    const res = await runErasure(db, { id: 'cust-anna', actor: 'admin:ada', now: T0 + 1000, newId: () => ulid() });
    expect(res.status).toBe('erased');
    const job = await getErasureJob(db, 'cust-anna');
    expect(job).toMatchObject({ state: 'erased', counts: { orders: ORDER_CHUNK_ITEMS + 6 } });

    expect(await customerOrders(db, ['cust-anna', 'cust-anna-wa'], 100)).toEqual([]);
    expect((await ordersByNumber(db, ['51001', '51100'], new Set(['cust-anna', 'cust-anna-wa']))).size).toBe(0);
    const items = await scan();
    const annas = items.filter((i) => i.sk === 'ORDER' && i.id !== 'shopify:200');
    expect(annas).toHaveLength(ORDER_CHUNK_ITEMS + 6);
    for (const o of annas) {
      expect(o).toMatchObject({ customer_id: null, items: [], tracking_url: null, erased: true, status: 'shipped' });
      expect(o).not.toHaveProperty('gsi3pk');
    }
    for (const p of items.filter((i) => i.sk === 'ORDERNO' && i.order_id !== 'shopify:200')) expect(p.customer_id).toBeNull();
    // Nothing in the table holds her e-mail, phone (in any spelling) or the name the items quoted.
    const text = JSON.stringify(items.filter((i) => i.id !== 'shopify:200' && i.order_id !== 'shopify:200'));
    for (const needle of [EMAIL, PHONE, '600100200', 'For Anna']) expect(text).not.toContain(needle);
    expect(items.filter((i) => i.customer_id === 'cust-anna' || i.customer_id === 'cust-anna-wa').filter((i) => String(i.sk).startsWith('ORDER'))).toEqual([]);
  });

  it('leaves another customer\'s order as it was', async () => {
    expect(await customerOrders(db, ['cust-maria'])).toEqual([expect.objectContaining({ id: 'shopify:200', customer_id: 'cust-maria', tracking_url: 'https://track.example/200', items: [expect.objectContaining({ quantity: 1 })] })]);
  });

  it('links a later push of an erased order to no one: her verified e-mail is gone', async () => {
    const again = await storeShopOrder(db, { ...order(1, { email: EMAIL }), updated_at: T0 + 60_000 }, T0 + 60_000);
    expect(again).toEqual({ result: 'stored', linked: false });
  });
});
