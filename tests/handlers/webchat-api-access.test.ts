/**
 * The widget API's table access is the grant of lib/webchat-api.ts (issue 17 finding 3): every
 * DynamoDB call the handler makes — minting a session, reading a conversation, marking the
 * replies it serves delivered — is recorded against DynamoDB Local and must be one of
 * `WEBCHAT_API_TABLE_ACCESS` (on the table, or a listed index). A new call in store/webchat.ts
 * that the grant lacks fails here, before it fails in AWS with AccessDenied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SignJWT, decodeJwt } from 'jose';
import { ulid } from 'ulid';
import { makeProcess } from '../../functions/handlers/process.js';
import { makeWebchatApi } from '../../functions/handlers/webchat-api.js';
import { createDb, type Db } from '../../functions/store/db.js';
import { getIdentity, getCustomer } from '../../functions/store/reads.js';
import { keys } from '../../functions/store/table.js';
import { WEBCHAT_API_TABLE_ACCESS } from '../../lib/webchat-api.js';
import { freshTable, LOCAL_AWS } from '../helpers/ddb.js';
import { recordOf, sample, testConfig } from '../helpers/pipeline.js';
import { TEST_SECRETS } from '../helpers/samples.js';

interface Call { readonly action: string; readonly index: string | undefined }

function recordingDb(tableName: string, endpoint: string, calls: Call[]): Db {
  const db = createDb(tableName, { endpoint, ...LOCAL_AWS });
  db.doc.middlewareStack.add((next, context) => async (args) => {
    const input = args.input as { IndexName?: string };
    calls.push({ action: `dynamodb:${String(context.commandName).replace(/Command$/, '')}`, index: input.IndexName });
    return next(args);
  }, { step: 'initialize', name: 'recordTableAccess' });
  return db;
}

describe('widget API table access', () => {
  let db: Db;
  let recorded: Db;
  const calls: Call[] = [];
  let token: string;

  beforeAll(async () => {
    const t = await freshTable('webchat-access');
    db = t.db;
    recorded = recordingDb(t.tableName, t.endpoint, calls);
    const now = Date.now();
    const proc = makeProcess({ db, clock: { now: () => now }, config: testConfig(), logger: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } });
    const s = sample('webchat', '01-anonymous-message');
    await proc.recordHandler(await recordOf(s, now));
    const claims = decodeJwt(s.request.headers.Authorization!.slice('Bearer '.length)) as { sub: string; sid: string };
    const identity = (await getIdentity(db, 'webchat', claims.sub))!;
    const ticketId = (await getCustomer(db, identity.customer_id))!.current_ticket_id!;
    // An agent's reply, handed to the widget channel (sent): serving it marks it delivered.
    const at = now + 1000;
    const id = ulid(at);
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: {
      ...keys.timelineEntry(ticketId, at, id), type: 'message', id, ticket_id: ticketId, at, channel: 'webchat', direction: 'out', external_message_id: null,
      conversation_id: claims.sid, text: 'Yes, two years.', attachments: [], interaction: null, edited: false, sent_at: at, delivery: 'sent', delivery_rank: 1, outbound_kind: 'reply', author: 'agent-1',
    } }));
    token = await new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer('confluo-webchat').setAudience('confluo:webchat')
      .setSubject(claims.sub).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(TEST_SECRETS.WEBCHAT_SECRET!));
  });
  afterAll(() => { db?.doc.destroy(); recorded?.doc.destroy(); });

  it('makes only the calls its grant allows while minting a session and serving the conversation', async () => {
    const api = makeWebchatApi({ db: recorded, clock: { now: () => Date.now() }, config: { WEBCHAT_SECRET: TEST_SECRETS.WEBCHAT_SECRET! }, logger: { warn: () => {}, error: () => {} } });
    const call = (method: string, path: string, headers: Record<string, string> = {}) => api({
      rawPath: path, headers, requestContext: { http: { method, sourceIp: '203.0.113.7' } }, body: '', isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2);
    expect((await call('POST', '/webchat/session')).statusCode).toBe(200);
    const res = await call('GET', '/webchat/messages', { authorization: `Bearer ${token}` });
    expect(res.statusCode).toBe(200);
    const items = (JSON.parse(res.body as string) as { items: Array<{ direction: string }> }).items;
    expect(items.map((i) => i.direction)).toEqual(['in', 'out']);

    const allowed = (c: Call) => c.index === undefined
      ? (WEBCHAT_API_TABLE_ACCESS.table as readonly string[]).includes(c.action)
      : ((WEBCHAT_API_TABLE_ACCESS.indexes as Record<string, readonly string[]>)[c.index] ?? []).includes(c.action);
    expect(calls.filter((c) => !allowed(c))).toEqual([]);
    // The flow really read the index and wrote the delivery state.
    expect(calls).toContainEqual({ action: 'dynamodb:Query', index: 'gsi3' });
    expect(calls.map((c) => c.action)).toContain('dynamodb:UpdateItem');
  });
});
