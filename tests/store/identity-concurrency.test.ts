/**
 * Concurrency (issue 5, must show): messages of one person arriving at once on several channels
 * and identities that share one verified phone, through the real processing path — the process
 * handler invoked once per SQS record, many invocations in flight — against DynamoDB Local.
 * Exactly one customer, one open ticket, every message once, no lost counter update. Repeated
 * with fresh ids every round. Also: two customers merging while both keep receiving messages.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { makeProcess } from '../../functions/handlers/process.js';
import { systemClock } from '../../functions/domain/clock.js';
import { loadFamily } from '../../functions/store/customers.js';
import { loadCustomers } from '../../functions/store/identity.js';
import { getCustomer, getIdentity, getTicket } from '../../functions/store/reads.js';
import { ticketTimeline } from '../../functions/store/tickets.js';
import { keys } from '../../functions/store/table.js';
import type { Db } from '../../functions/store/db.js';
import type { InboundMessage } from '../../functions/domain/inbound.js';
import { freshTable, privateDynamoDb } from '../helpers/ddb.js';
import { testConfig } from '../helpers/pipeline.js';
import { pool, sms, syntheticChannels, syntheticRecord, telegram, telegramOwnContact, twilioWhatsapp, whatsapp } from '../helpers/identity.js';

const ROUNDS = Number(process.env.IDENTITY_ROUNDS ?? 20);
const MESSAGES = Number(process.env.IDENTITY_MESSAGES ?? 100);
/** Invocations in flight at once (Lambda concurrency on the inbound queue; one FIFO group per identity). */
const IN_FLIGHT = Number(process.env.IDENTITY_IN_FLIGHT ?? 16);
const ACTIVE = ['new', 'open', 'pending_customer', 'on_hold'];

