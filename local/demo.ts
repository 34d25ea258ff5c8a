/**
 * `npm start -- --demo`: a realistic month of customer service on the virtual clock, through the
 * real pipeline over HTTP — signed webhooks of Telegram, WhatsApp, SMS (Twilio) and VK → ingest →
 * process; agents reply, assign and resolve through the Agent API; the SLA and survey workflows run
 * as the clock advances; customers answer the surveys on their channel. The supervisors' dashboard
 * then has something to show.
 *
 * Deterministic: every choice (who writes, when, on which channel, in which language, about what,
 * how fast the agent answers, the survey score) comes from a seeded PRNG, so the same seed gives
 * the same month (absolute times follow the virtual clock, which starts at the real time).
 * Bounded: `days × ticketsPerDay` tickets, each with at most a handful of steps; the clock moves
 * from step to step in one pass (the README says how long a month takes).
 *
 * Needs the channels' public sample secrets (`--demo` implies `--sample-secrets`): the webhooks
 * are signed exactly as the platforms sign them.
 */
import { metaSignature } from '../functions/channels/meta.js';
import { decodeForm, twilioSignature } from '../functions/channels/twilio/form.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface DemoOptions {
  /** Days of history (the clock ends that many days after it started). @default 30 */
  readonly days?: number;
  /** Average new tickets per working day (weekends half). @default 5 */
  readonly ticketsPerDay?: number;
  /** @default 15 */
  readonly seed?: number;
  /** The secrets the webhooks are signed with and the values they name (sample settings). */
  readonly settings: Readonly<Record<string, string | undefined>>;
  readonly log?: (line: string) => void;
}

export interface DemoSummary { readonly tickets: number; readonly messages: number; readonly replies: number; readonly resolved: number; readonly surveys: number; readonly ms: number }

export class DemoError extends Error {
  override readonly name = 'DemoError';
}

/** mulberry32: a small seeded PRNG (https://gist.github.com/tommyettinger/46a874533244883189143505d203312c). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type DemoChannel = 'telegram' | 'whatsapp' | 'twilio' | 'vk';
type Lang = 'en' | 'ru' | 'pl';
type Topic = 'shipping' | 'billing' | 'account' | 'product';

/** First messages per topic and language: what the classification rules and the keyword table see. */
const TEXTS: Record<Topic, Record<Lang, readonly string[]>> = {
  shipping: {
    en: ['My parcel has not arrived yet, order {n}', 'The courier did not deliver my parcel today', 'Tracking for order {n} shows no delivery update', 'Delivery address change for order {n}'],
    ru: ['Посылка по заказу {n} до сих пор не пришла', 'Курьер не привёз посылку, заказ {n}', 'Доставка заказа {n} задерживается', 'Трекинг посылки не обновляется'],
    pl: ['Paczka z zamówieniem {n} jeszcze nie dotarła', 'Kurier nie dostarczył paczki, zamówienie {n}', 'Dostawa zamówienia {n} się opóźnia', 'Zmiana adresu dostawy zamówienia {n}'],
  },
  billing: {
    en: ['I was charged twice for order {n}, please refund', 'Where is my refund for order {n}?', 'The invoice for order {n} has the wrong company name', 'Payment failed but money was taken'],
    ru: ['Деньги списали дважды за заказ {n}, верните', 'Когда вернут деньги за заказ {n}?', 'В счёте по заказу {n} неверные реквизиты', 'Оплата не прошла, но деньги списались'],
    pl: ['Pobrano płatność dwa razy za zamówienie {n}, proszę o zwrot', 'Kiedy dostanę zwrot za zamówienie {n}?', 'Faktura do zamówienia {n} ma błędne dane', 'Płatność nie przeszła, a pieniądze zniknęły'],
  },
  account: {
    en: ['I cannot log in, password reset email never comes', 'Please delete my account', 'How do I change the phone number on my account?'],
    ru: ['Не могу войти, письмо для сброса пароля не приходит', 'Удалите мой аккаунт', 'Как сменить телефон в аккаунте?'],
    pl: ['Nie mogę się zalogować, e-mail z resetem hasła nie przychodzi', 'Proszę usunąć moje konto', 'Jak zmienić numer telefonu na koncie?'],
  },
  product: {
    en: ['The blender from order {n} stopped working after a week', 'Is the kettle available in black?', 'The charger in order {n} is broken'],
    ru: ['Блендер из заказа {n} сломался через неделю', 'Есть ли чайник в чёрном цвете?', 'Зарядка из заказа {n} не работает'],
    pl: ['Blender z zamówienia {n} przestał działać po tygodniu', 'Czy czajnik jest dostępny w kolorze czarnym?', 'Ładowarka z zamówienia {n} jest zepsuta'],
  },
};
const FOLLOW_UPS: Record<Lang, readonly string[]> = {
  en: ['Any news?', 'Hello? Still waiting for an answer', 'Could you please check again?'],
  ru: ['Есть новости?', 'Ответьте, пожалуйста, я всё ещё жду', 'Проверьте ещё раз, пожалуйста'],
  pl: ['Są jakieś wieści?', 'Halo? Nadal czekam na odpowiedź', 'Czy możecie sprawdzić jeszcze raz?'],
};
const REPLIES: Record<Lang, readonly string[]> = {
  en: ['Thanks for writing — I am checking this now.', 'Sorry for the trouble, we have sorted it out.', 'Done: you will get a confirmation shortly.'],
  ru: ['Спасибо за обращение, уже проверяю.', 'Извините за неудобства, мы всё исправили.', 'Готово, подтверждение придёт в ближайшее время.'],
  pl: ['Dziękujemy za wiadomość, już sprawdzam.', 'Przepraszamy za kłopot, sprawa załatwiona.', 'Gotowe, potwierdzenie przyjdzie wkrótce.'],
};

