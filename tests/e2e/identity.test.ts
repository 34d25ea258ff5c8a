/**
 * Issue 5 through the running local service: signed platform requests in over HTTP, the customer
 * card and tickets seen through the Agent API. One customer across channels only when a platform
 * verified it; claims become suggestions; manual merges and splits are reversible.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { signTwilioBody } from '../../scripts/sign-twilio.js';
import { loadSamples, TEST_SECRETS, type Sample } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

type Card = {
  id: string;
  identities: Array<{ channel: string; external_id: string; phone?: string | null; phone_verified?: boolean }>;
  suggestions: Array<{ kind: string; value: string; source: string; reason: string; customer_id: string | null }>;
  merged_from: Array<{ event: string; reason: string; customer_id: string | null; sources: string[] }>;
  tickets: Array<{ id: string; status: string; merged_into: string | null }>;
  history: Array<{ channel: string; external_id: string }>;
};

const ANA_PHONE = '+12065550143'; // the wa_id of the WhatsApp text sample
const MARIA_PHONE = '+12065550142'; // Twilio SMS sample 01; typed in the e-mail sample 01
const OLENA_PHONE = '+14155550199'; // the contact card Dmytro shares in Telegram sample 08

describe('one customer across channels, through the local service', () => {
  let rt: Runtime & { api: ApiClient };
  let agent: string;
  let supervisor: string;
  let sid = 0;

  const sample = (channel: string, name: string): Sample => {
    const s = loadSamples(channel).find((x) => x.name === name);
    if (!s) throw new Error(`no sample ${channel}/${name}`);
    return s;
  };
  const replay = async (channel: string, name: string) => {
    const s = sample(channel, name);
    const res = await rt.api.webhook(channel, { headers: s.request.headers, body: s.request.body });
    expect(res.status, `${channel}/${name}`).toBe(200);
    await rt.settle();
  };
  /** An inbound SMS as Twilio posts it, signed over the configured webhook URL. */
  const sms = async (from: string, text: string) => {
    sid += 1;
    const messageSid = `SM${String(sid).padStart(32, '0')}`;
    const body = new URLSearchParams([
      ['ToCountry', 'US'], ['SmsMessageSid', messageSid], ['NumMedia', '0'], ['SmsSid', messageSid], ['SmsStatus', 'received'],
      ['Body', text], ['To', '+14155550100'], ['NumSegments', '1'], ['MessageSid', messageSid],
      ['AccountSid', 'AC0123456789abcdef0123456789abcdef'], ['From', from], ['ApiVersion', '2010-04-01'],
    ]).toString();
    const signature = signTwilioBody(TEST_SECRETS.TWILIO_AUTH_TOKEN!, TEST_SECRETS.TWILIO_WEBHOOK_URL!, body);
    const res = await rt.api.webhook('twilio', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body });
    expect(res.status).toBe(200);
    await rt.settle();
  };
  const card = async (identity: string): Promise<Card> => {
    const res = await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(identity)}`, agent);
    expect(res.status).toBe(200);
    expect(res.body.items, identity).toHaveLength(1);
    return res.body.items[0];
  };
  const byId = async (id: string): Promise<Card> => (await rt.api.get(`/api/v1/customers/${id}`, agent)).body;
  const openTickets = (c: Card) => c.tickets.filter((t) => !['resolved', 'closed', 'merged'].includes(t.status));
  const inbound = async (ticketId: string) =>
    ((await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, agent)).body.items as Array<{ id: string; type: string; direction?: string; channel?: string }>)
      .filter((e) => e.type === 'message' && e.direction === 'in');

  beforeAll(async () => {
    rt = await testRuntime({ TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef' }, { visibilityTimeoutMs: 5000 });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sam', 'supervisor');
  });
  afterAll(async () => { await rt?.stop(); });

  it('joins WhatsApp and then Twilio SMS from the same verified number: one customer, one open ticket, two channels on the card', async () => {
    await replay('whatsapp', '02-text');
    await sms(ANA_PHONE, 'Same order, writing by SMS now');
    const ana = await card(`whatsapp:${ANA_PHONE.slice(1)}`);
    expect((await card(`twilio:${ANA_PHONE}`)).id).toBe(ana.id);
    expect(ana.identities.map((i) => i.channel).sort()).toEqual(['twilio', 'whatsapp']);
    expect(ana.identities.every((i) => i.phone === ANA_PHONE && i.phone_verified)).toBe(true);
    expect(openTickets(ana)).toHaveLength(1);
    expect((await inbound(ana.tickets[0]!.id)).map((m) => m.channel)).toEqual(['whatsapp', 'twilio']);
    expect(ana.history.map((h) => h.channel).sort()).toEqual(['twilio', 'whatsapp']);
    expect(ana.merged_from).toContainEqual(expect.objectContaining({ event: 'identity_linked', reason: 'verified_phone' }));
    // The number typed in the WhatsApp text is somebody else's, unverified: a suggestion only.
    expect(ana.suggestions).toContainEqual(expect.objectContaining({ kind: 'phone', value: '+12065550177' }));
  });

  it('makes a phone typed in an e-mail a suggestion naming the customer who holds it, and merges nobody', async () => {
    await sms(MARIA_PHONE, 'Where is my order?');
    const maria = await card(`twilio:${MARIA_PHONE}`);
    await replay('email', '01-text-utf8-v2');
    const anna = await card('email:anna.kowalska@shop.example');
    expect(anna.id).not.toBe(maria.id);
    expect(anna.suggestions).toContainEqual(expect.objectContaining({ kind: 'phone', value: MARIA_PHONE, customer_id: maria.id }));
    expect((await byId(maria.id)).identities.map((i) => i.channel)).toEqual(['twilio']);
  });

  it("makes someone else's Telegram contact card a suggestion naming its verified holder, and merges nobody", async () => {
    await sms(OLENA_PHONE, 'Hello from Olena');
    const olena = await card(`twilio:${OLENA_PHONE}`);
    await replay('telegram', '08-contact-other');
    const dmytro = await card('telegram:52300411');
    expect(dmytro.id).not.toBe(olena.id);
    expect(dmytro.identities).toEqual([expect.objectContaining({ channel: 'telegram', external_id: '52300411' })]);
    expect(dmytro.suggestions).toContainEqual(expect.objectContaining({ kind: 'phone', value: OLENA_PHONE, customer_id: olena.id }));
    expect((await byId(olena.id)).identities).toHaveLength(1);
  });

  it('restores both customers and their tickets when a manual merge is undone', async () => {
    const olena = await card(`twilio:${OLENA_PHONE}`);
    const dmytro = await card('telegram:52300411');
    expect((await rt.api.post(`/api/v1/customers/${olena.id}/merge`, { from: dmytro.id }, agent)).status).toBe(403);

    const merged = await rt.api.post(`/api/v1/customers/${olena.id}/merge`, { from: dmytro.id }, supervisor);
    expect(merged.status).toBe(200);
    expect((await card('telegram:52300411')).id).toBe(olena.id);
    const one = await byId(olena.id);
    expect(one.identities.map((i) => i.channel).sort()).toEqual(['telegram', 'twilio']);
    expect(openTickets(one)).toHaveLength(1); // Dmytro's ticket merged into Olena's older one
    expect(one.merged_from).toContainEqual(expect.objectContaining({ event: 'customer_merged', reason: 'manual' }));

    const undone = await rt.api.post(`/api/v1/customers/${olena.id}/unmerge`, { customer: dmytro.id }, supervisor);
    expect(undone.status).toBe(200);
    const [olenaAgain, dmytroAgain] = [await card(`twilio:${OLENA_PHONE}`), await card('telegram:52300411')];
    expect(olenaAgain.id).toBe(olena.id);
    expect(dmytroAgain.id).toBe(dmytro.id);
    expect(openTickets(olenaAgain).map((t) => t.id)).toEqual(openTickets(olena).map((t) => t.id));
    expect(openTickets(dmytroAgain).map((t) => t.id)).toEqual(openTickets(dmytro).map((t) => t.id));
    expect((await inbound(openTickets(dmytroAgain)[0]!.id))).toHaveLength(1);
  });

  it('round-trips a split and a merge of a ticket', async () => {
    const ana = await card(`twilio:${ANA_PHONE}`);
    const ticketId = openTickets(ana)[0]!.id;
    const before = await inbound(ticketId);
    const split = await rt.api.post(`/api/v1/tickets/${ticketId}/split`, { messageIds: [before[1]!.id] }, agent);
    expect(split.status).toBe(201);
    expect((await inbound(ticketId)).map((m) => m.id)).toEqual([before[0]!.id]);
    expect((await inbound(split.body.id)).map((m) => m.id)).toEqual([before[1]!.id]);

    const back = await rt.api.post(`/api/v1/tickets/${split.body.id}/merge`, { into: ticketId }, agent);
    expect(back.status).toBe(200);
    expect((await inbound(ticketId)).map((m) => m.id)).toEqual(before.map((m) => m.id));
    expect((await rt.api.get(`/api/v1/tickets/${split.body.id}`, agent)).body).toMatchObject({ status: 'merged', merged_into: ticketId });
  });
});
