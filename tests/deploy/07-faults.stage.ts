/**
 * Stage 7 — faults injected into the emulated deployment, each a regression test for a defect of
 * issue 12:
 * - (i) SSM throttles the cold start's GetParameters (every SDK retry refused): that
 *   invocation fails, and the NEXT invocation of the same environment must read the secrets and
 *   succeed (issue 12 item 4: functions/runtime/aws.ts kept the rejected setup promise);
 * - (iii) SES rejects the e-mail reply (its From address is no longer a verified identity in moto):
 *   the reply must end `failed` with its reason on the ticket timeline (item 5: the SES exception
 *   escaped the adapter's error handling, the message was retried, dead-lettered, left `queued`);
 * - (ii) an unparseable inbound record must reach the inbound DLQ with its reason on the receive
 *   that finds it unparseable — on its 5th receive and on its 1st (item 9: it was retried until
 *   the 5th, holding its conversation for minutes).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DeleteIdentityCommand, VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../../functions/store/db.js';
import { listTickets, listTimeline } from '../../functions/store/reads.js';
import type { MessageEntry } from '../../functions/store/records.js';
import { addressOf, deploymentSigned, startDeployment, type Deployment } from './harness/deployment.js';
import { REPO_ROOT, synthesize, SYNTH_CONTEXT } from './support/assembly.js';
import { loadSamples } from '../helpers/samples.js';

const sample = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as { request: { headers: Record<string, string>; body: string } };

describe('stage 7: fault injection (issue 12 items 4, 5, 9)', () => {
  let d: Deployment;
  let db: Db;
  let inbound: { url: string; arn: string };
  let inboundDlq: { url: string; arn: string };

  beforeAll(async () => {
    const workDir = inject('deployWorkDir');
    d = await startDeployment({ workDir, assembly: await synthesize(workDir), emulators: inject('deployEmulators') });
    db = d.db();
    const queueId = (prefix: string) => d.assembly.resourcesOf('AWS::SQS::Queue').map(([id]) => id).find((id) => id.startsWith(prefix))!;
    inbound = d.queue(queueId('IngestInboundQueue'));
    inboundDlq = d.queue(queueId('IngestInboundDlq'));
  });
  afterAll(async () => { await d?.stop(); });

  it('(i) a cold start whose SSM read is throttled fails that invocation; the next invocation of the same environment succeeds', async () => {
    const webhook = deploymentSigned(sample('functions/channels/telegram/samples/01-text.json').request);
    const ingest = d.host('ingest');
    try {
      d.ssmFaults.arm();
      const first = await d.http.request({ method: 'POST', path: '/webhooks/telegram', headers: webhook.headers, body: webhook.body });
      d.ssmFaults.disarm();
      expect(d.ssmFaults.throttled, 'SSM was asked and refused').toBeGreaterThan(0);
      expect(first.status, 'the throttled cold start').toBe(500);

      const second = await d.http.request({ method: 'POST', path: '/webhooks/telegram', headers: webhook.headers, body: webhook.body });
      expect(ingest.coldStarts, 'the same execution environment').toBe(1);
      expect(second.status, `the next invocation\n${ingest.logs().slice(-5).join('\n')}`).toBe(200);
    } finally {
      d.ssmFaults.disarm();
      await ingest.recycle(); // whatever state the environment kept, later tests start clean
    }
  });

  it('(iii) an e-mail reply SES rejects ends failed, with its reason, on the ticket timeline', async () => {
    const from = addressOf(SYNTH_CONTEXT.emailFrom!);
    await d.aws.ses.send(new DeleteIdentityCommand({ Identity: from }));
    try {
      // Stamped now: SNS messages older than an hour are refused.
      const mail = loadSamples('email', { at: d.clock.now() }).find((s) => s.name === '01-text-utf8-v2')!.request;
      const res = await d.http.request({ method: 'POST', path: '/webhooks/email', headers: mail.headers, body: mail.body });
      expect(res.status, d.logs()).toBe(200);
      await d.settle();
      const tickets = (await listTickets(db, { limit: 50 })).items.filter((t) => t.channel === 'email');
      expect(tickets, d.logs()).toHaveLength(1);
      const replies = (await listTimeline(db, tickets[0]!.id)).filter((e): e is MessageEntry => e.type === 'message' && e.direction === 'out');
      expect(replies.length).toBeGreaterThan(0);
      for (const r of replies) {
        expect(r.delivery, `${r.outbound_kind} reply`).toBe('failed');
        expect((r as MessageEntry & { delivery_error?: unknown }).delivery_error, `${r.outbound_kind} reply's reason`).toEqual(expect.any(String));
      }
    } finally {
      await d.aws.ses.send(new VerifyEmailIdentityCommand({ EmailAddress: from }));
    }
  });

  /** A Telegram envelope as ingest enqueues it, whose body no parser can read. */
  const poison = async (group: string) => {
    const body = JSON.stringify({ v: 1, channel: 'telegram', request_id: randomUUID(), received_at: Date.now(), body_b64: Buffer.from('{"update_id":731200999,"message":').toString('base64'), headers: { 'content-type': 'application/json' }, query: {}, auth: null });
    const sent = await d.aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.url, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: randomUUID() }));
    return { id: sent.MessageId!, body };
  };
  const deadLettered = async () => {
    const got = await d.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: inboundDlq.url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }));
    return (got.Messages ?? []).map((m) => ({ body: m.Body, reason: m.MessageAttributes?.reason?.StringValue, receives: m.MessageAttributes?.receive_count?.StringValue }));
  };
  const processSource = () => d.queues.get('process')!;

  it('(ii) an unparseable inbound record on its 5th receive goes to the inbound DLQ with its reason', async () => {
    const p = await poison(`telegram:poison-${randomUUID().slice(0, 8)}`);
    // Four receives that never finished (as if four invocations had failed on it)…
    for (let i = 0; i < 4; i++) {
      const got = await d.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: inbound.url, MaxNumberOfMessages: 1, VisibilityTimeout: 0 }));
      expect(got.Messages?.[0]?.MessageId).toBe(p.id);
    }
    // …and the mapping's receive, the 5th.
    expect(await processSource().pollOnce()).toBe(1);
    expect(processSource().outcomes.at(-1)!.records[0]!.attributes.ApproximateReceiveCount).toBe('5');
    expect(await deadLettered()).toContainEqual({ body: p.body, reason: expect.stringMatching(/\S/), receives: '5' });
  });

  it('(ii) an unparseable inbound record on its 1st receive goes to the inbound DLQ with its reason at once', async () => {
    const p = await poison(`telegram:poison-${randomUUID().slice(0, 8)}`);
    expect(await processSource().pollOnce()).toBe(1);
    expect(processSource().outcomes.at(-1)!.records[0]!.attributes.ApproximateReceiveCount).toBe('1');
    expect(await deadLettered(), d.logs().split('\n').filter((l) => l.startsWith('[process]')).slice(-3).join('\n')).toContainEqual({ body: p.body, reason: expect.stringMatching(/\S/), receives: '1' });
  });
});
