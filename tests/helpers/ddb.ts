/** A fresh table on the run's DynamoDB Local (started once in global-setup) per test file. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../functions/store/db.js';
import { ensureTable } from '../../local/table.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.js';

export const LOCAL_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export function ddbEndpoint(): string {
  return inject('ddbEndpoint');
}

export async function freshTable(prefix = 'test', endpoint = ddbEndpoint()): Promise<{ db: Db; tableName: string; endpoint: string }> {
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  const raw = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  await ensureTable(raw, tableName);
  raw.destroy();
  return { db: createDb(tableName, { endpoint, ...LOCAL_AWS }), tableName, endpoint };
}

/**
 * A DynamoDB Local of one's own, for a file whose load would slow the shared one down for every
 * later file: DynamoDB Local's transactions get several times slower after thousands of
 * conflicting TransactWriteItems (measured: a 3-item transaction 14 → 41 ms after 800 contended
 * messages). Stop it in afterAll (by its pid, through `stop`).
 */
export function privateDynamoDb(): Promise<DynamoDbLocal> {
  return startDynamoDbLocal({ inMemory: true });
}
