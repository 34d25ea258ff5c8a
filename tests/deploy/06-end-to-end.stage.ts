/**
 * Stage 6 — the bundled handlers end to end through the emulated deployment (harness/): a signed
 * Telegram webhook through the HTTP API → ingest host → moto SQS (FIFO) → process host → DynamoDB
 * Local → table stream (the template's filter) → dispatch host → the acknowledgement on the
 * outbound queue and the SLA execution started in moto → send host → Telegram's sendMessage, which
 * reaches the fake platform (the outbox), never the internet. Then the schedule rule fires the
 * export host, which writes its Parquet partitions to the export bucket in moto.
 *
 * Phase 1 of the end-to-end stage: the smoke that proves the harness. The full scenario (web chat,
 * e-mail, the Agent API as the browser uses it, SLA, survey link, export) is scenario code on the
 * same harness.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../../functions/store/db.js';
import { getIdentity, getTicket, listTimeline } from '../../functions/store/reads.js';
import type { MessageEntry } from '../../functions/store/records.js';
import { startDeployment, type Deployment } from './harness/deployment.js';
import { REPO_ROOT, synthesize } from './support/assembly.js';

const sample = JSON.parse(readFileSync(join(REPO_ROOT, 'functions/channels/telegram/samples/01-text.json'), 'utf8')) as { request: { headers: Record<string, string>; body: string } };

describe('stage 6: end to end through the bundled handlers', () => {
  let d: Deployment;
  let db: Db;

  beforeAll(async () => {
    const workDir = inject('deployWorkDir');
    d = await startDeployment({ workDir, assembly: await synthesize(workDir) });
    db = d.db();
  });
  afterAll(async () => { await d?.stop(); });

  it('takes a signed Telegram message to a ticket, an acknowledgement on Telegram and an SLA execution', async () => {
    const [inboundId] = d.assembly.resourcesOf('AWS::SQS::Queue').map(([id]) => id).filter((id) => id.startsWith('IngestInboundQueue'));
    const inbound = d.queue(inboundId!);

    const res = await d.http.request({ method: 'POST', path: '/webhooks/telegram', headers: sample.request.headers, body: sample.request.body });
    expect(res, d.logs()).toMatchObject({ status: 200, routeKey: 'POST /webhooks/{channel}' });
    const waiting = await d.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: inbound.url, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(waiting.Attributes?.ApproximateNumberOfMessages).toBe('1');

    await d.settle();

    // process: the customer, their identity and a new ticket in the table.
    const identity = await getIdentity(db, 'telegram', '48120077');
    expect(identity, d.logs()).toBeDefined();
    const ticket = await getTicket(db, identity!.ticket_hint!);
    expect(ticket).toMatchObject({ status: 'new', channel: 'telegram', conversation_id: '48120077' });

    // dispatch: woken only by change-feed INSERTs — the ticket and identity writes above were on
    // the stream too, and the template's FilterCriteria kept them from dispatch.
    const stream = d.streams[0]!;
    const delivered = stream.batches.flatMap((b) => b.records);
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((r) => r.eventName === 'INSERT' && (r.dynamodb?.NewImage?.pk as { S?: string } | undefined)?.S?.startsWith('FEED#'))).toBe(true);

    // send: the acknowledgement reached Telegram's sendMessage (the fake) and is recorded as sent.
    const calls = d.platforms.to('telegram');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ fn: 'send', request: { method: 'POST', url: expect.stringMatching(/^https:\/\/api\.telegram\.org\/bot[^/]+\/sendMessage$/) } });
    expect(JSON.parse(calls[0]!.request.body!)).toMatchObject({ chat_id: 48120077, text: expect.stringContaining(ticket!.number) });
    const ack = (await listTimeline(db, ticket!.id)).filter((e): e is MessageEntry => e.type === 'message' && e.direction === 'out');
    expect(ack).toEqual([expect.objectContaining({ outbound_kind: 'acknowledgement', delivery: 'sent' })]);

    // Step Functions: dispatch started the ticket's SLA execution in moto; it waits for its first threshold.
    const [slaId] = d.assembly.resourcesOf('AWS::StepFunctions::StateMachine').map(([id]) => id).filter((id) => id.startsWith('SlaWorkflow'));
    const started = await d.aws.sfn.send(new ListExecutionsCommand({ stateMachineArn: d.phys.ref(slaId!) }));
    expect(started.executions?.map((e) => e.name)).toEqual([`${ticket!.id}-1`]);
    const [execution] = d.stepFunctions.executions(slaId!);
    expect(execution).toMatchObject({ status: 'RUNNING', state: 'WaitUntilDue' });
    expect(execution!.waitUntil).toBeGreaterThan(Date.now());

    // Nothing dead-lettered, no FIFO order broken, one cold start per function used.
    const queues = (await d.aws.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    for (const url of queues.filter((u) => /Dlq/.test(u))) {
      const depth = await d.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
      expect(depth.Attributes?.ApproximateNumberOfMessages, url).toBe('0');
    }
    for (const q of d.queues.values()) expect(q.violations).toEqual([]);
    const used = [...d.hosts.values()].filter((h) => h.invocations > 0).map((h) => `${h.opts.name}:${h.coldStarts}`).sort();
    expect(used).toEqual(['dispatch:1', 'ingest:1', 'process:1', 'send:1']);
  });

  it('runs the hourly export from the schedule rule into the export bucket (one Parquet partition per dataset)', async () => {
    const ruleId = d.assembly.resourcesOf('AWS::Events::Rule')[0]![0];
    const [result] = await d.fireSchedule(ruleId) as Array<{ status: string; rows: Record<string, number> }>;
    expect(result, d.logs()).toMatchObject({ status: 'exported' });
    expect(result!.rows.tickets).toBeGreaterThan(0);
    const [bucketId] = d.assembly.resourcesOf('AWS::S3::Bucket').map(([id]) => id).filter((id) => id.startsWith('ExportBucket'));
    const objects = (await d.aws.s3.send(new ListObjectsV2Command({ Bucket: d.phys.ref(bucketId!) }))).Contents ?? [];
    expect(objects.map((o) => o.Key!.split('/')[0]).sort()).toEqual(Object.keys(result!.rows).sort());
    for (const o of objects) expect(o.Key).toMatch(/^[a-z]+\/dt=\d{4}-\d{2}-\d{2}\/part-0\.parquet$/);
  });
});
