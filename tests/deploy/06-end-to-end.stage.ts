/**
 * Stage 6 — the bundled handlers end to end through the emulated deployment (harness/), as
 * customers, the widget, SNS, the agents' browser and the schedule reach them. One story, each
 * step a test that builds on the previous ones:
 * - Telegram: a signed webhook through the HTTP API → ingest → moto SQS (FIFO) → process →
 *   DynamoDB Local → the table stream (the template's filter) → dispatch → the acknowledgement
 *   on the outbound queue and the ticket's SLA execution started in moto → send → Telegram's
 *   sendMessage, answered by the fake platform (nothing reaches the internet);
 * - web chat: `POST /webchat/session` → a message to `/webhooks/webchat` with that token → an
 *   agent's reply through the Agent API → the widget's `GET /webchat/messages` shows it, and it
 *   becomes `delivered`;
 * - e-mail: an SNS-delivered mail (signed with the test PKI) → ticket → the acknowledgement sent
 *   with SES SendRawEmail (the raw mail in moto: From = EMAIL_FROM, threaded to the customer's
 *   mail);
 * - the Agent API as the web inbox uses it: the CORS preflight (answered by API Gateway, no
 *   authorizer), list, detail, timeline, reply, note, PATCH, customer card, with a Cognito-shaped
 *   ID token of group `agent`; an admin-only route with `admin` (and 403 for `agent`);
 * - the e-mail reply goes out through SES in the e-mail channel's region, which is NOT the
 *   stack's (functions run in eu-west-1, the channel's topic is in eu-central-1), and its stored
 *   Message-ID names that region's domain (issue 12 defect 5);
 * - SLA: time passes (the deployment's clock, which the functions read too), the execution
 *   dispatch started runs the bundled sla-evaluate and the escalation e-mail leaves through SES;
 * - survey: the agent resolves the e-mail ticket, the survey workflow asks an hour later by
 *   e-mail with signed score links; `GET /survey/{token}` answers the confirmation page and
 *   records nothing, `POST` records the score;
 * - export: the schedule rule fires the bundled export; its Parquet files in the export bucket
 *   have exactly the columns (names and types) of the Glue tables of the template;
 * - phone (synthesised with a placeholder Connect instance): the flow's lookup through the
 *   template's integration association, then the call's DISCONNECTED contact event matched by the
 *   template's EventBridge rule and delivered to its target as an asynchronous invocation; the call
 *   on its ticket in the table, once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { simpleParser } from 'mailparser';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signSurveyToken } from '../../functions/domain/survey-token.js';
import { signOrderBody } from '../../functions/domain/orders.js';
import type { Db } from '../../functions/store/db.js';
import { getIdentity, getTicket, listTimeline } from '../../functions/store/reads.js';
import type { MessageEntry, TicketRecord } from '../../functions/store/records.js';
import { ticketItem } from '../../functions/store/inbound.js';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { orderKeys } from '../../functions/store/orders.js';
import { shopifyOrderNode } from '../../local/shopify-simulator.js';
import { addressOf, deploymentSigned, SES_REGION, startDeployment, type Deployment } from './harness/deployment.js';
import { CONNECT_INSTANCE_ARN, REPO_ROOT, synthesize, SYNTH_CONTEXT } from './support/assembly.js';
import { connectSample, type SampleRequest } from '../../local/connect-samples.js';
import { LOCAL_CONNECT_INSTANCE_ARN, LOCAL_REGION } from '../../local/template.js';
import { EMPTY_LOOKUP } from '../../functions/domain/voice.js';
import { deliveredAt } from '../helpers/samples.js';

type Sample = { request: { headers: Record<string, string>; body: string } };
const sample = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as Sample;

/** The stack's region: not the e-mail channel's SES region (SES_REGION, the sample topic's). */
const STACK_REGION = 'eu-west-1';
const MIN = 60_000;
/** The customer's own Message-ID in the e-mail sample (functions/channels/email/samples/01-text-utf8-v2.json). */
const CUSTOMER_MESSAGE_ID = '<CAF7x2bQ0mZ1d4471@mail.shop.example>';
const WIDGET_ORIGIN = 'https://shop.acme.example';

