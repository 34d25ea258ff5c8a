import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Processing } from '../../lib/processing.js';
import { Store } from '../../lib/store.js';
import { allowedActions, functionId, policyStatements, resourceId, testStack } from './helpers.js';

// GIVEN Processing wired to a Store and stand-in inbound/outbound queues
const built = (() => {
  const stack = testStack();
  const store = new Store(stack, 'Store');
  const inboundDlq = new Queue(stack, 'InboundDlq', { fifo: true });
  const inboundQueue = new Queue(stack, 'InboundQueue', { fifo: true, visibilityTimeout: Duration.seconds(180) });
  const outboundQueue = new Queue(stack, 'OutboundQueue', { fifo: true });
  const processing = new Processing(stack, 'Processing', { store, inboundQueue, inboundDlq, outboundQueue, escalationEmail: 'lead@example.com' });
  return { stack, processing, template: Template.fromStack(stack) };
})();
const { template } = built;
const tableId = resourceId(template, 'AWS::DynamoDB::Table', 'StoreTable');
const inboundId = resourceId(template, 'AWS::SQS::Queue', 'InboundQueue');
const outboundId = resourceId(template, 'AWS::SQS::Queue', 'OutboundQueue');
const failuresId = resourceId(template, 'AWS::SQS::Queue', 'ProcessingDispatchFailures');
const processId = functionId(template, 'ProcessingProcessFunction');
const dispatchId = functionId(template, 'ProcessingDispatchFunction');

describe('Processing: process function', () => {
  it('runs 30 s with 512 MB (the inbound visibility timeout is six times that)', () => {
    expect(template.toJSON().Resources[processId].Properties).toMatchObject({ Timeout: 30, MemorySize: 512 });
  });

  it('consumes the inbound queue in batches of 10 with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: processId },
      EventSourceArn: { 'Fn::GetAtt': [inboundId, 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('is bound to the table and may dead-letter poison records itself', () => {
    expect(template.toJSON().Resources[processId].Properties.Environment.Variables).toMatchObject({
      CONFLUO_TABLE_NAME: { Ref: tableId },
      CONFLUO_INBOUND_DLQ_URL: { Ref: resourceId(template, 'AWS::SQS::Queue', 'InboundDlq') },
    });
    expect(JSON.stringify(policyStatements(template, processId).filter((s) => JSON.stringify(s.Action).includes('sqs:SendMessage'))))
      .toContain(resourceId(template, 'AWS::SQS::Queue', 'InboundDlq'));
    expect(allowedActions(template, processId)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']));
    expect(allowedActions(template, processId)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
  });
});

describe('Processing: dispatch function', () => {
  const mapping = () => {
    const all = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    return all.find((m) => m.Properties.FunctionName.Ref === dispatchId)!.Properties;
  };

  it('follows the table stream from TRIM_HORIZON in batches of 100', () => {
    expect(mapping()).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
    });
  });

  it('bisects failing batches, retries 10 times, reports item failures and records give-ups in an SQS queue', () => {
    expect(mapping()).toMatchObject({
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failuresId, 'Arn'] } } },
    });
  });

  it('is only invoked for new change-feed items (INSERTs whose pk begins with FEED#)', () => {
    const filters = mapping().FilterCriteria.Filters as Array<{ Pattern: string }>;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'FEED#' }] } } } },
    ]);
  });

  it('records failures in an encrypted standard queue', () => {
    const props = template.toJSON().Resources[failuresId].Properties;
    expect(props.FifoQueue).toBeUndefined();
    expect(props.SqsManagedSseEnabled).toBe(true);
  });

  it('is bound to the table and the outbound queue, with the escalation e-mail', () => {
    expect(template.toJSON().Resources[dispatchId].Properties.Environment.Variables).toMatchObject({
      CONFLUO_TABLE_NAME: { Ref: tableId },
      CONFLUO_OUTBOUND_QUEUE_URL: { Ref: outboundId },
      ESCALATION_EMAIL: 'lead@example.com',
    });
    expect(allowedActions(template, dispatchId)).toEqual(expect.arrayContaining(['sqs:SendMessage', 'dynamodb:PutItem', 'dynamodb:GetRecords']));
  });

  it('keeps the process function away from the outbound queue', () => {
    expect(JSON.stringify(policyStatements(template, dispatchId))).toContain(outboundId);
    expect(JSON.stringify(policyStatements(template, processId))).not.toContain(outboundId);
  });
});

describe('Processing metrics', () => {
  const dimensions = (metric: ReturnType<Processing['metricDlqDepth']>) =>
    built.stack.resolve(metric.toMetricConfig().metricStat!.dimensions);

  it('reads the inbound DLQ depth', () => {
    expect(built.processing.metricDlqDepth().metricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(dimensions(built.processing.metricDlqDepth())).toEqual([
      { name: 'QueueName', value: { 'Fn::GetAtt': [resourceId(template, 'AWS::SQS::Queue', 'InboundDlq'), 'QueueName'] } },
    ]);
  });

  it('reads the dispatch failure queue depth', () => {
    expect(dimensions(built.processing.metricDispatchFailures())).toEqual([
      { name: 'QueueName', value: { 'Fn::GetAtt': [failuresId, 'QueueName'] } },
    ]);
  });
});

describe('Processing: SES S3-action mail bucket', () => {
  const build = (props: { inboundMailBucketName?: string; inboundMailPrefix?: string }) => {
    const stack = testStack('Mail');
    const store = new Store(stack, 'Store');
    const q = (id: string) => new Queue(stack, id, { fifo: true });
    new Processing(stack, 'Processing', { store, inboundQueue: q('In'), inboundDlq: q('Dlq'), outboundQueue: q('Out'), ...props });
    return { template: Template.fromStack(stack) };
  };

  it('lets the process function read mail objects under the receipt rule prefix, and nothing else of the bucket', () => {
    const { template } = build({ inboundMailBucketName: 'acme-inbound-mail', inboundMailPrefix: 'ses/' });
    const s3 = policyStatements(template, functionId(template, 'ProcessingProcessFunction')).filter((st) => JSON.stringify(st.Action).includes('s3:'));
    expect(s3).toHaveLength(1);
    expect(s3[0]!.Action).toBe('s3:GetObject');
    expect(JSON.stringify(s3[0]!.Resource)).toContain(':s3:::acme-inbound-mail/ses/*');
  });

  it('grants no S3 access without a mail bucket', () => {
    const { template } = build({});
    const s3 = policyStatements(template, functionId(template, 'ProcessingProcessFunction')).filter((st) => JSON.stringify(st.Action).includes('s3:'));
    expect(s3).toEqual([]);
  });
});
