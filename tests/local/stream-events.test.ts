/**
 * The local stream event source (local/stream-events.ts): records read from DynamoDB Local's
 * stream become the DynamoDBRecord Lambda passes, the synthesised template's filter decides which
 * reach dispatch, each filter rule kind behaves as documented, and the template's mapping
 * settings are read with Lambda's defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Template as CfnTemplate } from '../../local/template.js';
import {
  eventSourceMappingsOf, matchesPattern, parseFilterCriteria, passesFilters, toLambdaRecord, StreamEventError,
  type QueueEventSourceMapping, type StreamEventSourceMapping,
} from '../../local/stream-events.js';
import { ensureTable } from '../../local/table.js';
import { freshTable, LOCAL_AWS } from '../helpers/ddb.js';
import { synthConfluo } from '../infra/helpers.js';

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/Confluo/stream/2026-11-23T10:00:00.000';

let mappings: { streams: StreamEventSourceMapping[]; queues: QueueEventSourceMapping[] };
let template: CfnTemplate;
beforeAll(() => {
  template = synthConfluo().template.toJSON() as CfnTemplate;
  mappings = eventSourceMappingsOf(template);
});

// ---------------------------------------------------------------------------------------------
// Record shape

describe('a GetRecords record as Lambda passes it', () => {
  const sdkRecord: _Record = {
    eventID: 'c81e728d9d4c2f636f067f89cc14862c',
    eventName: 'MODIFY',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-11-23T10:15:30.900Z'),
      Keys: { pk: { S: 'FEED#2026-11-23' }, sk: { S: 'E#01' } },
      NewImage: {
        pk: { S: 'FEED#2026-11-23' }, sk: { S: 'E#01' }, n: { N: '42' }, flag: { BOOL: true }, none: { NULL: true },
        blob: { B: Uint8Array.from([0, 1, 254, 255]) },
        blobs: { BS: [Uint8Array.from([1]), Uint8Array.from([2, 3])] },
        nested: { M: { inner: { L: [{ S: 'x' }, { B: Uint8Array.from([9]) }] } } },
        tags: { SS: ['a', 'b'] },
      },
      SequenceNumber: '000000000000000000101',
      SizeBytes: 123,
      StreamViewType: 'NEW_IMAGE',
    },
    userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
  };

  it('has epoch seconds, base64 binaries, the stream ARN and the function\'s region', () => {
    const r = toLambdaRecord(sdkRecord, { eventSourceARN: STREAM_ARN, awsRegion: 'eu-west-1' });
    expect(r).toEqual({
      eventID: 'c81e728d9d4c2f636f067f89cc14862c',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      eventSourceARN: STREAM_ARN,
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.parse('2026-11-23T10:15:30Z') / 1000),
        Keys: { pk: { S: 'FEED#2026-11-23' }, sk: { S: 'E#01' } },
        NewImage: {
          pk: { S: 'FEED#2026-11-23' }, sk: { S: 'E#01' }, n: { N: '42' }, flag: { BOOL: true }, none: { NULL: true },
          blob: { B: 'AAH+/w==' },
          blobs: { BS: ['AQ==', 'AgM='] },
          nested: { M: { inner: { L: [{ S: 'x' }, { B: 'CQ==' }] } } },
          tags: { SS: ['a', 'b'] },
        },
        SequenceNumber: '000000000000000000101',
        SizeBytes: 123,
        StreamViewType: 'NEW_IMAGE',
      },
    });
    // What a handler receives is JSON in AWS: the record survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('refuses a record without eventID, eventName or sequence number', () => {
    for (const broken of [{ ...sdkRecord, eventID: undefined }, { ...sdkRecord, eventName: undefined }, { ...sdkRecord, dynamodb: { ...sdkRecord.dynamodb, SequenceNumber: undefined } }]) {
      expect(() => toLambdaRecord(broken, { eventSourceARN: STREAM_ARN })).toThrow(StreamEventError);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The template's dispatch mapping, on DynamoDB Local's real stream

describe('the dispatch stream mapping of the synthesised template', () => {
  const dispatch = () => {
    const found = mappings.streams.filter((m) => m.handler === 'dispatch');
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  it('reads the settings Lambda applies', () => {
    const m = dispatch();
    expect(m).toMatchObject({
      source: 'dynamodb', enabled: true, batchSize: 100, startingPosition: 'TRIM_HORIZON', bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 10, maximumRecordAgeInSeconds: -1, parallelizationFactor: 1,
      functionResponseTypes: ['ReportBatchItemFailures'], reportBatchItemFailures: true,
      onFailure: { type: 'AWS::SQS::Queue' },
    });
    expect(template.Resources[m.tableLogicalId]!.Type).toBe('AWS::DynamoDB::Table');
    expect(template.Resources[m.functionLogicalId]!.Type).toBe('AWS::Lambda::Function');
    expect(m.filterPatterns).toEqual([{ eventName: ['INSERT'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'FEED#' }] } } } }]);
  });

  it('reads the SQS mappings: process from the inbound queue, send from the outbound queue, media from the media queue', () => {
    const byHandler = Object.fromEntries(mappings.queues.map((q) => [q.handler, q]));
    expect(Object.keys(byHandler).sort()).toEqual(['media', 'process', 'send']);
    // The process mapping is capped (lib/processing.ts PROCESS_MAX_CONCURRENCY: flood control); the
    // media downloads run 5 at a time in batches of 5 (lib/inbound-media.ts).
    const expected = { process: { batchSize: 10, maximumConcurrency: 10 }, send: { batchSize: 10, maximumConcurrency: null }, media: { batchSize: 5, maximumConcurrency: 5 } };
    for (const q of mappings.queues) {
      expect(q).toMatchObject({ source: 'sqs', enabled: true, reportBatchItemFailures: true, filterPatterns: [], ...expected[q.handler as keyof typeof expected] });
      expect(template.Resources[q.queueLogicalId]!.Type).toBe('AWS::SQS::Queue');
    }
    expect(byHandler.process!.queueLogicalId).toMatch(/^IngestInboundQueue/);
    expect(byHandler.send!.queueLogicalId).toMatch(/^OutboundOutboundQueue/);
    expect(byHandler.media!.queueLogicalId).toMatch(/^InboundMedia/);
  });

  describe('on DynamoDB Local', () => {
    let records: DynamoDBRecord[] = [];
    let streams: DynamoDBStreamsClient;
    let raw: DynamoDBClient;
    let before = 0;

    beforeAll(async () => {
      before = Math.floor(Date.now() / 1000);
      const { tableName, endpoint } = await freshTable('stream-events');
      raw = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
      streams = new DynamoDBStreamsClient({ endpoint, ...LOCAL_AWS });
      const feed = { pk: { S: 'FEED#2026-11-23' }, sk: { S: 'E#0001' } };
      await raw.send(new PutItemCommand({ TableName: tableName, Item: { ...feed, kind: { S: 'message.received' } } }));
      await raw.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'TICKET#T1' }, sk: { S: 'META' }, status: { S: 'open' } } }));
      await raw.send(new UpdateItemCommand({ TableName: tableName, Key: feed, UpdateExpression: 'SET attempts = :n', ExpressionAttributeValues: { ':n': { N: '1' } } }));
      await raw.send(new DeleteItemCommand({ TableName: tableName, Key: feed }));

      const { streamArn } = await ensureTable(raw, tableName); // the table exists: this only reads its stream ARN
      const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
      const sdkRecords: _Record[] = [];
      for (const shard of shards) {
        let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        for (let page = 0; iterator && page < 10; page++) {
          const res = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
          sdkRecords.push(...(res.Records ?? []));
          if (!res.Records?.length) break;
          iterator = res.NextShardIterator;
        }
      }
      records = sdkRecords.map((r) => toLambdaRecord(r, { eventSourceARN: streamArn }));
    });
    afterAll(() => { raw?.destroy(); streams?.destroy(); });

    it('gives Lambda-shaped records: epoch-second times, the stream ARN, required fields', () => {
      expect(records.map((r) => [r.eventName, r.dynamodb?.Keys?.pk?.S])).toEqual([
        ['INSERT', 'FEED#2026-11-23'], ['INSERT', 'TICKET#T1'], ['MODIFY', 'FEED#2026-11-23'], ['REMOVE', 'FEED#2026-11-23'],
      ]);
      for (const r of records) {
        expect(r).toMatchObject({ eventSource: 'aws:dynamodb', eventVersion: '1.1', awsRegion: 'us-east-1', eventSourceARN: expect.stringContaining('/stream/') });
        expect(typeof r.eventID).toBe('string');
        expect(typeof r.dynamodb!.ApproximateCreationDateTime).toBe('number');
        // Seconds, not milliseconds. DynamoDB Local rounds the time down to the minute (AWS: to the second).
        expect(r.dynamodb!.ApproximateCreationDateTime).toBeGreaterThanOrEqual(before - 60);
        expect(r.dynamodb!.ApproximateCreationDateTime).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
        expect(Number.isInteger(r.dynamodb!.ApproximateCreationDateTime)).toBe(true);
      }
    });

    it('passes what the template\'s filter passes: new FEED# items only — not their modifies, not tickets, not removes', () => {
      const passed = records.filter((r) => passesFilters(dispatch().filterPatterns, r)).map((r) => `${r.eventName} ${r.dynamodb!.Keys!.pk!.S}`);
      expect(passed).toEqual(['INSERT FEED#2026-11-23']);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Filter rules

describe('Lambda event filter rules', () => {
  const event = {
    eventName: 'INSERT',
    dynamodb: { NewImage: { pk: { S: 'FEED#2026-11-23' }, kind: { S: 'Message.Received' }, file: { S: 'photo.PNG' }, empty: { S: '' } } },
    count: 7,
    price: 12.5,
    flag: true,
    nothing: null,
    tags: ['red', 'green'],
    items: [{ sku: 'a1', qty: 2 }, { sku: 'b2', qty: 0 }],
  };
  const matches = (pattern: Record<string, unknown>) => matchesPattern(parseFilterCriteria({ Filters: [{ Pattern: JSON.stringify(pattern) }] })[0]!, event);

  it.each<[string, Record<string, unknown>, boolean]>([
    ['exact string', { eventName: ['INSERT'] }, true],
    ['exact string, one of several', { eventName: ['MODIFY', 'INSERT'] }, true],
    ['exact string, no match', { eventName: ['REMOVE'] }, false],
    ['string never equals number', { count: ['7'] }, false],
    ['exact number', { count: [7] }, true],
    ['boolean', { flag: [true] }, true],
    ['null matches a null value', { nothing: [null] }, true],
    ['null does not match a missing field', { missing: [null] }, false],
    ['empty string', { dynamodb: { NewImage: { empty: { S: [''] } } } }, true],
    ['nested prefix', { dynamodb: { NewImage: { pk: { S: [{ prefix: 'FEED#' }] } } } }, true],
    ['nested prefix, no match', { dynamodb: { NewImage: { pk: { S: [{ prefix: 'TICKET#' }] } } } }, false],
    ['prefix ignoring case', { dynamodb: { NewImage: { pk: { S: [{ prefix: { 'equals-ignore-case': 'feed#' } }] } } } }, true],
    ['suffix', { dynamodb: { NewImage: { file: { S: [{ suffix: '.PNG' }] } } } }, true],
    ['suffix is case-sensitive', { dynamodb: { NewImage: { file: { S: [{ suffix: '.png' }] } } } }, false],
    ['equals-ignore-case', { dynamodb: { NewImage: { kind: { S: [{ 'equals-ignore-case': 'message.received' }] } } } }, true],
    ['anything-but a list', { eventName: [{ 'anything-but': ['REMOVE', 'MODIFY'] }] }, true],
    ['anything-but a value it has', { eventName: [{ 'anything-but': 'INSERT' }] }, false],
    ['anything-but prefix', { eventName: [{ 'anything-but': { prefix: 'IN' } }] }, false],
    ['anything-but suffix', { eventName: [{ 'anything-but': { suffix: 'FY' } }] }, true],
    ['anything-but needs the field', { missing: [{ 'anything-but': ['x'] }] }, false],
    ['numeric range', { count: [{ numeric: ['>', 0, '<=', 7] }] }, true],
    ['numeric range, outside', { price: [{ numeric: ['>=', 13] }] }, false],
    ['numeric equals', { price: [{ numeric: ['=', 12.5] }] }, true],
    ['numeric ignores strings', { eventName: [{ numeric: ['>', 0] }] }, false],
    ['exists', { flag: [{ exists: true }] }, true],
    ['exists on a missing field', { missing: [{ exists: true }] }, false],
    ['does not exist', { missing: [{ exists: false }] }, true],
    ['exists only on leaves: an object does not exist', { dynamodb: [{ exists: true }] }, false],
    ['wildcard', { dynamodb: { NewImage: { file: { S: [{ wildcard: 'photo.*' }] } } } }, true],
    ['wildcard, no match', { dynamodb: { NewImage: { file: { S: [{ wildcard: '*.jpg' }] } } } }, false],
    ['array value: any element', { tags: ['green'] }, true],
    ['array of objects: fields from one element', { items: { sku: ['b2'], qty: [0] } }, true],
    ['array of objects: not across elements', { items: { sku: ['a1'], qty: [0] } }, false],
    ['all fields must match', { eventName: ['INSERT'], count: [8] }, false],
    ['$or', { $or: [{ eventName: ['REMOVE'] }, { count: [7] }] }, true],
    ['$or, none', { $or: [{ eventName: ['REMOVE'] }, { count: [8] }] }, false],
    ['a missing parent fails its nested rules', { dynamodb: { OldImage: { pk: { S: [{ prefix: 'FEED#' }] } } } }, false],
  ])('%s', (_, pattern, expected) => {
    expect(matches(pattern)).toBe(expected);
  });

  it('passes a record when ANY pattern matches, and every record without patterns', () => {
    const patterns = parseFilterCriteria({ Filters: [{ Pattern: '{"eventName":["REMOVE"]}' }, { Pattern: '{"count":[7]}' }] });
    expect(passesFilters(patterns, event)).toBe(true);
    expect(passesFilters(patterns.slice(0, 1), event)).toBe(false);
    expect(passesFilters([], event)).toBe(true);
  });

  it('refuses patterns it cannot evaluate instead of guessing', () => {
    for (const bad of ['not json', '[]', '{"a":[]}', '{"a":"x"}', '{"a":[{"cidr":"10.0.0.0/8"}]}', '{"a":[{"numeric":[">","1"]}]}', '{"a":[{"wildcard":"a**b"}]}', '{"a":[{"prefix":1}]}', '{"$or":{"a":["x"]}}']) {
      expect(() => parseFilterCriteria({ Filters: [{ Pattern: bad }] }), bad).toThrow(StreamEventError);
    }
  });
});