/** The classification rules the demo installs (supervisor): category and team per topic. */
export const DEMO_RULES = [
  { id: 'demo-shipping', pattern: '(parcel|deliver|courier|tracking|посылк|доставк|курьер|трекинг|paczk|dostaw|kurier)', set: { category: 'shipping', team: 'logistics' } },
  { id: 'demo-billing', pattern: '(refund|charged|invoice|payment|деньги|оплат|счёт|zwrot|płatno|faktur)', set: { category: 'billing', team: 'billing' } },
  { id: 'demo-account', pattern: '(log in|password|account|аккаунт|парол|войти|konto|hasł|zalogow)', set: { category: 'account', team: 'support' } },
  { id: 'demo-product', pattern: '(broken|stopped working|available|сломал|не работает|чайник|zepsut|przestał|dostępny)', set: { category: 'product', team: 'support', priority: 'high' } },
];

const AGENTS = ['anna', 'boris', 'kasia', 'li'] as const;

type Step =
  | { kind: 'inbound'; at: number; ticket: number; channel: DemoChannel; text: string }
  | { kind: 'reply'; at: number; ticket: number; agent: string; text: string }
  | { kind: 'resolve'; at: number; ticket: number; agent: string }
  | { kind: 'survey'; at: number; ticket: number; score: number };

interface PlannedTicket { readonly n: number; readonly channel: DemoChannel; readonly lang: Lang; readonly external: string; readonly name: string }

