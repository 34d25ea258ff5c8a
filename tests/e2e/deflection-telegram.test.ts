/**
 * Messenger deflection end to end over HTTP against the local runtime (README "Knowledge base":
 * deflection on messengers): signed Telegram webhooks in, the bot's requests read from
 * /dev/outbox, tickets read through the Agent API as agents see them.
 *
 * A first message that matches a published article gets the article with two inline buttons and
 * stays `held` (in no inbox); "I still need help" — or any further message — opens the ticket with
 * the question on it; "That solved it" deflects it (no ticket for agents, counted per channel and
 * article); a VIP customer and a customer with an open ticket are never offered anything; a
 * redelivered or repeated press opens no second ticket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { TEST_SECRETS } from '../helpers/samples.js';
import { devControls, testRuntime, type ApiClient, type DevOutboxItem } from '../helpers/runtime.js';

const ARTICLES = {
  'pl-returns': { title: 'Zwrot zamówienia', body: 'Zamówienie można zwrócić w ciągu **30 dni**. Zwroty są bezpłatne.', category: 'Zwroty', tags: ['zwrot'], language: 'pl', status: 'published' },
  'en-returns': { title: 'Returning an order', body: 'You can return orders within 30 days. Returns are free.', category: 'Returns', tags: ['returns'], language: 'en', status: 'published' },
  'ru-delivery': { title: 'Сроки доставки заказа', body: 'Доставка по России занимает 3–5 дней.', category: 'Доставка', tags: ['доставка'], language: 'ru', status: 'published' },
} as const;

const TG_HEADERS = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_SECRETS.TELEGRAM_SECRET_TOKEN! };
type Button = { text: string; callback_data: string };

describe('deflection on Telegram (local runtime)', () => {
  let rt: Runtime & { api: ApiClient };
  let agent: string;
  let supervisor: string;
  let dev: ReturnType<typeof devControls>;
  let update = 880_000_000;
  let callback = 0;

  const now = async () => (await rt.api.get('/dev/clock')).body.epoch_ms as number;
  const post = async (body: unknown) => {
    const res = await rt.api.webhook('telegram', { headers: TG_HEADERS, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
  };
  const user = (id: number) => ({ id, is_bot: false, first_name: 'Test', language_code: 'en' });
  /** The customer writes `text`. */
  const writes = async (id: number, text: string) => {
    update += 1;
    await post({ update_id: update, message: { message_id: update % 1e6, from: user(id), chat: { id, first_name: 'Test', type: 'private' }, date: Math.floor(await now() / 1000), text } });
    await dev.settle();
  };
  /** The customer presses a button of our message `keyboard`; returns the raw update (to redeliver it). */
  const presses = async (id: number, keyboard: Button[], data: string, raw?: unknown) => {
    update += 1;
    callback += 1;
    const body = raw ?? { update_id: update, callback_query: {
      id: `77${callback}`, from: user(id), chat_instance: '-1',
      message: { message_id: 5000 + callback, from: { id: 7000000001, is_bot: true, first_name: 'Bot' }, chat: { id, type: 'private' }, date: Math.floor(await now() / 1000), text: 'offer', reply_markup: { inline_keyboard: [keyboard] } },
      data,
    } };
    await post(body);
    await dev.settle();
    return body;
  };
  const card = async (id: number) => (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(`telegram:${id}`)}`, agent)).body.items[0];
  const ticketsOf = async (id: number) => (await card(id))?.tickets as Array<{ id: string; status: string }> ?? [];
  const inbox = async () => ((await rt.api.get('/api/v1/tickets?limit=100', agent)).body.items as Array<{ id: string }>).map((t) => t.id);
  const ticket = async (id: string) => (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
  const timeline = async (id: string) => (await rt.api.get(`/api/v1/tickets/${id}/timeline`, agent)).body.items as Array<Record<string, any>>;
  const sent = async (chatId: number) => ((await rt.api.get('/dev/outbox')).body.items as DevOutboxItem[])
    .filter((o) => o.channel === 'telegram' && o.kind !== 'interaction-answer' && o.request.body && JSON.parse(o.request.body).chat_id === chatId)
    .map((o) => ({ kind: o.kind, ticket_id: o.ticket_id, ...JSON.parse(o.request.body!) as { text: string; reply_markup?: { inline_keyboard: Button[][] } } }));
  const answers = async () => ((await rt.api.get('/dev/outbox')).body.items as DevOutboxItem[]).filter((o) => o.channel === 'telegram' && o.kind === 'interaction-answer');
  const offerOf = async (chatId: number) => {
    const offers = (await sent(chatId)).filter((m) => m.reply_markup);
    expect(offers).toHaveLength(1);
    return offers[0]!;
  };
  const stats = async () => (await rt.api.get('/api/v1/kb/stats', supervisor)).body;

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_KB_DEFLECTION: 'webchat,telegram', TELEGRAM_BOT_TOKEN: 'test-bot-token' });
    dev = devControls(rt.api, (s) => expect(s).toBe(200));
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sue', 'supervisor');
    for (const [id, a] of Object.entries(ARTICLES)) {
      const res = await fetch(`${rt.url}/api/v1/kb/articles/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}` }, body: JSON.stringify(a) });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => { await rt?.stop(); });

  it('answers a Polish question in another inflection with the Polish article and two buttons; "I still need help" opens the ticket with the question', async () => {
    const question = 'Jak mogę zwrócić zamówienia?';
    await writes(6100001, question);
    const [held] = await ticketsOf(6100001);
    expect(held).toMatchObject({ status: 'held' });
    expect(await inbox()).not.toContain(held!.id);

    const offer = await offerOf(6100001);
    expect(offer.kind).toBe('deflection');
    expect(offer.text).toContain('Zwrot zamówienia');
    expect(offer.text).toContain('30 dni');
    const keyboard = offer.reply_markup!.inline_keyboard.flat();
    expect(keyboard).toEqual([
      { text: 'Rozwiązane', callback_data: `kb:solved:${held!.id}` },
      { text: 'Potrzebuję pomocy', callback_data: `kb:help:${held!.id}` },
    ]);
    for (const b of keyboard) expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);
    // Held: no acknowledgement, no SLA.
    expect((await sent(6100001)).map((m) => m.kind)).toEqual(['deflection']);
    expect((await ticket(held!.id)).sla).toBeNull();

    await presses(6100001, keyboard, `kb:help:${held!.id}`);
    const opened = await ticket(held!.id);
    expect(opened).toMatchObject({ status: 'new', deflection: { article_id: 'pl-returns', answer: 'help' } });
    expect(opened.sla).toMatchObject({ breached: [] });
    expect(await inbox()).toContain(held!.id);
    expect(await ticketsOf(6100001)).toHaveLength(1);
    const entries = await timeline(held!.id);
    const inbound = entries.filter((e) => e.type === 'message' && e.direction === 'in');
    expect(inbound.map((e) => e.text)).toEqual([question, 'Potrzebuję pomocy']);
    expect(entries.filter((e) => e.type === 'event').map((e) => e.event)).toEqual(expect.arrayContaining(['kb.offered', 'ticket.opened']));
    // Opened as today: the acknowledgement follows, and the press was answered once.
    expect((await sent(6100001)).map((m) => m.kind)).toEqual(['deflection', 'acknowledgement']);
    expect((await answers()).filter((a) => a.ticket_id === held!.id)).toHaveLength(1);
  });

  it('"That solved it" closes the conversation without a ticket for agents and counts a deflection on the channel and the article', async () => {
    const before = await stats();
    await writes(6100002, 'How do I return my order?');
    const [held] = await ticketsOf(6100002);
    expect(held).toMatchObject({ status: 'held' });
    const keyboard = (await offerOf(6100002)).reply_markup!.inline_keyboard.flat();
    expect(keyboard.map((b) => b.text)).toEqual(['That solved it', 'I still need help']);

    await presses(6100002, keyboard, `kb:solved:${held!.id}`);
    expect(await ticket(held!.id)).toMatchObject({ status: 'deflected', deflection: { article_id: 'en-returns', answer: 'solved' } });
    expect(await inbox()).not.toContain(held!.id);
    expect((await rt.api.get('/api/v1/tickets?status=new,open,pending_customer,on_hold,resolved,closed&limit=100', agent)).body.items.map((t: { id: string }) => t.id)).not.toContain(held!.id);
    expect((await sent(6100002)).map((m) => m.kind)).toEqual(['deflection']); // no acknowledgement: nobody will answer

    const after = await stats();
    const channel = (s: any) => s.channels.find((c: { channel: string }) => c.channel === 'telegram') ?? { offers: 0, deflections: 0, escalations: 0 };
    expect(channel(after).deflections - channel(before).deflections).toBe(1);
    expect(channel(after).offers - channel(before).offers).toBe(1);
    const article = (s: any) => s.articles.find((a: { article_id: string }) => a.article_id === 'en-returns') ?? { offered: 0, solved: 0 };
    expect(article(after).solved - article(before).solved).toBe(1);
    expect(after.deflections - before.deflections).toBe(1);

    // A second press of "solved" on the same offer changes nothing; a later "help" on it opens the ticket after all.
    await presses(6100002, keyboard, `kb:solved:${held!.id}`);
    expect((await ticket(held!.id)).status).toBe('deflected');
    expect(channel(await stats()).deflections).toBe(channel(after).deflections);
    await presses(6100002, keyboard, `kb:help:${held!.id}`);
    expect(await ticket(held!.id)).toMatchObject({ status: 'new', closed_at: null });
    expect(await ticketsOf(6100002)).toHaveLength(1);
  });

  it('keeps an unanswered conversation held for days, then opens it on the next message with both messages on it and the SLA from then', async () => {
    await writes(6100003, 'Сколько идёт доставка заказа?');
    const [held] = await ticketsOf(6100003);
    expect(held).toMatchObject({ status: 'held' });
    expect((await offerOf(6100003)).text).toContain('Сроки доставки заказа');
    await dev.advance(3 * 86_400); // no timer: nothing happens while the customer is silent
    expect(await ticket(held!.id)).toMatchObject({ status: 'held', sla: null });
    expect(await inbox()).not.toContain(held!.id);
    const answeredAt = await now();
    await writes(6100003, 'Мне нужен оператор');
    const opened = await ticket(held!.id);
    expect(opened).toMatchObject({ status: 'new', deflection: { answer: 'help' } });
    expect(Date.parse(opened.sla.first_response_due)).toBeGreaterThan(answeredAt);
    expect((await timeline(held!.id)).filter((e) => e.type === 'message' && e.direction === 'in').map((e) => e.text))
      .toEqual(['Сколько идёт доставка заказа?', 'Мне нужен оператор']);
    expect(await inbox()).toContain(held!.id);
    const s = (await stats()).channels.find((c: { channel: string }) => c.channel === 'telegram');
    expect(s.escalations).toBeGreaterThanOrEqual(2);
  });

  it('never offers an article to a VIP customer or on a conversation that is already open', async () => {
    // Two customers with a closed first conversation; one of them becomes VIP.
    for (const id of [6100004, 6100005]) {
      await writes(id, 'Hello there');
      const [first] = await ticketsOf(id);
      expect(first).toMatchObject({ status: 'new' }); // no article matches: opened as today
      for (const status of ['resolved', 'closed']) {
        const res = await fetch(`${rt.url}/api/v1/tickets/${first!.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${agent}` }, body: JSON.stringify({ status }) });
        expect(res.status).toBe(200);
      }
    }
    const vip = await card(6100004);
    const res = await fetch(`${rt.url}/api/v1/customers/${vip.id}/tier`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}` }, body: JSON.stringify({ tier: 'vip' }) });
    expect(res.status).toBe(200);

    await writes(6100004, 'How do I return my order?');
    await writes(6100005, 'How do I return my order?');
    const vipNew = (await ticketsOf(6100004)).find((t) => t.status !== 'closed');
    expect(vipNew).toMatchObject({ status: 'new' });
    expect((await sent(6100004)).filter((m) => m.kind === 'deflection')).toEqual([]);
    // The same question from a customer without the tier is offered the article.
    expect((await ticketsOf(6100005)).find((t) => t.status !== 'closed')).toMatchObject({ status: 'held' });

    // A question to an open ticket joins it, never offered.
    await writes(6100004, 'And how do I return my order by post?');
    expect((await ticketsOf(6100004)).filter((t) => t.status !== 'closed')).toHaveLength(1);
    expect((await sent(6100004)).filter((m) => m.kind === 'deflection')).toEqual([]);
  });

  it('opens one ticket however often the press is delivered or repeated', async () => {
    await writes(6100006, 'How can I return an order?');
    const [held] = await ticketsOf(6100006);
    const keyboard = (await offerOf(6100006)).reply_markup!.inline_keyboard.flat();
    const press = await presses(6100006, keyboard, `kb:help:${held!.id}`);
    await presses(6100006, keyboard, '', press); // Telegram redelivers the same update
    await presses(6100006, keyboard, '', { ...(press as object), update_id: 1 + (press as { update_id: number }).update_id }); // … or with another update id
    await presses(6100006, keyboard, `kb:help:${held!.id}`); // the customer presses again
    const tickets = await ticketsOf(6100006);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ id: held!.id, status: 'new' });
    expect((await sent(6100006)).filter((m) => m.kind === 'acknowledgement')).toHaveLength(1);
    expect((await stats()).channels.find((c: { channel: string }) => c.channel === 'telegram').escalations).toBe(3);
  });

  it('a supervisor merging a held conversation\'s customer into one with an open ticket brings the question to that ticket', async () => {
    // One person, two Telegram accounts: the second one's question waits held for its answer.
    await writes(6100007, 'My kettle is broken, I want a new one');
    const [open] = await ticketsOf(6100007);
    expect(open).toMatchObject({ status: 'new' });
    await writes(6100008, 'How can I return an order?');
    const [held] = await ticketsOf(6100008);
    expect(held).toMatchObject({ status: 'held' });

    const merged = await rt.api.post(`/api/v1/customers/${(await card(6100007)).id}/merge`, { from: (await card(6100008)).id }, supervisor);
    expect(merged.status).toBe(200);
    await dev.settle();
    expect(await ticket(held!.id)).toMatchObject({ status: 'merged', merged_into: open!.id });
    expect((await timeline(open!.id)).some((e) => e.type === 'message' && e.text === 'How can I return an order?')).toBe(true);
    expect(await inbox()).toContain(open!.id);
    expect(await inbox()).not.toContain(held!.id);
  });
});
