/** DynamoDB access: one document client per process, with an optional round-trip counter (bench). */
import { DynamoDBClient, type DynamoDBClientConfig, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface Db {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Number of DynamoDB API calls made through this client (each call is one round trip). */
  readonly roundTrips: () => number;
}

export function createDb(tableName: string, clientConfig: DynamoDBClientConfig = {}): Db {
  const client = new DynamoDBClient(clientConfig);
  let calls = 0;
  client.middlewareStack.add((next) => async (args) => { calls += 1; return next(args); }, { step: 'initialize', name: 'confluoRoundTripCounter' });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
  return { doc, tableName, roundTrips: () => calls };
}

/** Cancellation reason codes of a failed transaction, index-aligned with its items. */
export function cancellationCodes(e: unknown): string[] | null {
  if (e instanceof TransactionCanceledException || (e as { name?: string })?.name === 'TransactionCanceledException') {
    return ((e as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  }
  return null;
}

export function isConditionalCheckFailed(e: unknown): boolean {
  return (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
}
