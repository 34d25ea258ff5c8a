/** A fresh table on the run's DynamoDB Local (started once in global-setup) per test file. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../functions/store/db.js';
import { ensureTable } from '../../local/table.js';

export const LOCAL_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export function ddbEndpoint(): string {
  return inject('ddbEndpoint');
}

export async function freshTable(prefix = 'test'): Promise<{ db: Db; tableName: string; endpoint: string }> {
  const endpoint = ddbEndpoint();
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  const raw = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  await ensureTable(raw, tableName);
  raw.destroy();
  return { db: createDb(tableName, { endpoint, ...LOCAL_AWS }), tableName, endpoint };
}