/** The month as a list of steps on the virtual clock (ms after the start), in time order. */
export function demoPlan(opts: { days: number; ticketsPerDay: number; seed: number; startMs: number }): { tickets: PlannedTicket[]; steps: Step[] } {
  const rnd = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const weighted = <T>(pairs: ReadonlyArray<readonly [T, number]>): T => {
    let r = rnd() * pairs.reduce((s, [, w]) => s + w, 0);
    for (const [v, w] of pairs) { r -= w; if (r <= 0) return v; }
    return pairs[pairs.length - 1]![0];
  };
  /** Minutes, log-uniform between lo and hi: most answers quick, a long tail. */
  const logUniform = (lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + rnd() * (Math.log(hi) - Math.log(lo))));
  const tickets: PlannedTicket[] = [];
  const steps: Step[] = [];
  const end = opts.days * DAY;
  for (let d = 0; d < opts.days; d++) {
    const weekday = new Date(opts.startMs + d * DAY).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    // A slow rise over the month, and a bad week (a courier problem) in the third week.
    const base = opts.ticketsPerDay * (weekend ? 0.5 : 1) * (0.8 + 0.4 * d / opts.days) * (d >= 14 && d < 21 ? 1.4 : 1);
    const count = Math.max(1, Math.round(base * (0.75 + rnd() * 0.5)));
    for (let i = 0; i < count; i++) {
      const n = tickets.length;
      const channel = weighted<DemoChannel>([['telegram', 35], ['whatsapp', 30], ['twilio', 15], ['vk', 20]]);
      const lang: Lang = channel === 'vk' ? 'ru' : weighted<Lang>([['en', 40], ['ru', 30], ['pl', 30]]);
      const topic = weighted<Topic>([['shipping', d >= 14 && d < 21 ? 55 : 35], ['billing', 30], ['account', 15], ['product', 20]]);
      // Phones (WhatsApp wa_id, SMS) in E.164 without the `+`: Polish, Russian mobile or US numbers.
      const external = channel === 'telegram' ? String(610_000_000 + n) : channel === 'vk' ? String(410_000_000 + n)
        : lang === 'pl' ? `485${String(10_000_000 + n).slice(-8)}` : lang === 'ru' ? `79${String(160_000_000 + n).slice(-9)}` : `1206555${String(n % 10_000).padStart(4, '0')}`;
      tickets.push({ n, channel, lang, external, name: `${pick(['Anna', 'Piotr', 'Olga', 'Ivan', 'Maria', 'Tom', 'Zofia', 'Dmitri', 'Ewa', 'Sam'])} ${String.fromCharCode(65 + (n % 26))}.` });
      const opened = d * DAY + (8 * 60 + Math.floor(rnd() * 12 * 60)) * MIN;
      steps.push({ kind: 'inbound', at: opened, ticket: n, channel, text: pick(TEXTS[topic][lang]).replace('{n}', String(40_000 + n)) });
      const agent = pick(AGENTS);
      // First response: minutes to a day, slower at weekends; a few tickets of the last days wait.
      const unanswered = end - opened < 3 * DAY && rnd() < 0.5;
      const firstReply = opened + logUniform(weekend ? 20 : 3, weekend ? 1800 : 600) * MIN;
      if (!unanswered && rnd() < 0.3) steps.push({ kind: 'inbound', at: opened + Math.min(firstReply - opened - MIN, logUniform(5, 120) * MIN), ticket: n, channel, text: pick(FOLLOW_UPS[lang]) });
      if (unanswered) {
        // Nobody answered: some customers try another channel (WhatsApp → SMS from the same phone).
        if (channel === 'whatsapp' && rnd() < 0.8) steps.push({ kind: 'inbound', at: opened + logUniform(60, 600) * MIN, ticket: n, channel: 'twilio', text: pick(FOLLOW_UPS[lang]) });
        continue;
      }
      steps.push({ kind: 'reply', at: firstReply, ticket: n, agent, text: pick(REPLIES[lang]) });
      const resolved = firstReply + logUniform(10, 2880) * MIN;
      if (resolved > end - HOUR || rnd() < 0.1) continue;
      steps.push({ kind: 'resolve', at: resolved, ticket: n, agent });
      // The survey goes out 60 min after the resolution (CONFLUO_SURVEY_DELAY_MINUTES); 60 % answer.
      const answered = resolved + HOUR + logUniform(5, 600) * MIN;
      if (answered < end && rnd() < 0.6) steps.push({ kind: 'survey', at: answered, ticket: n, score: weighted([[5, 45], [4, 30], [3, 12], [2, 8], [1, 5]]) });
    }
  }
  // A customer's later message may fall after the month: the month ends where it ends.
  return { tickets, steps: steps.filter((st) => st.at < end).sort((a, b) => a.at - b.at || a.ticket - b.ticket) };
}