describe('one customer under concurrent messages on several channels', () => {
  let db: Db;
  let proc: ReturnType<typeof makeProcess>;

  let ddb: Awaited<ReturnType<typeof privateDynamoDb>> | undefined;
  beforeAll(async () => {
    ddb = await privateDynamoDb();
    ({ db } = await freshTable('concurrency', ddb.endpoint));
    proc = makeProcess({ db, clock: systemClock, config: testConfig({ CONFLUO_LOG_LEVEL: 'SILENT' }), channel: syntheticChannels });
  });
  afterAll(async () => { db?.doc.destroy(); await ddb?.stop(); });

  /** Exactly-once markers: a dedupe marker, or the message reference that is one (`once`, functions/store/table.ts). */
  async function countMarkers(events: readonly InboundMessage[]): Promise<number> {
    let n = 0;
    const count = async (pk: string, once: boolean) => (await db.doc.send(new QueryCommand({
      TableName: db.tableName, KeyConditionExpression: 'pk = :p', ConsistentRead: true,
      ...(once ? { FilterExpression: 'once = :t', ExpressionAttributeValues: { ':p': pk, ':t': true } } : { ExpressionAttributeValues: { ':p': pk } }),
    }))).Count ?? 0;
    await pool(events, 16, async (e) => {
      const found = await count(keys.dedupe(e.channel, e.dedup_key).pk, false) + await count(keys.messageRef(e.channel, e.external_message_id).pk, true);
      n += found;
    });
    return n;
  }

  it(`keeps exactly one customer, one open ticket and all ${MESSAGES} messages, ${ROUNDS} rounds in a row`, async () => {
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      const phone = `+4470${String(round).padStart(2, '0')}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
      const tgUser = String(800_000_000 + round * 1000 + Math.floor(Math.random() * 1000));
      const makers = [
        (i: number) => whatsapp(phone, { text: `wa ${i}` }),
        (i: number) => sms(phone, { text: `sms ${i}` }),
        (i: number) => twilioWhatsapp(phone, { text: `twa ${i}` }),
        (i: number) => telegramOwnContact(tgUser, phone, { text: `tg ${i}` }),
      ];
      const events = Array.from({ length: MESSAGES }, (_, i) => makers[i % makers.length]!(i));
      const failures: string[] = [];
      await pool(events, IN_FLIGHT, async (e) => {
        const res = await proc({ Records: [syntheticRecord(e)] });
        failures.push(...res.batchItemFailures.map((f) => f.itemIdentifier));
      });
      expect(failures, `round ${round}`).toEqual([]);

      const ids = [['whatsapp', phone.slice(1)], ['twilio', phone], ['twilio', `whatsapp:${phone}`], ['telegram', tgUser]] as const;
      const identities = await Promise.all(ids.map(([c, x]) => getIdentity(db, c, x)));
      const customerIds = new Set(identities.map((i) => i!.customer_id));
      expect(customerIds.size, `round ${round}: one customer`).toBe(1);
      const customerId = [...customerIds][0]!;
      const fam = (await loadFamily(db, customerId))!;
      expect(fam.members.map((m) => m.id), `round ${round}: nothing merged`).toEqual([customerId]);
      expect(fam.identities).toHaveLength(4);
      const active = fam.tickets.filter((t) => ACTIVE.includes(t.status));
      expect(active, `round ${round}: one open ticket`).toHaveLength(1);
      expect(fam.tickets).toHaveLength(1);
      const ticket = (await getTicket(db, active[0]!.id))!;
      expect((await getCustomer(db, customerId))!.current_ticket_id).toBe(ticket.id);
      expect(ticket.message_count, `round ${round}: no lost counter update`).toBe(MESSAGES);
      const messages = (await ticketTimeline(db, ticket)).filter((e) => e.type === 'message');
      expect(new Set(messages.map((m) => (m as { text: string }).text)).size, `round ${round}: every message once`).toBe(MESSAGES);
      expect(messages).toHaveLength(MESSAGES);
      expect(await countMarkers(events)).toBe(MESSAGES);
    }
    // eslint-disable-next-line no-console
    console.log(`concurrency: ${ROUNDS} rounds × ${MESSAGES} messages, ${IN_FLIGHT} invocations in flight: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 900_000);

  it('merges two customers while both keep receiving messages, losing none', async () => {
    for (let round = 0; round < 5; round++) {
      const phone = `+4471${String(round).padStart(2, '0')}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
      const tgUser = String(900_000_000 + round * 1000 + Math.floor(Math.random() * 1000));
      // Two customers: a Telegram one (older) and a WhatsApp one, each with an open ticket.
      await proc.handleMessage(telegram(tgUser, { text: 'tg first' }));
      await proc.handleMessage(whatsapp(phone, { text: 'wa first' }));
      const a = (await getIdentity(db, 'telegram', tgUser))!.customer_id;
      const b = (await getIdentity(db, 'whatsapp', phone.slice(1)))!.customer_id;
      expect(a).not.toBe(b);
      // Both keep writing; in the middle the Telegram user shares their own contact (the WhatsApp
      // number, verified): the customers merge while messages keep arriving on both sides.
      const events: InboundMessage[] = [];
      for (let i = 0; i < 40; i++) {
        events.push(i % 2 === 0 ? telegram(tgUser, { text: `tg ${i}` }) : whatsapp(phone, { text: `wa ${i}` }));
        if (i === 10) events.push(telegramOwnContact(tgUser, phone, { text: 'contact' }));
        if (i === 25) events.push(sms(phone, { text: 'sms joins' }));
      }
      const failures: string[] = [];
      await pool(events, IN_FLIGHT, async (e) => {
        const res = await proc({ Records: [syntheticRecord(e)] });
        failures.push(...res.batchItemFailures.map((f) => f.itemIdentifier));
      });
      expect(failures).toEqual([]);
      const graph = await loadCustomers(db, [a, b]);
      expect(graph.root(a)).toBe(graph.root(b));
      const root = graph.root(a);
      const fam = (await loadFamily(db, root))!;
      expect(fam.identities.map((i) => i.channel).sort()).toEqual(['telegram', 'twilio', 'whatsapp']);
      const active = fam.tickets.filter((t) => ACTIVE.includes(t.status));
      expect(active).toHaveLength(1);
      const ticket = (await getTicket(db, active[0]!.id))!;
      const total = events.length + 2;
      expect(ticket.message_count).toBe(total);
      const messages = (await ticketTimeline(db, ticket)).filter((e) => e.type === 'message');
      expect(messages).toHaveLength(total);
      expect(fam.tickets.filter((t) => t.status === 'merged').every((t) => t.merged_into === ticket.id)).toBe(true);
      expect((await getCustomer(db, root))!.current_ticket_id).toBe(ticket.id);
      expect(fam.log.filter((e) => e.event === 'customer_merged')).toHaveLength(1);
    }
  }, 300_000);
});
