/**
 * The voice lookup (functions/handlers/voice-lookup.ts) on DynamoDB Local: the round trips it
 * makes, and that it never throws into the contact flow — a table it cannot read answers the
 * empty attributes, logged and counted without the caller's number.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { makeVoiceLookup } from '../../functions/handlers/voice-lookup.js';
import { EMPTY_LOOKUP } from '../../functions/domain/voice.js';
import type { Db } from '../../functions/store/db.js';
import { getCallContext } from '../../functions/store/voice.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { CONNECT_SAMPLES_DIR } from '../../local/connect-samples.js';
import { freshTable } from '../helpers/ddb.js';

const event = (phone: string, contactId: string, parameters: Record<string, string> = {}) => {
  const e = JSON.parse(readFileSync(`${CONNECT_SAMPLES_DIR}lookup-inbound.json`, 'utf8'));
  e.Details.ContactData.ContactId = contactId;
  e.Details.ContactData.CustomerEndpoint.Address = phone;
  e.Details.Parameters = parameters;
  return e;
};
const clock = { now: () => Date.parse('2026-12-07T09:00:00Z') };
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

describe('voice lookup', () => {
  let db: Db;
  beforeAll(async () => {
    ({ db } = await freshTable('voice-lookup'));
    const put = (item: Record<string, unknown>) => db.doc.send(new PutCommand({ TableName: db.tableName, Item: item }));
    // A customer whose phone WhatsApp verified, with a tier (issue 15's attribute, set directly) and an open ticket.
    await put({ ...keys.customer('cust-1'), id: 'cust-1', display_name: 'Ana', created_at: 1, current_ticket_id: 't-1', tier: 'vip' });
    await put({ ...keys.verifiedAttribute('phone', '+34600111222'), ...indexKeys.customerAttribute('cust-1', 'phone', '+34600111222'), kind: 'phone', customer_id: 'cust-1', channel: 'whatsapp', at: 1 });
    await put({ ...keys.identity('whatsapp', '34600111222'), ...indexKeys.customerIdentity('cust-1', 'whatsapp', '34600111222'), channel: 'whatsapp', external_id: '34600111222', customer_id: 'cust-1', language: 'es', last_inbound_at: 5, created_at: 1 });
    await put({ ...keys.ticket('t-1'), ...indexKeys.customerTicket('cust-1', 2, 't-1'), id: 't-1', number: 'C-000042', status: 'open', priority: 'normal', channel: 'whatsapp', customer_id: 'cust-1', created_at: 2, sla: { breached: ['first_response'] } });
  });

  it('answers a known caller in two round trips and leaves the contact\'s context for its events', async () => {
    const sends = vi.spyOn(db.doc, 'send');
    const lookup = makeVoiceLookup({ db, clock, logger: quiet });
    const attrs = await lookup(event('+34 600 111 222', 'k-1', { after_hours: 'true' }));
    expect(attrs).toEqual({ customer_id: 'cust-1', name: 'Ana', tier: 'vip', language: 'es', open_ticket_number: 'C-000042', open_ticket_priority: 'normal', last_channel: 'whatsapp', verified: 'true', sla_breached: 'true' });
    // BatchGet (index item + voice identity) and the call context read; then profile ‖ gsi3; then the context write.
    const names = sends.mock.calls.map(([c]) => c.constructor.name);
    expect(names.filter((n) => n !== 'PutCommand').length).toBeLessThanOrEqual(4);
    sends.mockRestore();
    expect(await getCallContext(db, 'k-1')).toMatchObject({ phone: '+34600111222', customer_id: 'cust-1', after_hours: true, caller_verified: false });
  });

  it('answers an unknown, anonymous or unreadable caller with every attribute empty', async () => {
    const lookup = makeVoiceLookup({ db, clock, logger: quiet });
    expect(await lookup(event('+34699000000', 'k-2'))).toEqual(EMPTY_LOOKUP);
    const anonymous = event('anonymous', 'k-3');
    expect(await lookup(anonymous)).toEqual(EMPTY_LOOKUP);
    expect(await lookup({ not: 'a flow event' })).toEqual(EMPTY_LOOKUP);
  });

  it('never throws into the flow when DynamoDB fails: empty attributes, one metric, no number in the log', async () => {
    const failing: Db = { ...db, doc: { send: async () => { throw Object.assign(new Error('Rate exceeded for +34600111222'), { name: 'ProvisionedThroughputExceededException' }); } } as unknown as Db['doc'] };
    const lines: unknown[] = [];
    const metrics = { lookupFailed: vi.fn(), callUnfiled: vi.fn() };
    const lookup = makeVoiceLookup({ db: failing, clock, metrics, logger: { info: () => {}, warn: () => {}, error: (...a: unknown[]) => { lines.push(a); } } });
    expect(await lookup(event('+34600111222', 'k-4'))).toEqual(EMPTY_LOOKUP);
    expect(metrics.lookupFailed).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain('600111222');
  });
});