/** Run the demo against a running local runtime at `url` (its clock and /dev controls). */
export async function runDemo(url: string, opts: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const days = opts.days ?? 30;
  const s = opts.settings;
  const log = opts.log ?? (() => {});
  const call = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new DemoError(`demo: ${method} ${path.split('?')[0]} answered ${res.status}`, { cause: { status: res.status, body: text.slice(0, 300) } });
    // Webhooks answer as the platforms expect (`ok`, `EVENT_RECEIVED`, TwiML); the API answers JSON.
    return (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) as any : text; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const token = async (agent: string, role: string) => (await call('POST', '/dev/token', { agent, role })).token as string;
  const settle = () => call('POST', '/dev/settle', { timeoutSeconds: 120 });
  const clockNow = async () => (await call('GET', '/dev/clock')).epoch_ms as number;

  const supervisor = await token('lead', 'supervisor');
  const agentTokens = new Map<string, string>();
  for (const a of AGENTS) agentTokens.set(a, await token(a, 'agent'));
  await call('PUT', '/api/v1/rules', { items: DEMO_RULES }, supervisor);

  const startMs = await clockNow();
  const { tickets, steps } = demoPlan({ days, ticketsPerDay: opts.ticketsPerDay ?? 5, seed: opts.seed ?? 15, startMs });
  const ticketIds = new Map<number, string>();
  let next = 0;

  const webhook = async (t: PlannedTicket, channel: DemoChannel, text: string) => {
    // Taken before the first await: messages of one slot are sent side by side, and a number read
    // after it would be shared — the platforms' ids would collide and dedupe would drop a message.
    const seq = ++next;
    /** Deterministic platform ids (message ids, event ids) from the step number. */
    const hex = (bytes: number) => (seq.toString(16) + 'd3e0').padStart(bytes * 2, '0');
    const unix = Math.floor((await clockNow()) / 1000);
    if (channel === 'telegram') {
      const body = JSON.stringify({ update_id: 700_000_000 + seq, message: { message_id: seq, date: unix, text, from: { id: Number(t.external), is_bot: false, first_name: t.name, language_code: t.lang }, chat: { id: Number(t.external), type: 'private', first_name: t.name } } });
      return call('POST', '/webhooks/telegram', body, undefined, { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': s.TELEGRAM_SECRET_TOKEN! });
    }
    if (channel === 'whatsapp') {
      const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '110200300400500', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp', metadata: { display_phone_number: '15550100100', phone_number_id: s.WHATSAPP_PHONE_NUMBER_ID ?? '120300400500600' },
        contacts: [{ profile: { name: t.name }, wa_id: t.external }],
        messages: [{ from: t.external, id: `wamid.DEMO${hex(12)}`, timestamp: String(unix), type: 'text', text: { body: text } }],
      } }] }] });
      return call('POST', '/webhooks/whatsapp', body, undefined, { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(s.META_APP_SECRET!, body) });
    }
    if (channel === 'twilio') {
      const sid = `SM${hex(16)}`;
      const body = new URLSearchParams([['SmsSid', sid], ['SmsStatus', 'received'], ['Body', text], ['To', '+14155550100'], ['NumMedia', '0'], ['MessageSid', sid],
        ['AccountSid', s.TWILIO_ACCOUNT_SID ?? 'AC00000000000000000000000000000000'], ['From', `+${t.external}`], ['ApiVersion', '2010-04-01']]).toString();
      const signature = twilioSignature(s.TWILIO_AUTH_TOKEN!, s.TWILIO_WEBHOOK_URL!, decodeForm(Buffer.from(body)));
      return call('POST', '/webhooks/twilio', body, undefined, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature });
    }
    const id = Number(t.external);
    const body = JSON.stringify({ type: 'message_new', event_id: hex(20), v: '5.199', group_id: Number(s.VK_GROUP_ID ?? 100200300), secret: s.VK_SECRET,
      object: { message: { date: unix, from_id: id, id: seq, out: 0, peer_id: id, text, attachments: [], fwd_messages: [], conversation_message_id: seq, random_id: 0 }, client_info: { lang_id: 0 } } });
    return call('POST', '/webhooks/vk', body, undefined, { 'content-type': 'application/json' });
  };

  const ticketOf = async (t: PlannedTicket): Promise<string> => {
    const known = ticketIds.get(t.n);
    if (known) return known;
    // Twilio identities are the E.164 phone with its `+`; WhatsApp's are the wa_id digits.
    const identity = `${t.channel}:${t.channel === 'twilio' ? '+' : ''}${t.external}`;
    const card = await call('GET', `/api/v1/customers?identity=${encodeURIComponent(identity)}`, undefined, supervisor);
    const id = card?.items?.[0]?.tickets?.[0]?.id as string | undefined;
    if (!id) throw new DemoError(`demo: ticket ${t.n} was not opened by its first message`);
    ticketIds.set(t.n, id);
    return id;
  };

  const summary = { tickets: tickets.length, messages: 0, replies: 0, resolved: 0, surveys: 0 };
  const agentStep = async (st: Exclude<Step, { kind: 'inbound' }>) => {
    const t = tickets[st.ticket]!;
    const id = await ticketOf(t);
    if (st.kind === 'reply') {
      await call('PATCH', `/api/v1/tickets/${id}`, { assignee: 'me' }, agentTokens.get(st.agent));
      await call('POST', `/api/v1/tickets/${id}/replies`, { text: st.text }, agentTokens.get(st.agent));
      summary.replies += 1;
    } else if (st.kind === 'resolve') {
      // A ticket a low survey score or a late customer message reopened may be in a state that
      // cannot be resolved now; the demo carries on.
      try { await call('PATCH', `/api/v1/tickets/${id}`, { status: 'resolved' }, agentTokens.get(st.agent)); summary.resolved += 1; } catch (e) { if (!(e instanceof DemoError)) throw e; }
    } else {
      await webhook(t, t.channel, String(st.score));
      summary.surveys += 1;
    }
  };
  /** The steps of one slot, each ticket's in order, different tickets side by side. */
  const inParallel = async (batch: readonly Step[], run: (st: Step) => Promise<unknown>) => {
    const byTicket = new Map<number, Step[]>();
    for (const st of batch) byTicket.set(st.ticket, [...(byTicket.get(st.ticket) ?? []), st]);
    await Promise.all([...byTicket.values()].map(async (list) => { for (const st of list) await run(st); }));
  };
  // Steps in one 20-minute slot share one clock move and one settle: per slot, the clock moves
  // (SLA timers and surveys due fire), new customer messages come in, everything settles, then
  // the agents and the survey answers act (their effects settle with the next slot).
  const SLOT = 20 * MIN;
  let i = 0;
  let lastLog = 0;
  while (i < steps.length) {
    const slot = Math.floor(steps[i]!.at / SLOT) * SLOT;
    const wait = startMs + slot - (await clockNow());
    if (wait > 0) await call('POST', '/dev/clock', { advanceSeconds: wait / 1000 });
    const batch: Step[] = [];
    while (i < steps.length && Math.floor(steps[i]!.at / SLOT) * SLOT === slot) batch.push(steps[i++]!);
    await inParallel(batch.filter((b) => b.kind === 'inbound'), async (st) => {
      if (st.kind !== 'inbound') return;
      await webhook(tickets[st.ticket]!, st.channel, st.text);
      summary.messages += 1;
    });
    await settle();
    await inParallel(batch.filter((b) => b.kind !== 'inbound'), (st) => agentStep(st as Exclude<Step, { kind: 'inbound' }>));
    if (Date.now() - lastLog > 15_000) { lastLog = Date.now(); log(`demo: day ${Math.floor(slot / DAY) + 1}/${days}, ${i}/${steps.length} steps`); }
  }
  const rest = startMs + days * DAY - (await clockNow());
  if (rest > 0) await call('POST', '/dev/clock', { advanceSeconds: rest / 1000 });
  await settle();
  // Tickets of unanswered first messages too (their ids were never needed above).
  for (const t of tickets) await ticketOf(t);
  return { ...summary, ms: Date.now() - started };
}
