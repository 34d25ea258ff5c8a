/**
 * No personal data in logs: every sample of every channel goes through ingest and processing with
 * the logger at DEBUG, and none of its texts, names, usernames, phones, e-mails or credentials
 * appears in what was written.
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { channels } from '../../functions/channels/registry.js';
import { makeIngest } from '../../functions/handlers/ingest.js';
import { makeProcess } from '../../functions/handlers/process.js';
import { fixedClock } from '../../functions/domain/clock.js';
import { createLogger } from '../../functions/runtime/logger.js';
import { redactValue, REDACTED } from '../../functions/domain/redact.js';
import { freshTable } from '../helpers/ddb.js';
import { loadSamples } from '../helpers/samples.js';
import { sqsRecord, testConfig } from '../helpers/pipeline.js';

function personalValues(value: unknown, out: Set<string>, key = ''): void {
  if (typeof value === 'string') {
    if (['text', 'caption', 'display_name', 'username', 'phone', 'email', 'first_name', 'last_name', 'name', 'phone_number', 'body', 'subject', 'title'].includes(key) && value.trim().length >= 4) out.add(value);
    return;
  }
  if (Array.isArray(value)) { for (const v of value) personalValues(v, out, key); return; }
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) personalValues(v, out, k);
}

describe('logging', () => {
  const written: string[] = [];
  beforeAll(() => {
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; });
  });
  afterAll(() => { vi.restoreAllMocks(); });

  it('masks sensitive keys and unknown free text wholesale, and personal-looking substrings in loggable ones', () => {
    expect(redactValue('text', 'hello')).toBe(REDACTED);
    expect(redactValue('note', 'Marta')).toBe(REDACTED);
    expect(redactValue('error_message', 'write to ann@example.com or +1 415 555 0123')).toBe(`write to ${REDACTED} or ${REDACTED}`);
    expect(redactValue('ticket_id', '01M83W2YZGN32B519Z583DPS28')).toBe('01M83W2YZGN32B519Z583DPS28');
  });

  it('writes no text, name, phone, e-mail or credential of any sample through ingest and processing', async () => {
    const { db } = await freshTable('logs');
    const logger = createLogger('confluo-test', 'DEBUG');
    const config = testConfig();
    const clock = fixedClock(Date.UTC(2026, 9, 5, 10));
    const queued: Array<{ body: string; groupId?: string }> = [];
    const ingest = makeIngest({ config, clock, logger, enqueue: async (m) => { queued.push(m); } });
    const process = makeProcess({ db, clock, config, logger, confirmSubscription: async () => {} });
    const needles = new Set<string>();

    for (const channel of Object.keys(channels)) {
      for (const sample of loadSamples(channel, { at: clock.now() })) {
        personalValues(JSON.parse(JSON.stringify(sample.expect.events ?? [])), needles);
        for (const [h, v] of Object.entries(sample.request.headers)) if (/token|signature|authorization/i.test(h) && v.length >= 8) needles.add(v.replace(/^Bearer\s+/i, ''));
        const event = {
          version: '2.0', routeKey: '$default', rawPath: sample.request.path, rawQueryString: '', headers: sample.request.headers,
          queryStringParameters: sample.request.query, pathParameters: { channel },
          requestContext: { http: { method: sample.request.method, path: sample.request.path }, requestId: 'req-1' },
          body: Buffer.from(sample.request.body, 'utf8').toString('base64'), isBase64Encoded: true,
        } as unknown as APIGatewayProxyEventV2;
        await ingest(event);
      }
    }
    for (const q of queued) await process({ Records: [sqsRecord(q.body, q.groupId ?? '')] });

    expect(queued.length).toBeGreaterThan(5);
    expect(needles.size).toBeGreaterThan(10);
    const log = written.join('');
    expect(log).toContain('inbound committed'); // the logger really wrote
    const leaked = [...needles].filter((n) => log.includes(n) || log.includes(JSON.stringify(n).slice(1, -1)));
    expect(leaked).toEqual([]);
  }, 240_000); // every sample through ingest and process: minutes on a loaded 2-core machine
});