describe('stage 6: end to end through the bundled handlers', () => {
  let d: Deployment;
  let db: Db;
  /** The agent's Cognito sub and current ID token (signed in again after time passes: tokens live an hour). */
  const agentSub = randomUUID();
  let agent: string;
  let admin: string;
  /** The tickets of the story, by channel. */
  const tickets: Record<string, TicketRecord> = {};
  /** SES sends per region just before the SLA step (for the region check after it). */
  let sentBeforeSla: Record<string, number> = {};
  let sentAfterSla: Record<string, number> = {};

  beforeAll(async () => {
    const workDir = inject('deployWorkDir');
    d = await startDeployment({ workDir, assembly: await synthesize(workDir), emulators: inject('deployEmulators'), region: STACK_REGION });
    db = d.db();
    agent = await d.agentToken(agentSub, ['agent'], { name: 'Ann Agent' });
    admin = await d.agentToken(randomUUID(), ['admin']);
  });
  afterAll(async () => { await d?.stop(); });

  const json = (res: { body: string }) => JSON.parse(res.body) as Record<string, any>;
  const api = (method: string, path: string, token: string | undefined, body?: unknown) => d.http.request({
    method, path: `/api/v1${path}`, ...(token ? { token } : {}),
    headers: { origin: inboxOrigin(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  /** The web inbox's origin: the Agent API's CORS AllowOrigins (the CloudFront distribution's https origin). */
  const inboxOrigin = () => {
    const origins = d.http.apis.flatMap((a) => a.cors?.allowOrigins ?? []);
    expect(origins).toHaveLength(1);
    return origins[0]!;
  };
  const outbound = async (ticketId: string) => (await listTimeline(db, ticketId)).filter((e): e is MessageEntry => e.type === 'message' && e.direction === 'out');
  /**
   * A Connect sample of local/connect-samples/ (the flow's event or a contact event, stamped to end
   * now) from this deployment's instance and region instead of the local runtime's.
   */
  const connectEvent = (name: string, req: Omit<SampleRequest, 'sample'>) => {
    const text = JSON.stringify(connectSample({ sample: name, ...req }, d.clock.now()))
      .replaceAll(LOCAL_CONNECT_INSTANCE_ARN, CONNECT_INSTANCE_ARN).replaceAll(`"region":"${LOCAL_REGION}"`, `"region":"${d.region}"`);
    expect(text).not.toContain(`:${LOCAL_REGION}:`);
    return JSON.parse(text) as { source: string; 'detail-type': string; [k: string]: unknown };
  };
  const mailTo = async (address: string) => (await d.sentMail()).filter((m) => m.destinations.some((x) => addressOf(x) === address));

  it('Telegram: a signed message becomes a ticket, an acknowledgement on Telegram and an SLA execution in moto', async () => {
    // Signed with the deployment's own secret: the AWS platform refuses the public test secrets.
    const telegram = deploymentSigned(sample('functions/channels/telegram/samples/01-text.json').request);
    const [inboundId] = d.assembly.resourcesOf('AWS::SQS::Queue').map(([id]) => id).filter((id) => id.startsWith('IngestInboundQueue'));
    const res = await d.http.request({ method: 'POST', path: '/webhooks/telegram', headers: telegram.headers, body: telegram.body });
    expect(res, d.logs()).toMatchObject({ status: 200, routeKey: 'POST /webhooks/{channel}' });
    const waiting = await d.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: d.queue(inboundId!).url, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(waiting.Attributes?.ApproximateNumberOfMessages).toBe('1');

    await d.settle();

    // process: the customer, their identity and a new ticket in the table.
    const identity = await getIdentity(db, 'telegram', '48120077');
    expect(identity, d.logs()).toBeDefined();
    const ticket = (await getTicket(db, identity!.ticket_hint!))!;
    expect(ticket).toMatchObject({ status: 'new', channel: 'telegram', conversation_id: '48120077' });
    tickets.telegram = ticket;

    // dispatch: woken only by change-feed INSERTs — the ticket and identity writes above were on
    // the stream too, and the template's FilterCriteria kept them from dispatch.
    const delivered = d.streams[0]!.batches.flatMap((b) => b.records);
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((r) => r.eventName === 'INSERT' && (r.dynamodb?.NewImage?.pk as { S?: string } | undefined)?.S?.startsWith('FEED#'))).toBe(true);

    // send: the acknowledgement reached Telegram's sendMessage (the fake) and is recorded as sent.
    const calls = d.platforms.to('telegram');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ fn: 'send', request: { method: 'POST', url: expect.stringMatching(/^https:\/\/api\.telegram\.org\/bot[^/]+\/sendMessage$/) } });
    expect(JSON.parse(calls[0]!.request.body!)).toMatchObject({ chat_id: 48120077, text: expect.stringContaining(ticket.number) });
    expect(await outbound(ticket.id)).toEqual([expect.objectContaining({ outbound_kind: 'acknowledgement', delivery: 'sent' })]);

    // Step Functions: dispatch started the ticket's SLA execution in moto; it waits for its first threshold.
    const [slaId] = d.assembly.resourcesOf('AWS::StepFunctions::StateMachine').map(([id]) => id).filter((id) => id.startsWith('SlaWorkflow'));
    const started = await d.aws.sfn.send(new ListExecutionsCommand({ stateMachineArn: d.phys.ref(slaId!) }));
    expect(started.executions?.map((e) => e.name)).toEqual([`${ticket.id}-1`]);
    const [execution] = d.stepFunctions.executions(slaId!);
    expect(execution).toMatchObject({ status: 'RUNNING', state: 'WaitUntilDue' });
    expect(execution!.waitUntil).toBeGreaterThan(d.clock.now());
  });

  it('web chat: session, message, an agent\'s reply through the Agent API, and the widget\'s GET /webchat/messages shows it delivered', async () => {
    const session = await d.http.request({ method: 'POST', path: '/webchat/session', headers: { origin: WIDGET_ORIGIN } });
    expect(session, d.logs()).toMatchObject({ status: 200, routeKey: 'POST /webchat/session' });
    const { token, visitor_id: visitor, conversation_id: conversation } = json(session) as { token: string; visitor_id: string; conversation_id: string };

    const messageId = ulid();
    const sent = await d.http.request({
      method: 'POST', path: '/webhooks/webchat', token, headers: { origin: WIDGET_ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', messageId, sentAt: new Date(d.clock.now()).toISOString(), text: 'Does the blue kettle come with a two-year warranty?', page: { url: `${WIDGET_ORIGIN}/kettles`, title: 'Kettles' } }),
    });
    // The widget's posts have a route of their own (own throttle: lib/ingest.ts).
    expect(sent, d.logs()).toMatchObject({ status: 202, routeKey: 'POST /webhooks/webchat' });
    expect(json(sent)).toEqual({ ok: true, messageId });
    await d.settle();

    const identity = await getIdentity(db, 'webchat', visitor);
    expect(identity, d.logs()).toBeDefined();
    const ticket = (await getTicket(db, identity!.ticket_hint!))!;
    expect(ticket).toMatchObject({ channel: 'webchat', conversation_id: conversation });
    tickets.webchat = ticket;

    const reply = await api('POST', `/tickets/${ticket.id}/replies`, agent, { text: 'Yes — two years, parts and labour.' });
    expect(reply, d.logs()).toMatchObject({ status: 202, routeKey: 'POST /api/v1/tickets/{id}/replies' });
    await d.settle();
    const replyId = json(reply).id as string;
    expect((await outbound(ticket.id)).find((m) => m.id === replyId), 'stored for the widget, nothing to call').toMatchObject({ delivery: 'sent' });

    const polled = await d.http.request({ method: 'GET', path: '/webchat/messages', token, headers: { origin: WIDGET_ORIGIN } });
    expect(polled, d.logs()).toMatchObject({ status: 200, routeKey: 'GET /webchat/messages' });
    const items = json(polled).items as Array<{ id: string; direction: string; text: string; kind?: string }>;
    expect(items[0]).toMatchObject({ id: messageId, direction: 'in' });
    expect(items).toContainEqual(expect.objectContaining({ id: replyId, direction: 'out', kind: 'reply', text: 'Yes — two years, parts and labour.' }));
    expect((await outbound(ticket.id)).find((m) => m.id === replyId)).toMatchObject({ delivery: 'delivered' });
  });

  it('e-mail: an SNS-delivered mail becomes a ticket and its acknowledgement leaves through SES, from EMAIL_FROM, threaded to the customer\'s mail', async () => {
    // Stamped and signed at the deployment's time: SNS messages older than an hour are refused.
    const mail = deliveredAt(sample('functions/channels/email/samples/01-text-utf8-v2.json') as Parameters<typeof deliveredAt>[0], d.clock.now()).request;
    const res = await d.http.request({ method: 'POST', path: '/webhooks/email', headers: mail.headers, body: mail.body });
    expect(res, d.logs()).toMatchObject({ status: 200, routeKey: 'POST /webhooks/{channel}' });
    await d.settle();

    const identity = await getIdentity(db, 'email', 'anna.kowalska@shop.example');
    expect(identity, d.logs()).toBeDefined();
    const ticket = (await getTicket(db, identity!.ticket_hint!))!;
    expect(ticket).toMatchObject({ channel: 'email' });
    tickets.email = ticket;

    const [ack] = await outbound(ticket.id);
    expect(ack, d.logs()).toMatchObject({ outbound_kind: 'acknowledgement', delivery: 'sent' });
    const raw = (await d.sentMail()).find((m) => `<${m.id}@${SES_REGION}.amazonses.com>` === ack!.external_message_id);
    expect(raw, `the acknowledgement ${ack!.external_message_id} among SES's sent mail`).toBeDefined();
    const parsed = await simpleParser(raw!.raw_data);
    expect(parsed.from?.text).toBe(SYNTH_CONTEXT.emailFrom);
    // docs/channels.md "E-mail Reply-To": replies go to the mail's Reply-To when it has one (sample
    // 01 has), `Re: [<number>] <subject>`, RFC 3834 marking.
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value.map((a) => a.address) : []).toEqual(['anna.k.orders@shop.example']);
    expect(parsed.subject).toBe(`Re: [${ticket.number}] Zamówienie 4471 nie dotarło`);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(parsed.inReplyTo).toBe(CUSTOMER_MESSAGE_ID);
    expect([parsed.references].flat()).toContain(CUSTOMER_MESSAGE_ID);
    expect(parsed.text).toContain(ticket.number);
  });

  it('Agent API as the web inbox calls it: preflight answered by API Gateway, then list, detail, timeline, reply, note, PATCH and the customer card with a Cognito ID token of group agent', async () => {
    const ticket = tickets.email!;
    const invocations = () => d.host('agent-api').invocations;

    // The browser's preflight: API Gateway answers it from the CORS configuration — no authorizer, no function.
    const before = invocations();
    const preflight = await d.http.request({
      method: 'OPTIONS', path: `/api/v1/tickets/${ticket.id}`,
      headers: { origin: inboxOrigin(), 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight).toMatchObject({ status: 204, routeKey: null });
    expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': inboxOrigin() });
    expect(preflight.headers['access-control-allow-methods']!.split(',')).toEqual(expect.arrayContaining(['GET', 'POST', 'PATCH']));
    expect(preflight.headers['access-control-allow-headers']!.split(',')).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    // Without a token the authorizer answers 401 itself.
    expect(await api('GET', '/tickets', undefined)).toMatchObject({ status: 401, routeKey: null });
    expect(invocations()).toBe(before);

    const list = await api('GET', '/tickets', agent);
    expect(list, d.logs()).toMatchObject({ status: 200, routeKey: 'GET /api/v1/tickets' });
    expect(list.headers['access-control-allow-origin']).toBe(inboxOrigin());
    expect((json(list).items as Array<{ id: string }>).map((t) => t.id)).toEqual(expect.arrayContaining(Object.values(tickets).map((t) => t.id)));

    const detail = await api('GET', `/tickets/${ticket.id}`, agent);
    expect(detail).toMatchObject({ status: 200, routeKey: 'GET /api/v1/tickets/{id}' });
    expect(json(detail)).toMatchObject({ id: ticket.id, number: ticket.number, channel: 'email', customer_id: ticket.customer_id });

    const timeline = await api('GET', `/tickets/${ticket.id}/timeline`, agent);
    expect(timeline).toMatchObject({ status: 200, routeKey: 'GET /api/v1/tickets/{id}/timeline' });
    expect(json(timeline).items).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'message', direction: 'in', channel: 'email' }),
      expect.objectContaining({ type: 'message', direction: 'out', outbound_kind: 'acknowledgement', delivery: 'sent' }),
    ]));

    const reply = await api('POST', `/tickets/${ticket.id}/replies`, agent, { text: 'Dzień dobry, paczka jest już w drodze.' });
    expect(reply, d.logs()).toMatchObject({ status: 202 });
    expect(json(reply)).toMatchObject({ ticket_id: ticket.id, channel: 'email', delivery: 'queued' });

    const note = await api('POST', `/tickets/${ticket.id}/notes`, agent, { text: 'Courier confirmed the parcel left the depot.' });
    expect(note).toMatchObject({ status: 201, routeKey: 'POST /api/v1/tickets/{id}/notes' });
    expect(json(note)).toMatchObject({ type: 'note', text: 'Courier confirmed the parcel left the depot.' });

    const patch = await api('PATCH', `/tickets/${ticket.id}`, agent, { priority: 'high', assignee: 'me', tags: ['delivery'] });
    expect(patch, d.logs()).toMatchObject({ status: 200, routeKey: 'PATCH /api/v1/tickets/{id}' });
    // The caller is the token's subject: `assignee: me` became the agent's Cognito sub.
    expect(json(patch).ticket).toMatchObject({ priority: 'high', assignee: agentSub, tags: ['delivery'] });

    const card = await api('GET', `/customers/${ticket.customer_id}`, agent);
    expect(card).toMatchObject({ status: 200, routeKey: 'GET /api/v1/customers/{id}' });
    expect(json(card)).toMatchObject({ id: ticket.customer_id });
    expect(json(card).identities).toEqual(expect.arrayContaining([expect.objectContaining({ channel: 'email', external_id: 'anna.kowalska@shop.example' })]));

    // Roles come from cognito:groups as API Gateway passes it ("[admin]"): an admin-only route.
    const texts = await api('GET', '/survey/templates', agent);
    expect(texts).toMatchObject({ status: 200 });
    const { templates } = json(texts);
    expect(await api('PUT', '/survey/templates', agent, { templates })).toMatchObject({ status: 403 });
    const replaced = await api('PUT', '/survey/templates', admin, { templates });
    expect(replaced, d.logs()).toMatchObject({ status: 200, routeKey: 'PUT /api/v1/survey/templates' });
  });

  it('sends the e-mail reply through SES in the e-mail channel\'s region, not the stack\'s, and stores that region\'s Message-ID (issue 12 defect 5)', async () => {
    expect(d.region).not.toBe(SES_REGION);
    const before = { channel: await d.sesSentCount(SES_REGION), stack: await d.sesSentCount(d.region) };
    await d.settle();
    const reply = (await outbound(tickets.email!.id)).find((m) => m.outbound_kind === 'reply');
    expect(reply, d.logs()).toMatchObject({ delivery: 'sent', external_message_id: expect.stringMatching(new RegExp(`^<[^@>]+@${SES_REGION}\\.amazonses\\.com>$`)) });
    expect(await d.sesSentCount(SES_REGION)).toBe(before.channel + 1);
    expect(await d.sesSentCount(d.region)).toBe(before.stack);

    const raw = (await d.sentMail()).find((m) => `<${m.id}@${SES_REGION}.amazonses.com>` === reply!.external_message_id);
    expect(raw, 'the stored Message-ID is the one SES gave the sent mail').toBeDefined();
    const parsed = await simpleParser(raw!.raw_data);
    expect(parsed.from?.text).toBe(SYNTH_CONTEXT.emailFrom);
    expect(parsed.inReplyTo).toBe(CUSTOMER_MESSAGE_ID);
    expect(parsed.text).toContain('paczka jest już w drodze');
  });

  it('SLA: when the first-response target passes, the execution dispatch started runs the bundled sla-evaluate, which e-mails the escalation through SES', async () => {
    const ticket = tickets.telegram!;
    // sla-evaluate sends from the stack's region (see the next test): the address is verified
    // there too, so this step shows the escalation itself.
    await d.sesIn(d.region).send(new VerifyEmailIdentityCommand({ EmailAddress: addressOf(SYNTH_CONTEXT.emailFrom!) }));
    sentBeforeSla = { [SES_REGION]: await d.sesSentCount(SES_REGION), [d.region]: await d.sesSentCount(d.region) };

    // The Telegram ticket was never answered: its first response (60 min for normal priority) is due.
    d.advanceClock(61 * MIN);
    await d.settle();

    const events = (await listTimeline(db, ticket.id)).filter((e) => e.type === 'event').map((e) => (e as { event: string }).event);
    expect(events, d.logs()).toEqual(expect.arrayContaining(['sla.escalated', 'sla.breached']));
    expect((await getTicket(db, ticket.id))!.sla).toMatchObject({ breached: expect.arrayContaining(['first_response']) });
    const escalation = (await mailTo(SYNTH_CONTEXT.escalationEmail!)).filter((m) => m.raw_data.includes(ticket.number));
    expect(escalation, d.logs()).toHaveLength(1);
    expect((await simpleParser(escalation[0]!.raw_data)).from?.text).toBe(SYNTH_CONTEXT.emailFrom);
    const [slaId] = d.assembly.resourcesOf('AWS::StepFunctions::StateMachine').map(([id]) => id).filter((id) => id.startsWith('SlaWorkflow'));
    expect(d.stepFunctions.executions(slaId!).find((e) => e.name === `${ticket.id}-1`)).toMatchObject({ status: 'RUNNING', state: 'WaitUntilDue' });
    sentAfterSla = { [SES_REGION]: await d.sesSentCount(SES_REGION), [d.region]: await d.sesSentCount(d.region) };
  });

  it('sends SLA escalation e-mails through the e-mail channel\'s SES region, like replies (EMAIL_SES_REGION: "SES sending region")', () => {
    // sla-evaluate has no CONFLUO_SECRETS_PATH, so it never learns EMAIL_SES_REGION or the topic's
    // region and its SES client uses the function's own: with EMAIL_FROM verified only where the
    // operator set up SES, every escalation e-mail is refused and the SLA task retries until the
    // execution fails.
    expect(sentAfterSla[SES_REGION]! - sentBeforeSla[SES_REGION]!, 'escalation e-mails sent in the channel\'s SES region').toBe(1);
    expect(sentAfterSla[d.region]! - sentBeforeSla[d.region]!, `escalation e-mails sent in the stack's region ${d.region}`).toBe(0);
  });

  it('survey: the resolved ticket is asked an hour later by e-mail with signed links; GET /survey/{token} only confirms, POST records the score', async () => {
    const ticket = tickets.email!;
    // An hour has passed since sign-in: yesterday's token is refused, the inbox signs in again.
    expect(await api('GET', '/tickets', agent)).toMatchObject({ status: 401, routeKey: null });
    agent = await d.agentToken(agentSub, ['agent'], { name: 'Ann Agent' });
    const resolved = await api('PATCH', `/tickets/${ticket.id}`, agent, { status: 'resolved' });
    expect(resolved, d.logs()).toMatchObject({ status: 200 });
    await d.settle();
    d.advanceClock(61 * MIN);
    await d.settle();

    const surveyed = (await getTicket(db, ticket.id))!;
    const survey = surveyed.survey as { state: string; round: number; scale: 'csat' | 'nps'; expires_at: number };
    expect(survey, d.logs()).toMatchObject({ state: 'sent', round: 1, scale: 'csat' });
    const question = (await outbound(ticket.id)).find((m) => m.outbound_kind === 'survey');
    expect(question).toMatchObject({ delivery: 'sent' });

    // The link for a 4, minted as survey-step mints it, with the secret stored in SSM.
    const secretsPath = d.assembly.fn('survey-link').environment.CONFLUO_SECRETS_PATH as string;
    const secret = (await d.aws.ssm.send(new GetParameterCommand({ Name: `${secretsPath}CONFLUO_SURVEY_LINK_SECRET`, WithDecryption: true }))).Parameter!.Value!;
    const token = signSurveyToken({ ticket_id: ticket.id, round: survey.round, scale: survey.scale, score: 4, expires_at: survey.expires_at }, secret);
    const mail = (await d.sentMail()).find((m) => `<${m.id}@${SES_REGION}.amazonses.com>` === question!.external_message_id);
    expect(mail, 'the survey e-mail among SES\'s sent mail').toBeDefined();
    const publicUrl = d.hostEnv('survey-step').CONFLUO_PUBLIC_URL!;
    expect((await simpleParser(mail!.raw_data)).text).toContain(`${publicUrl.replace(/\/$/, '')}/survey/${token}`);

    // The link is on the public webhook API, next to the channels' webhooks.
    const apiOf = (routeKey: string) => d.http.apis.find((a) => a.routes.some((r) => r.routeKey === routeKey))?.logicalId;
    expect(apiOf('GET /survey/{token}')).toBe(apiOf('POST /webhooks/{channel}'));
    const page = await d.http.request({ method: 'GET', path: `/survey/${token}` });
    expect(page, d.logs()).toMatchObject({ status: 200, routeKey: 'GET /survey/{token}' });
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<form method="post">');
    expect(page.body).toContain(ticket.number);
    expect((await getTicket(db, ticket.id))!.survey).toMatchObject({ state: 'sent' });

    // The page's form posts back (a form body reaches the function base64-encoded).
    const answer = await d.http.request({ method: 'POST', path: `/survey/${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=answer' });
    expect(answer, d.logs()).toMatchObject({ status: 200, routeKey: 'POST /survey/{token}' });
    expect(answer.body).toContain(ticket.number);
    expect((await getTicket(db, ticket.id))!.survey).toMatchObject({ state: 'answered', score: 4, answered_via: 'link' });
    await d.settle();
  });

  it('export: the schedule rule runs the bundled export into the export bucket, and every dataset\'s Parquet columns are the Glue table\'s (names and types)', async () => {
    // The export's schedule (the phone channel has a rule too: Connect's contact events; the Shopify
    // orders pull has its own schedule, fired in its own test).
    const [ruleId, ...otherSchedules] = d.assembly.resourcesOf('AWS::Events::Rule').filter(([id, r]) => r.Properties?.ScheduleExpression !== undefined && !id.startsWith('OrdersPull')).map(([id]) => id);
    expect(otherSchedules).toEqual([]);
    const [result] = await d.fireSchedule(ruleId!) as Array<{ status: string; rows: Record<string, number> }>;
    expect(result, d.logs()).toMatchObject({ status: 'exported' });
    for (const dataset of ['tickets', 'messages', 'customers', 'events', 'surveys']) expect(result!.rows[dataset], dataset).toBeGreaterThan(0);

    const [bucketId] = d.assembly.resourcesOf('AWS::S3::Bucket').map(([id]) => id).filter((id) => id.startsWith('ExportBucket'));
    const bucket = d.phys.ref(bucketId!);
    const objects = (await d.aws.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    for (const o of objects) expect(o.Key).toMatch(/^[a-z]+\/dt=\d{4}-\d{2}-\d{2}\/part-0\.parquet$/);

    const glue = new Map(d.assembly.resourcesOf('AWS::Glue::Table').map(([, r]) => {
      const input = r.Properties!.TableInput as { Name: string; StorageDescriptor: { Columns: Array<{ Name: string; Type: string }> } };
      return [input.Name, input.StorageDescriptor.Columns.map((c) => ({ name: c.Name, type: c.Type }))];
    }));
    expect([...new Set(objects.map((o) => o.Key!.split('/')[0]))].sort()).toEqual([...glue.keys()].sort());

    const dir = mkdtempSync(join(tmpdir(), 'confluo-parquet-'));
    const duck = await DuckDBInstance.create(':memory:');
    const con = await duck.connect();
    try {
      for (const o of objects) {
        const file = join(dir, o.Key!.replace(/\//g, '_'));
        const body = await d.aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
        writeFileSync(file, await body.Body!.transformToByteArray());
        const described = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson() as Array<{ column_name: string; column_type: string }>;
        const columns = described.map((c) => ({ name: c.column_name, type: c.column_type }));
        const expected = glue.get(o.Key!.split('/')[0]!)!.map((c) => ({ name: c.name, type: DUCKDB_TYPE_OF_GLUE[c.type] ?? `no reading of Glue type ${c.type}` }));
        expect(columns, o.Key).toEqual(expected);
      }
    } finally {
      con.closeSync();
      duck.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('attachments: a Telegram document is fetched by the bundled media function (getFile, then the file) and kept in the media bucket, sha256 on the message', async () => {
    // The fake platform answers the media function as Telegram would (the sample PDF is ASCII, so it survives the fake's text bodies).
    const pdf = readFileSync(join(process.cwd(), 'local', 'sample-media', 'invoice.pdf'));
    const script = d.platforms.script(({ fn, channel, request }): { status: number; headers: Record<string, string>; body: string } | undefined => {
      if (fn !== 'media' || channel !== 'telegram') return undefined;
      if (/\/getFile\?file_id=/.test(request.url)) return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ok: true, result: { file_path: 'documents/file_1.pdf', file_size: pdf.length } }) };
      if (/\/file\/bot[^/]+\/documents\/file_1\.pdf$/.test(request.url)) return { status: 200, headers: { 'content-type': 'application/pdf' }, body: pdf.toString('utf8') };
      return undefined;
    });
    try {
      const doc = deploymentSigned(sample('functions/channels/telegram/samples/03-document.json').request);
      expect((await d.http.request({ method: 'POST', path: '/webhooks/telegram', headers: doc.headers, body: doc.body })).status).toBe(200);
      await d.settle();
      const ticket = tickets.telegram!;
      const entry = (await listTimeline(db, ticket.id)).find((e): e is MessageEntry => e.type === 'message' && e.attachments.some((a) => a.type === 'document'));
      const media = entry?.attachments.find((a) => a.type === 'document')?.media;
      expect(media, d.logs()).toMatchObject({ status: 'stored', content_type: 'application/pdf', size: pdf.length, sha256: createHash('sha256').update(pdf).digest('hex') });
      const [bucketId] = d.assembly.resourcesOf('AWS::S3::Bucket').map(([id]) => id).filter((id) => id.startsWith('MediaBucket'));
      const object = await d.aws.s3.send(new GetObjectCommand({ Bucket: d.phys.ref(bucketId!), Key: media!.key! }));
      expect(Buffer.from(await object.Body!.transformToByteArray()).equals(pdf)).toBe(true);
      expect(d.platforms.to('telegram').filter((c) => c.fn === 'media').map((c) => new URL(c.request.url).pathname.replace(/bot[^/]+/, 'bot<token>'))).toEqual(['/bot<token>/getFile', '/file/bot<token>/documents/file_1.pdf']);
    } finally {
      script.remove();
    }
  });

  it('phone: a Connect flow\'s lookup of an unknown number answers customer_id "", its DISCONNECTED contact event through the EventBridge rule files the call on a new ticket once, and the next call\'s lookup knows the caller', async () => {
    // The instance is in the stack's region: Connect puts its contact events on that region's default bus.
    expect(CONNECT_INSTANCE_ARN.split(':')[3]).toBe(d.region);
    const phone = '+34600111222';
    const contactId = randomUUID();

    // The flow's "Invoke AWS Lambda function" block (the template's IntegrationAssociation): nobody holds the number yet.
    const unknown = await d.connectFlowInvoke(connectEvent('lookup-inbound', { contactId, phone }));
    expect(unknown, d.logs()).toEqual(EMPTY_LOOKUP);

    // The call ends: Connect's DISCONNECTED event, matched by the template's rule and delivered to its target.
    const ended = connectEvent('event-inbound-answered', { contactId });
    const [filed, ...others] = await d.putEvent(ended);
    expect(others, 'one rule and one target take a voice DISCONNECTED event').toEqual([]);
    expect(filed, d.logs()).toMatchObject({ handler: 'voice-events', attempts: 1, result: { outcome: 'filed', ticket_id: expect.any(String) } });
    const ticketId = (filed!.result as { ticket_id: string }).ticket_id;
    await d.settle();

    const ticket = (await getTicket(db, ticketId))!;
    // The answered call is the ticket's first response.
    expect(ticket, d.logs()).toMatchObject({ channel: 'voice', conversation_id: phone, first_response_at: expect.any(Number) });
    const callsOn = async () => (await listTimeline(db, ticketId)).filter((e): e is MessageEntry => e.type === 'message' && e.channel === 'voice');
    const [call, ...more] = await callsOn();
    expect(more).toEqual([]);
    expect(call).toMatchObject({
      direction: 'in', external_message_id: contactId, text: 'Phone call answered, talked 3 min 55 s, waited 45 s',
      extras: { call: { contact_id: contactId, direction: 'in', outcome: 'answered', wait_seconds: 45, talk_seconds: 235, disconnect_reason: 'CUSTOMER_DISCONNECT' } },
    });
    // The caller's number is a claim: an unverified voice identity of the ticket's customer.
    expect(await getIdentity(db, 'voice', phone)).toMatchObject({ customer_id: ticket.customer_id, phone_verified: false });

    // EventBridge delivers at least once: the same event again adds nothing.
    const [again] = await d.putEvent(ended);
    expect(again, d.logs()).toMatchObject({ handler: 'voice-events', result: { outcome: 'duplicate', ticket_id: ticketId } });
    await d.settle();
    expect(await callsOn()).toHaveLength(1);

    // The same number calls again: the flow learns who it is and their open ticket.
    const known = await d.connectFlowInvoke(connectEvent('lookup-inbound', { contactId: randomUUID(), phone }));
    expect(known, d.logs()).toMatchObject({ customer_id: ticket.customer_id, open_ticket_number: ticket.number, last_channel: 'voice', verified: 'false', sla_breached: 'false' });
  });

  it('knowledge base and orders (issue 19): a supervisor publishes a Russian article, the public help API finds it in another inflection; a forged order push is 401, a signed one is stored', async () => {
    const supervisor = await d.agentToken(randomUUID(), ['supervisor']);
    const put = await api('PUT', '/kb/articles/ru-delivery', supervisor, { title: 'Сроки доставки заказа', body: 'Доставка занимает 3–5 дней.', language: 'ru', status: 'published' });
    expect(put, d.logs()).toMatchObject({ status: 200 });
    const found = await d.http.request({ method: 'GET', path: `/help/search?q=${encodeURIComponent('где моя доставка')}&channel=webchat` });
    expect(found, d.logs()).toMatchObject({ status: 200, routeKey: 'GET /help/search' });
    expect(json(found)).toMatchObject({ language: 'ru', items: [{ id: 'ru-delivery' }], offer: ['ru-delivery'] });
    const secretsPath = d.assembly.fn('orders-webhook').environment.CONFLUO_SECRETS_PATH as string;
    const secret = (await d.aws.ssm.send(new GetParameterCommand({ Name: `${secretsPath}CONFLUO_ORDERS_WEBHOOK_SECRET`, WithDecryption: true }))).Parameter!.Value!;
    const body = JSON.stringify({ id: 'o-1', number: '51050', status: 'paid', items: [{ name: 'Kettle', quantity: 1 }], totals: { currency: 'EUR', total: 10 }, placed_at: '2026-12-01T10:00:00Z', customer: { email: 'nobody@else.example' } });
    const forged = await d.http.request({ method: 'POST', path: '/webhooks/orders', headers: { 'content-type': 'application/json', 'x-confluo-signature': signOrderBody(body, 'not-the-secret-but-32-characters-long') }, body });
    expect(forged, d.logs()).toMatchObject({ status: 401, routeKey: 'POST /webhooks/orders' });
    const signed = await d.http.request({ method: 'POST', path: '/webhooks/orders', headers: { 'content-type': 'application/json', 'x-confluo-signature': signOrderBody(body, secret) }, body });
    expect(signed, d.logs()).toMatchObject({ status: 200 });
    expect(json(signed)).toEqual({ id: 'o-1', result: 'stored', linked: false });
  });

  it('Shopify pull (issue 19): the schedule runs the bundled pull with the token it reads from SSM against the shop (simulated), and the order is stored', async () => {
    const [ruleId, ...others] = d.assembly.resourcesOf('AWS::Events::Rule').filter(([id, r]) => r.Properties?.ScheduleExpression !== undefined && id.startsWith('OrdersPull')).map(([id]) => id);
    expect(others).toEqual([]);
    d.platforms.shopify!.put(shopifyOrderNode({ id: 9001, name: '#61001', email: 'nobody-verified@else.example', updatedAt: '2026-12-01T10:00:00Z' }));
    const [result] = await d.fireSchedule(ruleId!);
    expect(result, d.logs()).toMatchObject({ status: 'caught_up', pages: 1, orders: 1, stored: 1, linked: 0 });
    expect(d.platforms.to('shopify').at(-1)!.request).toMatchObject({ method: 'POST', url: `https://${SYNTH_CONTEXT.shopifyShop}/admin/api/2026-10/graphql.json` });
    const stored = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: orderKeys.order('shopify:9001') }));
    expect(stored.Item).toMatchObject({ number: '61001', customer_id: null });
  });

  it('assignment: an agent offline past the team\'s offline return loses their unanswered ticket — the execution dispatch started runs the bundled assignment-offline', async () => {
    const sub = randomUUID();
    const lead = await d.agentToken(randomUUID(), ['supervisor']);
    const me = await d.agentToken(sub, ['agent']);
    expect(await api('PUT', '/teams/night', lead, { members: [sub], auto_assign: true, offline_return_minutes: 5 }), d.logs()).toMatchObject({ status: 200 });
    const now = d.clock.now();
    const id = ulid(now);
    const t: TicketRecord = {
      id, number: 'C-990001', status: 'new', priority: 'normal', category: null, tags: [], customer_id: randomUUID(), channel: 'telegram', conversation_id: '1', assignee: null, team: 'night',
      sla: null, survey: null, merged_into: null, previous_ticket_id: null, created_at: now, updated_at: now, last_inbound_at: now, last_outbound_at: null,
      first_response_at: null, resolved_at: null, closed_at: null, message_count: 1,
    };
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) }));
    expect(await api('PATCH', `/tickets/${id}`, me, { assignee: 'me' }), d.logs()).toMatchObject({ status: 200 });
    expect(await api('PUT', '/agents/me/presence', me, { presence: 'offline' }), d.logs()).toMatchObject({ status: 200 });
    await d.settle();
    const mine = json(await api('GET', '/agents', me)) as { items: Array<{ id: string; load: number; presence: string; teams: string[] }> };
    expect(mine.items.find((a) => a.id === sub)).toMatchObject({ load: 1, presence: 'offline', teams: ['night'] });
    d.advanceClock(6 * MIN);
    await d.settle();
    const [machine] = d.assembly.resourcesOf('AWS::StepFunctions::StateMachine').map(([mid]) => mid).filter((mid) => mid.startsWith('AssignmentWorkflow'));
    expect((await getTicket(db, id))!.assignee ?? null, JSON.stringify({ executions: d.stepFunctions.executions(machine!), errors: d.stepFunctions.errors })).toBeNull();
    expect(d.stepFunctions.executions(machine!).find((e) => e.name.startsWith('offline-'))).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('left nothing dead-lettered, kept every FIFO group in order, and ran each function in one execution environment', async () => {
    const queues = (await d.aws.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    for (const url of queues.filter((u) => /Dlq|Failures/.test(u))) {
      const depth = await d.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
      expect(depth.Attributes?.ApproximateNumberOfMessages, url).toBe('0');
    }
    for (const q of d.queues.values()) expect(q.violations).toEqual([]);
    expect(d.streams.flatMap((s) => s.batches).filter((b) => b.failedAt)).toEqual([]);
    expect(d.stepFunctions.errors).toEqual([]);
    const used = [...d.hosts.values()].filter((h) => h.invocations > 0).map((h) => `${h.opts.name}:${h.coldStarts}`).sort();
    expect(used).toEqual(d.assembly.functions().map((f) => `${f.handlerName}:1`).sort());
  });
});

/**
 * How DuckDB reads the Parquet type Athena reads as each Glue (Hive) type of the export tables:
 * string ↔ BYTE_ARRAY UTF8, bigint ↔ INT64, int ↔ INT32, double, boolean, timestamp ↔ INT64
 * TIMESTAMP, array<string> ↔ a LIST of strings.
 */
const DUCKDB_TYPE_OF_GLUE: Readonly<Record<string, string>> = {
  string: 'VARCHAR', bigint: 'BIGINT', int: 'INTEGER', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP', 'array<string>': 'VARCHAR[]',
};
