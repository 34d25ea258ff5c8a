/**
 * Local fan-out of the change feed for `GET /api/v1/events/stream` (Server-Sent Events): the
 * stream poller's batches pass through `tap`, and every FEED item the dispatch handler accepted
 * is pushed to the open streams, in commit order. (In AWS the web inbox polls `GET /events`.)
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { FeedEvent } from '../functions/store/records.js';

export type FeedListener = (event: FeedEvent & { sk: string }) => void;

export class FeedHub {
  private readonly listeners = new Set<FeedListener>();

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  get size(): number { return this.listeners.size; }

  /** The stream handler, publishing what it processed (up to a reported failure, which is redelivered). */
  tap(handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>) {
    return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse | void> => {
      const result = await handler(event);
      const failed = result && result.batchItemFailures.length ? result.batchItemFailures[0]!.itemIdentifier : undefined;
      for (const record of event.Records) {
        if (failed !== undefined && record.dynamodb?.SequenceNumber === failed) break;
        const image = record.dynamodb?.NewImage;
        if (!image || record.eventName !== 'INSERT') continue;
        const item = unmarshall(image as Record<string, AttributeValue>);
        if (typeof item.pk !== 'string' || !item.pk.startsWith('FEED#')) continue;
        const { pk: _pk, ...rest } = item;
        for (const l of this.listeners) {
          try { l(rest as FeedEvent & { sk: string }); } catch { /* a broken stream must not stop dispatch */ }
        }
      }
      return result;
    };
  }
}
