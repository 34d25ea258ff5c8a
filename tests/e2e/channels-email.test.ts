/**
 * The e-mail channel end to end over HTTP against the running local runtime (channels.md §8):
 * every accepted sample replayed in NN order, the result seen through the Agent API, replies as
 * SES SendRawEmail requests in the outbox, threading by our own Message-IDs, auto-replies that
 * change nothing, the S3 action, and refusals that leave no trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { simpleParser } from 'mailparser';
import type { Runtime } from '../../local/runtime.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { DEFAULT_SURVEY_SETTINGS, scheduleSurvey } from '../../functions/domain/survey.js';
import { buildSnsBody, SNS_TEST_CERT_URL } from '../../scripts/sign-email.js';
import { deliveredAt, loadSamples, sampleObjects, TEST_SECRETS } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const TOPIC = TEST_SECRETS.EMAIL_SNS_TOPIC_ARN!;
const SNS_HEADERS = { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' };
const ANNA = 'anna.kowalska@shop.example';
const BOB = 'bob.stranger@elsewhere.example';
const OUR_ID = /^<0107[0-9a-f]+-[0-9a-f-]{36}-000000@eu-central-1\.amazonses\.com>$/;

type Item = { kind: string; channel: string; ticket_id: string | null; request: { method: string; url: string; headers: Record<string, string>; body: string | null } };

let seq = 0;
/** The running runtime's clock: SNS messages are stamped with it (older than an hour is refused). */
let clockNow: () => number = () => Date.now();
/** A freshly built, correctly signed SES → SNS notification for a mail (CRLF MIME). */
function notification(opts: { from: string; name?: string; subject: string; text: string; inReplyTo?: string; references?: string[]; headers?: string[]; dmarc?: string; s3?: { bucket: string; key: string } }): { body: string; sesId: string } {
  seq += 1;
  const sesId = `e2e${String(seq).padStart(4, '0')}${'x'.repeat(33)}`;
  const lines = [
    `Return-Path: <${opts.from}>`,
    `From: ${opts.name ? `${opts.name} <${opts.from}>` : opts.from}`,
    'To: support@acme.example',
    `Subject: ${opts.subject}`,
    'Date: Mon, 12 Oct 2026 10:00:00 +0000',
    `Message-ID: <e2e-${seq}@mail.example>`,
    ...(opts.inReplyTo ? [`In-Reply-To: ${opts.inReplyTo}`] : []),
    ...(opts.references ? [`References: ${opts.references.join(' ')}`] : []),
    ...(opts.headers ?? []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    opts.text,
    '',
  ];
  const raw = Buffer.from(lines.join('\r\n'), 'utf8');
  const action = opts.s3 ? { type: 'S3', topicArn: TOPIC, bucketName: opts.s3.bucket, objectKey: opts.s3.key } : { type: 'SNS', topicArn: TOPIC, encoding: 'UTF8' };
  const body = buildSnsBody({
    envelope: {
      Type: 'Notification', MessageId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`, TopicArn: TOPIC, Subject: 'Amazon SES Email Receipt Notification',
      Timestamp: new Date(clockNow()).toISOString(), SignatureVersion: '2', SigningCertURL: SNS_TEST_CERT_URL,
      UnsubscribeURL: `https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:e2e`,
    },
    notification: {
      notificationType: 'Received',
      mail: { timestamp: '2026-10-12T10:00:00.500Z', source: opts.from, messageId: sesId, destination: ['support@acme.example'], commonHeaders: { from: [opts.from] } },
      receipt: { spamVerdict: { status: 'PASS' }, virusVerdict: { status: 'PASS' }, dmarcVerdict: { status: opts.dmarc ?? 'PASS' }, action },
    },
  }, opts.s3 ? undefined : raw);
  return { body, sesId };
}

describe('e-mail channel end to end (SES → SNS → /webhooks/email)', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  const samples = loadSamples('email');
  const accepted = samples.filter((s) => s.kind === 'accepted');
  const refusals = samples.filter((s) => s.kind === 'refusal');

  const outbox = async (): Promise<Item[]> => (await rt.api.get('/dev/outbox')).body.items;
  const card = async (address: string) => {
    const res = await rt.api.get(`/api/v1/customers?identity=email:${encodeURIComponent(address)}`, token);
    expect(res.status).toBe(200);
    return res.body.items[0] as { id: string; display_name: string | null; identities: Array<Record<string, unknown>>; tickets: Array<{ id: string; number: string; status: string }> } | undefined;
  };
  const timeline = async (ticketId: string) => (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items as Array<Record<string, any>>;
  const inbound = async (ticketId: string) => (await timeline(ticketId)).filter((e) => e.type === 'message' && e.direction === 'in');
  const ticket = async (ticketId: string) => (await rt.api.get(`/api/v1/tickets/${ticketId}`, token)).body as Record<string, any>;
  const post = async (body: string) => rt.api.webhook('email', { headers: SNS_HEADERS, body });
  const snapshot = async () => {
    const items = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }));
    return { items: (items.Items ?? []).map((i) => `${i.pk}|${i.sk}`).sort(), queue: rt.queues.inbound.stats().depth };
  };
  /** Staff resolving a ticket (no status route yet): the fields the status machine sets. */
  const resolve = async (ticketId: string, at: number) => {
    await rt.db.doc.send(new UpdateCommand({
      TableName: rt.db.tableName, Key: keys.ticket(ticketId),
      UpdateExpression: 'SET #s = :s, resolved_at = :at, gsi2pk = :g', ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'resolved', ':at': at, ':g': indexKeys.byStatus('resolved', 0, ticketId).gsi2pk },
    }));
  };
  const lastReplyId = async (ticketId: string) => {
    const out = (await timeline(ticketId)).filter((e) => e.type === 'message' && e.direction === 'out' && e.delivery === 'sent');
    return out.at(-1)!.external_message_id as string;
  };

  beforeAll(async () => {
    // A visibility timeout above one slow (shared, loaded DynamoDB Local) processing, so a record is
    // not received again while still in work; the poison-record test waits 5 × this.
    rt = await testRuntime({ EMAIL_FROM: 'Acme Support <support@acme.example>' }, { visibilityTimeoutMs: 1000 });
    token = await rt.api.token('ann', 'agent');
    clockNow = () => rt.clock.now();
    // The S3 action's objects exist before SNS notifies (SES writes, then publishes).
    for (const [bucket, key, body] of sampleObjects('email')) {
      const res = await fetch(`${rt.url}/dev/s3/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, { method: 'PUT', body });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => { await rt?.stop(); });

  it('answers every accepted sample, in NN order, with 200 and an empty body, processing each', async () => {
    for (const s of accepted.map((x) => deliveredAt(x, rt.clock.now()))) {
      const res = await rt.api.webhook('email', { headers: s.request.headers, body: s.request.body });
      expect(res.status, s.name).toBe(s.expect.status);
      expect(res.body === '' ? null : res.body, s.name).toBe(s.expect.response_body ?? null);
      // One at a time, as mail arrives: ticket numbers follow the NN order (04 and 14 name C-000001).
      const settled = await rt.settle();
      expect(settled.dlq, `${s.name}: ${JSON.stringify([...rt.queues.inboundDlq.dlqEntries(), ...rt.queues.outboundDlq.dlqEntries()].map((d) => [d.reason, d.receiveCount]))}`).toBe(0);
    }
  });

  it('creates the customers, identities and messages the samples describe', async () => {
    const anna = (await card(ANNA))!;
    expect(anna.display_name).toBe('Anna Kowalska');
    expect(anna.identities).toEqual([expect.objectContaining({ channel: 'email', external_id: ANNA, email: ANNA, email_verified: true })]);
    expect(anna.tickets.map((t) => t.number)).toEqual(['C-000001']);
    const annaMessages = await inbound(anna.tickets[0]!.id);
    // 01 and 04 (its ticket tag names her own ticket); the duplicate 13 added nothing.
    expect(annaMessages.map((m) => m.text)).toEqual([
      'Dzień dobry,\n\nmoje zamówienie 4471 miało przyjść w piątek, ale nadal go nie ma.\nProszę o telefon: +1 206 555 0142\n\nPozdrawiam,\nAnna',
      expect.stringMatching(/^Dziękuję, paczka właśnie dotarła\.\n\nOn Mon, 5 Oct 2026/),
    ]);
    expect(annaMessages.map((m) => m.external_message_id)).toEqual(['k2b7q0m5d3l9c1n8f4h6j2p0r7s5t3v1x9z8w6y4', 'r8f2u5p0h3n7e1j9l4m6c2s0t8v5x3z1b9d7f5h3']);

    const lukas = (await card('lukas.becker@post.example'))!;
    expect(lukas.identities[0]).toMatchObject({ email: 'lukas.becker@post.example', email_verified: false, display_name: 'Lukas Bäcker' });

    const chloe = (await card('chloe.martin@atelier.example'))!;
    expect(chloe.identities[0]).toMatchObject({ email_verified: false });
    const [withFiles] = await inbound(chloe.tickets[0]!.id);
    // Her mail failed DMARC (sample 03): the Agent API marks it, Anna's (DMARC pass) is not.
    expect(withFiles!.unauthenticated).toBe(true);
    expect(annaMessages.map((m) => m.unauthenticated)).toEqual([false, false]);
    // The parts' bytes are kept too (issue 14), typed by what they are.
    expect(withFiles!.attachments).toEqual([
      { type: 'image', file_name: 'colis.png', mime_type: 'image/png', size: 71, media: expect.objectContaining({ status: 'stored', content_type: 'image/png', size: 71 }) },
      { type: 'document', file_name: 'facture-n°42.pdf', mime_type: 'application/pdf', size: 45, media: expect.objectContaining({ status: 'stored', content_type: 'application/pdf', size: 45 }) },
    ]);

    const omar = (await card('omar.haddad@desert.example'))!;
    const [fromS3] = await inbound(omar.tickets[0]!.id);
    expect(fromS3!.text).toMatch(/^Line 001 of the transcript[\s\S]*Line 040 of the transcript: the cargo bike order 88-040\.$/);

    // A stranger forwarding Anna's thread (her ticket tag, our Message-ID in References) gets his own ticket.
    const bob = (await card(BOB))!;
    expect(bob.tickets).toHaveLength(1);
    expect(bob.tickets[0]!.id).not.toBe(anna.tickets[0]!.id);
    expect(bob.id).not.toBe(anna.id);

    // Ignored: auto-reply, bounce, spam, virus — no customer at all.
    for (const address of ['pieter.vos@office.example', 'mailer-daemon@eu-central-1.amazonses.com', 'winner@prizes.example', 'billing@invoices.example']) {
      expect(await card(address), address).toBeUndefined();
    }
  });

  it('confirms the SNS subscription once, by GET of the SubscribeURL (outbox kind sns-confirmation)', async () => {
    const confirmations = (await outbox()).filter((o) => o.kind === 'sns-confirmation');
    const url = JSON.parse(accepted.find((s) => s.name === '06-subscription-confirmation')!.request.body).SubscribeURL;
    expect(confirmations).toEqual([{ channel: 'email', kind: 'sns-confirmation', ticket_id: null, at: expect.any(String), request: { method: 'GET', url, headers: {}, body: null } }]);
  });

  it('acknowledges each new ticket by e-mail, marked Auto-Submitted: auto-replied', async () => {
    const acks = (await outbox()).filter((o) => o.kind === 'acknowledgement' && o.channel === 'email');
    // Anna, Lukas, Chloé, Omar, Bob: one each; none for the joining reply, duplicate or ignored mail.
    expect(acks).toHaveLength(5);
    const anna = (await card(ANNA))!;
    const ack = acks.find((a) => a.ticket_id === anna.tickets[0]!.id)!;
    expect(ack.request).toMatchObject({ method: 'POST', url: 'ses:SendRawEmail', headers: {} });
    const mail = await simpleParser(Buffer.from(ack.request.body!, 'utf8'));
    expect(mail.headers.get('auto-submitted')).toBe('auto-replied');
    expect(mail.subject).toBe('Re: [C-000001] Zamówienie 4471 nie dotarło');
    // Her first mail names a Reply-To: answers go there, as any mail client's would (issue 13).
    expect(mail.to).toMatchObject({ value: [{ address: 'anna.k.orders@shop.example' }] });
  });

  it('sends an agent reply as SES SendRawEmail threaded to the customer\'s mail, and stores SES\'s Message-ID', async () => {
    const anna = (await card(ANNA))!;
    const ticketId = anna.tickets[0]!.id;
    const reply = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'Dzień dobry Anno,\ncieszymy się, że paczka dotarła.' }, token);
    expect(reply.status).toBe(202);
    await rt.settle();
    const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === ticketId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request).toMatchObject({ method: 'POST', url: 'ses:SendRawEmail', headers: {} });
    const raw = sent[0]!.request.body!;
    expect(raw).toContain('\r\n\r\n');
    expect(raw).not.toMatch(/^Auto-Submitted:/m);
    const mail = await simpleParser(Buffer.from(raw, 'utf8'));
    expect(mail.from).toMatchObject({ value: [{ address: 'support@acme.example', name: 'Acme Support' }] });
    expect(mail.to).toMatchObject({ value: [{ address: ANNA }] });
    expect(mail.subject).toBe('Re: [C-000001] Zamówienie 4471 nie dotarło');
    expect(mail.inReplyTo).toBe('<CAF7x2bQ0mZ1d4472@mail.shop.example>');
    expect(mail.references).toEqual([
      '<CAF7x2bQ0mZ1d4471@mail.shop.example>',
      '<0107018f2a3b4c5d-6e7f8091-a2b3-4c4d-9e5f-607182930a1b-000000@eu-central-1.amazonses.com>',
      '<CAF7x2bQ0mZ1d4472@mail.shop.example>',
    ]);
    expect(mail.text?.replace(/\n$/, '')).toBe('Dzień dobry Anno,\ncieszymy się, że paczka dotarła.');
    const entry = (await timeline(ticketId)).find((e) => e.id === reply.body.id)!;
    expect(entry).toMatchObject({ direction: 'out', delivery: 'sent' });
    expect(entry.external_message_id).toMatch(OUR_ID);
  });

  it('ignores an out-of-office answer to our mail: no ticket created, reopened or acknowledged', async () => {
    const anna = (await card(ANNA))!;
    const ourId = await lastReplyId(anna.tickets[0]!.id);
    await resolve(anna.tickets[0]!.id, rt.clock.now());
    const before = await snapshot();
    const acksBefore = (await outbox()).filter((o) => o.kind === 'acknowledgement').length;
    const auto = notification({ from: ANNA, name: 'Anna Kowalska', subject: 'Out of office: Re: [C-000001] Zamówienie', text: 'I am away until Monday.', inReplyTo: ourId, headers: ['Auto-Submitted: auto-replied'] });
    expect((await post(auto.body)).status).toBe(200);
    const precedence = notification({ from: 'list-owner@lists.example', subject: 'Digest', text: 'Weekly digest', headers: ['Precedence: list'] });
    expect((await post(precedence.body)).status).toBe(200);
    await rt.settle();
    expect((await snapshot()).items).toEqual(before.items);
    expect((await ticket(anna.tickets[0]!.id)).status).toBe('resolved');
    expect((await outbox()).filter((o) => o.kind === 'acknowledgement')).toHaveLength(acksBefore);
    expect(await card('list-owner@lists.example')).toBeUndefined();
  });

  it('threads a reply to our mail into that ticket — reopening it — even when another ticket is current', async () => {
    const anna = (await card(ANNA))!;
    const first = anna.tickets[0]!.id; // resolved by the previous test
    const ourId = await lastReplyId(first);
    // Eight days later (past the 7-day reopen window) Anna writes about something else: new ticket.
    await rt.api.post('/dev/clock', { advanceSeconds: 8 * 86_400 });
    const other = notification({ from: ANNA, name: 'Anna Kowalska', subject: 'Faktura VAT', text: 'Proszę o fakturę VAT do zamówienia 4471.' });
    expect((await post(other.body)).status).toBe(200);
    await rt.settle();
    const second = (await card(ANNA))!.tickets.find((t) => t.id !== first)!;
    expect(second.number).toBe('C-000006');
    // Both get resolved; the first one again just now (staff answered a follow-up there).
    const now = rt.clock.now();
    await resolve(second.id, now);
    await resolve(first, now);

    // The normal rule would reopen the current (second) ticket; the thread names the first.
    const answer = notification({ from: ANNA, name: 'Anna Kowalska', subject: 'Re: Twoje zgłoszenie', text: 'Jednak brakuje jednej części.', inReplyTo: ourId, references: [ourId] });
    expect((await post(answer.body)).status).toBe(200);
    await rt.settle();
    expect((await inbound(first)).map((m) => m.text).at(-1)).toBe('Jednak brakuje jednej części.');
    expect((await ticket(first)).status).toBe('open');
    expect((await timeline(first)).some((e) => e.type === 'event' && e.event === 'ticket.reopened')).toBe(true);
    expect((await ticket(second.id)).status).toBe('resolved');
    expect(await inbound(second.id)).toHaveLength(1);

    // And the reopened ticket is now current: a plain follow-up joins it.
    const followUp = notification({ from: ANNA, name: 'Anna Kowalska', subject: 'Zdjęcie', text: 'Zdjęcie w załączniku wkrótce.' });
    expect((await post(followUp.body)).status).toBe(200);
    await rt.settle();
    expect((await inbound(first)).map((m) => m.text).at(-1)).toBe('Zdjęcie w załączniku wkrótce.');
  });

  it('never lets a stranger\'s mail write into someone else\'s ticket, by Message-ID or by ticket tag', async () => {
    const anna = (await card(ANNA))!;
    const annaTicket = anna.tickets.find((t) => t.number === 'C-000001')!.id;
    const ourId = await lastReplyId(annaTicket);
    const annaCount = (await inbound(annaTicket)).length;
    const bobTicket = (await card(BOB))!.tickets[0]!.id;
    const bobCount = (await inbound(bobTicket)).length;

    const forged = notification({ from: BOB, name: 'Bob Stranger', subject: 'Re: [C-000001] Zamówienie 4471', text: 'Any news on my order 5120?', inReplyTo: ourId, references: [ourId] });
    expect((await post(forged.body)).status).toBe(200);
    const stranger = notification({ from: 'eve@nowhere.example', subject: 'Fwd: [C-000001] Zamówienie 4471', text: 'Forwarding this.', inReplyTo: ourId });
    expect((await post(stranger.body)).status).toBe(200);
    await rt.settle();

    expect(await inbound(annaTicket)).toHaveLength(annaCount);
    expect((await inbound(bobTicket)).map((m) => m.text)).toHaveLength(bobCount + 1);
    const eve = (await card('eve@nowhere.example'))!;
    expect(eve.tickets).toHaveLength(1);
    expect(eve.tickets[0]!.id).not.toBe(annaTicket);
  });

  it('dead-letters an S3-action notification whose object does not exist on its first receive, without blocking other mail', async () => {
    const missing = notification({ from: 'omar.haddad@desert.example', subject: 'x', text: 'x', s3: { bucket: 'acme-inbound-mail', key: 'inbound/does-not-exist' } });
    const before = rt.queues.inboundDlq.stats().depth;
    expect((await post(missing.body)).status).toBe(200);
    await rt.settle();
    expect(rt.queues.inboundDlq.stats().depth - before).toBe(1);
    const dead = rt.queues.inboundDlq.dlqEntries().at(-1)!;
    // A missing object stays missing (S3 reads are strongly consistent): no four futile retries.
    expect(dead.receiveCount).toBe(1);
    expect(dead.reason).toMatch(/UnprocessableRecordError at read-object/);
  });

  it('lets a mail failing DMARC from a verified address join the open ticket, marked, but never answer the survey, reopen, rename or downgrade', async () => {
    const ZOFIA = 'zofia.nowak@shop.example';
    const real = notification({ from: ZOFIA, name: 'Zofia Nowak', subject: 'Zwrot', text: 'Chcę zwrócić czajnik.' });
    expect((await post(real.body)).status).toBe(200);
    await rt.settle();
    const t1 = (await card(ZOFIA))!.tickets[0]!.id;
    const ourId = await lastReplyId(t1); // the acknowledgement, threaded by SES's Message-ID

    // Forged while the ticket is open: it joins it, marked; the identity stays verified, the name stays.
    const spoof = (text: string, extra: { inReplyTo?: string } = {}) => notification({ from: ZOFIA, name: 'Mallory', subject: 'Re: Zwrot', text, dmarc: 'FAIL', ...(extra.inReplyTo ? { inReplyTo: extra.inReplyTo, references: [extra.inReplyTo] } : {}) });
    expect((await post(spoof('Please send the refund to IBAN XX00 0000').body)).status).toBe(200);
    await rt.settle();
    const joined = (await inbound(t1)).map((m) => [m.text, m.unauthenticated]);
    expect(joined).toEqual([['Chcę zwrócić czajnik.', false], ['Please send the refund to IBAN XX00 0000', true]]);
    const afterSpoof = (await card(ZOFIA))!;
    expect(afterSpoof.identities).toEqual([expect.objectContaining({ email: ZOFIA, email_verified: true, display_name: 'Zofia Nowak' })]);
    expect(afterSpoof.display_name).toBe('Zofia Nowak');

    // Resolved with the survey sent: a forged "1" is no answer (a low score would reopen and alert),
    // and does not reopen the ticket: it opens a new one, marked.
    const now = rt.clock.now();
    await rt.db.doc.send(new UpdateCommand({
      TableName: rt.db.tableName, Key: keys.ticket(t1),
      UpdateExpression: 'SET #s = :s, resolved_at = :at, gsi2pk = :g, survey = :sv', ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'resolved', ':at': now, ':g': indexKeys.byStatus('resolved', 0, t1).gsi2pk, ':sv': { ...scheduleSurvey(null, now, DEFAULT_SURVEY_SETTINGS), state: 'sent', sent_at: now, expires_at: now + 72 * 3_600_000 } },
    }));
    await rt.api.post('/dev/clock', { advanceSeconds: 3600 });
    // …even threaded to our own mail (In-Reply-To), which would reopen a verified sender's ticket.
    expect((await post(spoof('1', { inReplyTo: ourId }).body)).status).toBe(200);
    await rt.settle();
    const t1After = await ticket(t1);
    expect(t1After.status).toBe('resolved');
    expect(t1After.survey).toMatchObject({ state: 'sent', score: null });
    expect((await timeline(t1)).filter((e) => e.type === 'event').map((e) => e.event)).not.toEqual(expect.arrayContaining(['survey.answered', 'ticket.reopened']));
    const tickets = (await card(ZOFIA))!.tickets;
    expect(tickets).toHaveLength(2);
    const t2 = tickets.find((t) => t.id !== t1)!;
    expect((await inbound(t2.id)).map((m) => [m.text, m.unauthenticated])).toEqual([['1', true]]);
    expect((await card(ZOFIA))!.identities[0]).toMatchObject({ email_verified: true });
  });

  it('has no messaging window: a reply a day later is still sent', async () => {
    await rt.api.post('/dev/clock', { advanceSeconds: 90_000 });
    const lukas = (await card('lukas.becker@post.example'))!;
    const reply = await rt.api.post(`/api/v1/tickets/${lukas.tickets[0]!.id}/replies`, { text: 'Ja, das geht. Größe L ist unterwegs.' }, token);
    expect(reply.status).toBe(202);
    await rt.settle();
    const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === lukas.tickets[0]!.id);
    expect(sent).toHaveLength(1);
    const mail = await simpleParser(Buffer.from(sent[0]!.request.body!, 'utf8'));
    expect(mail.subject).toBe('Re: [C-000002] Frage zur Rücksendung');
    expect(mail.text?.replace(/\n$/, '')).toBe('Ja, das geht. Größe L ist unterwegs.');
  });

  it('refuses every refusal sample with its status and code, and an oversized body with 413, leaving no trace', async () => {
    const before = await snapshot();
    const outboxBefore = (await outbox()).length;
    for (const s of refusals.map((x) => deliveredAt(x, rt.clock.now()))) {
      const res = await rt.api.webhook('email', { headers: s.request.headers, body: s.request.body });
      expect(res.status, s.name).toBe(s.expect.status);
      expect(JSON.parse(res.body).error.code, s.name).toBe(s.expect.code);
    }
    const oversized = await rt.api.webhook('email', { headers: SNS_HEADERS, body: Buffer.alloc(524_289, 0x20) });
    expect(oversized.status).toBe(413);
    await rt.settle();
    expect(await snapshot()).toEqual(before);
    expect((await outbox()).length).toBe(outboxBefore);
  });
});
