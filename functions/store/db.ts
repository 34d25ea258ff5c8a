/** DynamoDB access: one document client per process, with an optional round-trip counter (bench). */
import { DynamoDBClient, type DynamoDBClientConfig, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

export interface Db {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Number of DynamoDB API calls made through this client (each call is one round trip). */
  readonly roundTrips: () => number;
  /** Retention of what this client writes (store/inbound.ts `timelineItem`, `feedItem` set `ttl` from it). */
  readonly retention?: Retention;
}

/** Days after which DynamoDB's TTL deletes messages and change-feed events; absent: kept. */
export interface Retention { readonly messageTtlDays?: number; readonly feedTtlDays?: number }

/** The retention settings (`CONFLUO_MESSAGE_TTL_DAYS`, `CONFLUO_FEED_TTL_DAYS`). */
export function retentionOf(config: { readonly CONFLUO_MESSAGE_TTL_DAYS?: string | undefined; readonly CONFLUO_FEED_TTL_DAYS?: string | undefined }): Retention {
  return {
    ...(config.CONFLUO_MESSAGE_TTL_DAYS ? { messageTtlDays: Number(config.CONFLUO_MESSAGE_TTL_DAYS) } : {}),
    ...(config.CONFLUO_FEED_TTL_DAYS ? { feedTtlDays: Number(config.CONFLUO_FEED_TTL_DAYS) } : {}),
  };
}

/** The `ttl` (epoch seconds) of something written at `atMs` and kept `days`. */
export const ttlAfter = (atMs: number, days: number): number => Math.floor(atMs / 1000) + days * 86_400;

export function createDb(tableName: string, clientConfig: DynamoDBClientConfig = {}, retention?: Retention): Db {
  const client = new DynamoDBClient(clientConfig);
  let calls = 0;
  client.middlewareStack.add((next) => async (args) => { calls += 1; return next(args); }, { step: 'initialize', name: 'confluoRoundTripCounter' });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
  return { doc, tableName, roundTrips: () => calls, ...(retention ? { retention } : {}) };
}

/** Cancellation reason codes of a failed transaction, index-aligned with its items. */
export function cancellationCodes(e: unknown): string[] | null {
  if (e instanceof TransactionCanceledException || (e as { name?: string })?.name === 'TransactionCanceledException') {
    return ((e as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  }
  return null;
}

/**
 * One optimistic transaction: `conflict` when a condition no longer held or another transaction
 * raced it (the caller re-reads and plans again); any other failure is thrown.
 */
export async function commitOrConflict(db: Db, items: NonNullable<TransactWriteCommandInput['TransactItems']>): Promise<'committed' | 'conflict'> {
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
    return 'committed';
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes && codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return 'conflict';
    throw e;
  }
}

/**
 * Put `item` as version `expectedVersion + 1`, only if the stored one is still `expectedVersion`
 * (0: nothing stored yet). False on a lost race: the caller answers 409 or re-reads.
 */
export async function putVersioned(db: Db, item: Record<string, unknown> & { pk: string; sk: string }, expectedVersion: number): Promise<boolean> {
  try {
    await db.doc.send(new PutCommand({
      TableName: db.tableName, Item: { ...item, version: expectedVersion + 1 },
      ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
      ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
    }));
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}

export function isConditionalCheckFailed(e: unknown): boolean {
  return (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
}
