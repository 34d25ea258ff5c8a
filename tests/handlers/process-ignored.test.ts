/**
 * Quiet drops (issue 17, finding 11): an authenticated event the adapter ignores is answered and
 * dropped, but never silently — its reason code in the log (a warning when malformed) and a metric
 * per channel and reason, `malformed` set for the ones the observability alarm watches.
 */
import { describe, expect, it } from 'vitest';
import { makeProcess } from '../../functions/handlers/process.js';
import { fixedClock } from '../../functions/domain/clock.js';
import { ignoredReasonCode, isMalformedReason } from '../../functions/domain/inbound.js';
import { freshTable } from '../helpers/ddb.js';
import { envelopeOf, sample, sqsRecord, testConfig } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);

/** A WhatsApp sample as the queue would carry it, its body rewritten after admission (signed by Meta). */
async function whatsappRecord(edit: (body: Record<string, any>) => void) {
  const { envelope, groupId } = await envelopeOf(sample('whatsapp', '02-text'), T0);
  const body = JSON.parse(Buffer.from(envelope.body_b64, 'base64').toString('utf8'));
  edit(body);
  return sqsRecord(JSON.stringify({ ...envelope, body_b64: Buffer.from(JSON.stringify(body)).toString('base64') }), groupId);
}

describe('process: ignored events', () => {
  it('logs the reason code of a malformed WhatsApp message as a warning and counts it per channel and reason', async () => {
    const { db } = await freshTable('ignored');
    const lines: Array<{ level: string; message: string; facts: Record<string, unknown> }> = [];
    const at = (level: string) => (message: string, facts?: Record<string, unknown>) => { lines.push({ level, message, facts: facts ?? {} }); };
    const counted: Array<[string, string, boolean]> = [];
    const process = makeProcess({
      db, clock: fixedClock(T0), config: testConfig(),
      logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as never,
      metrics: { ignored: (channel, reason, malformed) => { counted.push([channel, reason, malformed]); } },
    });
    const record = await whatsappRecord((b) => { b.entry[0].changes[0].value.messages[0].timestamp = '99999999999999999999999'; });
    const res = await process({ Records: [record] });
    expect(res.batchItemFailures).toEqual([]);
    expect(counted).toEqual([['whatsapp', 'malformed_message', true]]);
    expect(lines).toContainEqual({ level: 'warn', message: 'inbound event ignored', facts: expect.objectContaining({ channel: 'whatsapp', reason: 'malformed_message', malformed: true }) });
  });

  it('counts an echo or receipt without content as ignored but not malformed', async () => {
    const { db } = await freshTable('ignored-ok');
    const counted: Array<[string, string, boolean]> = [];
    const process = makeProcess({ db, clock: fixedClock(T0), config: testConfig(), metrics: { ignored: (c, r, m) => { counted.push([c, r, m]); } } });
    const record = await whatsappRecord((b) => { b.entry[0].changes[0].field = 'account_update'; });
    await process({ Records: [record] });
    expect(counted).toEqual([['whatsapp', 'field', false]]);
  });

  it('derives bounded reason codes from the adapters\' reasons', () => {
    expect(ignoredReasonCode('malformed status update')).toBe('malformed_status_update');
    expect(ignoredReasonCode('field: statuses_x')).toBe('field');
    expect(ignoredReasonCode('unsupported item: Anna')).toBe('unsupported_item');
    expect(ignoredReasonCode('ses Bounce')).toBe('ses_bounce');
    expect(ignoredReasonCode('::')).toBe('unspecified');
    expect(ignoredReasonCode('x'.repeat(80))).toHaveLength(40);
    expect(isMalformedReason('malformed_entry')).toBe(true);
    expect(isMalformedReason('echo')).toBe(false);
  });
});
