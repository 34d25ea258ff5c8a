/**
 * One-off migration for tables created before the hot keys were sharded (README "Scale",
 * functions/store/table.ts): moves every ticket's inbox and status index keys from `TICKETS` and
 * `STATUS#<s>` to their sharded keys (`TICKETS#<ss>`, `STATUS#<s>#<ss>`), and copies the change
 * feed of the last `--days` days (default 2) from `FEED#<day>` to `FEED#<day>#<ss>` so `GET /events`
 * cursors issued before the deploy go on. Idempotent; conditional on the old key, so a ticket
 * touched meanwhile (which already got its new key) is left alone.
 *
 *   npx tsx scripts/migrate-shards.ts <table> [--days 2]   (AWS credentials and region from the environment)
 *
 * It scans the table once (read units ≈ table size / 4 KB ÷ 2) and writes one update per ticket
 * and one put per copied feed event. Copied feed events are not INSERTs the dispatch function
 * acts on twice: dispatch is idempotent per event id (functions/handlers/dispatch.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { indexKeys, keys } from '../functions/store/table.js';

const [table, ...rest] = process.argv.slice(2);
if (!table) { console.error('usage: migrate-shards.ts <table> [--days 2]'); process.exit(2); }
const days = Number(rest[rest.indexOf('--days') + 1] ?? 2) || 2;
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const since = Date.now() - days * 86_400_000;
let tickets = 0;
let events = 0;
let start: Record<string, unknown> | undefined;
do {
  const page = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
  for (const item of page.Items ?? []) {
    if (item.sk === 'TICKET' && (item.gsi1pk === 'TICKETS' || /^STATUS#[a-z_]+$/.test(String(item.gsi2pk ?? '')))) {
      const id = String(item.id);
      const sets = ['gsi2pk = :g2'];
      const values: Record<string, unknown> = { ':g2': indexKeys.byStatus(String(item.status), 0, id).gsi2pk, ':old2': item.gsi2pk };
      if (item.gsi1pk === 'TICKETS') { sets.push('gsi1pk = :g1'); values[':g1'] = indexKeys.inbox(0, id).gsi1pk; values[':old1'] = 'TICKETS'; }
      await doc.send(new UpdateCommand({
        TableName: table, Key: { pk: item.pk, sk: item.sk }, UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: `gsi2pk = :old2${item.gsi1pk === 'TICKETS' ? ' AND gsi1pk = :old1' : ''}`, ExpressionAttributeValues: values,
      })).catch((e: { name?: string }) => { if (e.name !== 'ConditionalCheckFailedException') throw e; });
      tickets += 1;
    } else if (/^FEED#\d{4}-\d{2}-\d{2}$/.test(String(item.pk)) && Number(item.at) >= since) {
      const { pk: _pk, sk: _sk, ...event } = item;
      await doc.send(new PutCommand({ TableName: table, Item: { ...keys.feedEvent(Number(item.at), String(item.id), String(item.ticket_id ?? item.customer_id ?? item.id)), ...event }, ConditionExpression: 'attribute_not_exists(pk)' }))
        .catch((e: { name?: string }) => { if (e.name !== 'ConditionalCheckFailedException') throw e; });
      events += 1;
    }
  }
  start = page.LastEvaluatedKey;
} while (start);
console.log(`migrate-shards: ${tickets} tickets re-keyed, ${events} feed events copied`);
