/**
 * The local stream poller's recovery from stale shard iterators (failure paths of the Streams
 * API, so mocked): DynamoDB Local refuses an iterator taken on a then-empty shard with
 * TrimmedDataAccessException, and iterators expire. The poller takes a new one from its
 * checkpoint: every record is delivered once, none skipped.
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, TrimmedDataAccessException, ExpiredIteratorException, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { StreamPoller } from '../../local/stream-poller.js';

const feedRecord = (seq: string): _Record => ({
  eventID: `ev-${seq}`, eventName: 'INSERT',
  dynamodb: { SequenceNumber: seq, NewImage: { pk: { S: `FEED#2026-11-23` }, sk: { S: `E#${seq}` } } },
});

function setup() {
  const client = new DynamoDBStreamsClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' });
  const mock = mockClient(client);
  mock.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } });
  const delivered: string[] = [];
  const poller = new StreamPoller({
    client, streamArn: 'arn:aws:dynamodb:local:000000000000:table/t/stream/x',
    handler: async (e: DynamoDBStreamEvent) => { delivered.push(...e.Records.map((r) => r.dynamodb!.SequenceNumber!)); },
  });
  return { mock, poller, delivered };
}

describe('local stream poller', () => {
  it('takes a new iterator from its checkpoint when DynamoDB Local calls the cached one trimmed, delivering each record once', async () => {
    const { mock, poller, delivered } = setup();
    mock.on(GetShardIteratorCommand, { ShardIteratorType: 'TRIM_HORIZON' }).resolves({ ShardIterator: 'it-horizon' });
    mock.on(GetShardIteratorCommand, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '002' }).resolves({ ShardIterator: 'it-after-2' });
    mock.on(GetRecordsCommand, { ShardIterator: 'it-horizon' }).resolves({ Records: [feedRecord('001'), feedRecord('002')], NextShardIterator: 'it-next' });
    mock.on(GetRecordsCommand, { ShardIterator: 'it-next' }).rejectsOnce(new TrimmedDataAccessException({ message: 'The operation attempted to read past the oldest stream record in a shard.', $metadata: {} }));
    mock.on(GetRecordsCommand, { ShardIterator: 'it-after-2' }).resolves({ Records: [feedRecord('003')], NextShardIterator: 'it-after-3' });
    mock.on(GetRecordsCommand, { ShardIterator: 'it-after-3' }).resolves({ Records: [], NextShardIterator: 'it-after-3' });

    expect(await poller.drain()).toBe(3);
    expect(delivered).toEqual(['001', '002', '003']);
    const renewedFrom = mock.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input.ShardIteratorType);
    expect(renewedFrom).toEqual(['TRIM_HORIZON', 'AFTER_SEQUENCE_NUMBER']);
  });

  it('renews an expired iterator too, but gives up (and reports) when renewing never helps', async () => {
    const { mock, poller, delivered } = setup();
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    mock.on(GetRecordsCommand).rejects(new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} }));
    await expect(poller.drain()).rejects.toThrow(/expired/i);
    expect(mock.commandCalls(GetRecordsCommand)).toHaveLength(4); // the first try and three renewals
    expect(delivered).toEqual([]);
  });

  it('does not swallow other errors', async () => {
    const { mock, poller } = setup();
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    mock.on(GetRecordsCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalServerError' }));
    await expect(poller.drain()).rejects.toThrow('boom');
    expect(mock.commandCalls(GetRecordsCommand)).toHaveLength(1);
  });
});
