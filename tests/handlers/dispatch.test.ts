/**
 * Dispatch isolates the reactions of one event: a reaction that throws never withholds the others
 * (acknowledgement, SLA start, an agent's reply), and the record is still reported so the stream
 * retries it; on redelivery every reaction runs again (they are idempotent).
 */
import { describe, expect, it } from 'vitest';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { makeDispatch, type Reaction } from '../../functions/handlers/dispatch.js';
import type { FeedEvent } from '../../functions/store/records.js';

const silent = { info: () => {}, error: () => {} };

function streamOf(...events: FeedEvent[]): DynamoDBStreamEvent {
  return {
    Records: events.map((e, i) => ({
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: String(100 + i), NewImage: marshall({ pk: `FEED#2026-12-06`, sk: e.id, ...e }) as never },
    })),
  } as DynamoDBStreamEvent;
}

const opened = (id: string): FeedEvent => ({ id, type: 'ticket.opened', at: 1, ticket_id: `T-${id}`, data: {} });

describe('dispatch', () => {
  it('runs every reaction of an event even when an earlier one throws, and reports the record for retry', async () => {
    const ran: string[] = [];
    const classification: Reaction = async () => { ran.push('classification'); throw new Error('rule engine down'); };
    const acknowledgement: Reaction = async (e) => { ran.push(`acknowledgement ${e.ticket_id}`); };
    const errors: Array<Record<string, unknown>> = [];
    const dispatch = makeDispatch({
      enqueueOutbound: async () => {},
      reactions: { 'ticket.opened': [classification, acknowledgement] },
      logger: { info: () => {}, error: (_m: unknown, ...facts: unknown[]) => { errors.push((facts[0] ?? {}) as Record<string, unknown>); } },
    });
    const r = await dispatch(streamOf(opened('E1'), opened('E2')));
    expect(ran).toEqual(['classification', 'acknowledgement T-E1']);
    // The failed record is reported (and, keeping order, nothing after it is acted on in this batch).
    expect(r.batchItemFailures).toEqual([{ itemIdentifier: '100' }]);
    expect(errors[0]).toMatchObject({ event_type: 'ticket.opened', event_id: 'E1', reaction: 'classification', error: 'Error' });
  });

  it('runs every reaction again on redelivery, and the record passes once the failing one recovers', async () => {
    let attempts = 0;
    const acks: string[] = [];
    const flaky: Reaction = async () => { if (++attempts === 1) throw new Error('throttled'); };
    const acknowledgement: Reaction = async (e) => { acks.push(e.id); };
    const dispatch = makeDispatch({ enqueueOutbound: async () => {}, reactions: { 'ticket.opened': [flaky, acknowledgement] }, logger: silent });
    const batch = streamOf(opened('E1'));
    expect((await dispatch(batch)).batchItemFailures).toHaveLength(1);
    expect((await dispatch(batch)).batchItemFailures).toEqual([]);
    expect(acks).toEqual(['E1', 'E1']);
  });
});
