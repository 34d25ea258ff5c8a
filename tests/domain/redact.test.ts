/**
 * Redaction (functions/domain/redact.ts) as the logger and the analytics export apply it:
 * - a property (fast-check): generated names, phones, e-mails and free texts placed anywhere in a
 *   logged object — under any key that is not one of the code keys our own code fills, at any
 *   depth, inside arrays, in the message of a library's error, through `errorFacts` — never appear
 *   in what the real logger writes;
 * - a table of phone formats (9 to 15 digits, with separators) that are masked, and of the
 *   look-alikes (8 digits, dates, UUIDs, ULIDs) that are not;
 * - the export's event data with free text planted in it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { errorMessage, isLoggableKey, isSensitiveKey, redactData, redactDeep, redactString, redactValue, REDACTED } from '../../functions/domain/redact.js';
import { eventRow } from '../../functions/domain/export-schema.js';
import { createLogger, errorFacts } from '../../functions/runtime/logger.js';

const FIRST = ['Anna', 'José', 'Юлия', 'Mohammed', 'Zofia', 'Siobhán', 'Łukasz', '李', 'Grace', 'Nguyễn', 'Olumide', 'Ингрид'];
const LAST = ['Kowalska', 'García', 'Иванова', 'Al-Rashid', "O'Brien", 'Nowak', 'Müller', '王芳', 'Van der Berg', 'Okafor'];
const WORDS = ['where', 'is', 'my', 'parcel', 'order', 'refund', 'please', 'call', 'me', 'tomorrow', 'broken', 'screen', 'Zamówienie', 'посылка', 'не', 'пришла'];

const name = fc.tuple(fc.constantFrom(...FIRST), fc.constantFrom(...LAST)).map(([f, l]) => `${f} ${l}`);
const phone = fc.tuple(fc.integer({ min: 9, max: 15 }), fc.constantFrom('', ' ', '-', '.'), fc.boolean(), fc.infiniteStream(fc.integer({ min: 0, max: 9 })))
  .map(([n, sep, plus, digits]) => {
    const ds = [1 + (digits.next().value % 9), ...Array.from({ length: n - 1 }, () => digits.next().value)];
    const groups: string[] = [];
    for (let i = 0; i < ds.length; i += 3) groups.push(ds.slice(i, i + 3).join(''));
    return `${plus ? '+' : ''}${groups.join(sep)}`;
  });
const email = fc.emailAddress().filter((e) => e.length >= 6);
const text = fc.array(fc.constantFrom(...WORDS), { minLength: 3, maxLength: 8 }).map((w) => w.join(' '));
const personal = fc.oneof(name, phone, email, text);

/** Keys a value may sit under: anything except the code keys our code fills (`status`, `*_id`, …). */
const key = fc.oneof(
  fc.constantFrom('tags', 'values', 'note', 'data', 'meta', 'info', 'customer', 'items', 'extra', 'details', 'args', 'input', 'payload', 'cause', 'name', 'text', 'from', 'subject', 'message'),
  fc.string({ minLength: 1, maxLength: 12 }),
).filter((k) => !isLoggableKey(k) || k === 'message');

/** Library errors whose message quotes the value (JSON.parse, the AWS SDK, zod, a plain Error). */
function foreignError(kind: number, value: string): Error {
  switch (kind % 4) {
    case 0: return new SyntaxError(`Unexpected token 'x', "${value}" is not valid JSON`);
    case 1: return Object.assign(new Error(`One or more parameter values were invalid: ${value}`), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    case 2: return Object.assign(new Error(`Invalid input: received "${value}"`), { name: 'ZodError' });
    default: return new TypeError(`Cannot use ${value}`);
  }
}

/** A value somewhere in a random structure: nested objects and arrays, or a library error's message. */
const placed: fc.Arbitrary<{ needle: string; value: unknown }> = fc.letrec<{ node: { needle: string; value: unknown } }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    personal.map((p) => ({ needle: p, value: p })),
    fc.tuple(fc.nat(), personal).map(([k, p]) => ({ needle: p, value: foreignError(k, p) })),
    fc.tuple(tie('node'), fc.nat({ max: 3 }), fc.array(fc.oneof(fc.integer(), fc.constantFrom('ok', 'queued')), { maxLength: 3 }))
      .map(([inner, at, others]) => ({ needle: inner.needle, value: [...others.slice(0, at), inner.value, ...others.slice(at)] })),
    fc.tuple(key, tie('node'), fc.dictionary(key, fc.oneof(fc.integer(), fc.boolean()), { maxKeys: 3 }))
      .map(([k, inner, rest]) => ({ needle: inner.needle, value: { ...rest, [k]: inner.value } })),
  ),
})).node;

describe('log redaction', () => {
  const written: string[] = [];
  beforeAll(() => {
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; });
  });
  afterAll(() => { vi.restoreAllMocks(); });
  const logger = createLogger('redact-property', 'DEBUG');

  it('never writes a generated name, phone, e-mail or text placed anywhere in a logged object', () => {
    fc.assert(fc.property(key, placed, (k, { needle, value }) => {
      written.length = 0;
      logger.info('probe', { [k]: value, ticket_id: '01J00000000000000000000000' });
      const out = written.join('');
      expect(out).toContain('"ticket_id":"01J00000000000000000000000"'); // the logger really wrote
      expect(out).not.toContain(needle);
      expect(out).not.toContain(JSON.stringify(needle).slice(1, -1));
    }), { numRuns: 300 });
  });

  it('never writes the message of a library error, whether logged as an error or through errorFacts', () => {
    fc.assert(fc.property(fc.nat(), personal, (kind, p) => {
      written.length = 0;
      const e = foreignError(kind, p);
      logger.error('failed', { ...errorFacts(e) });
      logger.error('failed', e);
      logger.error('failed', { error: e, wrapped: new Error('outer', { cause: e }) });
      expect(written.join('')).not.toContain(p);
    }), { numRuns: 100 });
  });

  it('keeps what operators need: codes, ids, our own errors\' messages, arrays of codes under code keys', () => {
    class ThingError extends Error { override readonly name = 'ThingError'; }
    written.length = 0;
    logger.info('inbound committed', { outcomes: ['ignored', 'created'], ticket_ids: ['01J00000000000000000000000'], status: 401, ...errorFacts(new ThingError('thing: stage apply failed (write to ann@example.com)')) });
    const line = JSON.parse(written.join('')) as Record<string, unknown>;
    expect(line).toMatchObject({ message: 'inbound committed', outcomes: ['ignored', 'created'], ticket_ids: ['01J00000000000000000000000'], status: 401, error: 'ThingError', error_message: `thing: stage apply failed (write to ${REDACTED})` });
  });

  it('masks arrays under non-code keys and free text in nested objects (the leaks of issue 17)', () => {
    expect(redactDeep({ tags: ['Anna Kowalska', 'vip'] })).toEqual({ tags: [REDACTED, REDACTED] });
    expect(redactDeep({ cause: { values: ['Anna'], stage: 'merge' } })).toEqual({ cause: { values: [REDACTED], stage: 'merge' } });
    expect(redactDeep({ nested: { message: 'Anna wrote' } })).toEqual({ nested: { message: REDACTED } });
    expect(errorMessage(new SyntaxError('Unexpected token A in "Anna"'))).toBe(REDACTED);
    expect(isSensitiveKey('Phone_Number')).toBe(true);
  });
});

describe('phone masking', () => {
  // 9 to 15 digits, with the separators people type.
  const masked = [
    '600 100 200', '600-100-200', '600.100.200', '(600) 100 200', '+48 600 100 200', '+48600100200',
    '0 600 100 200', '+1 (415) 555-0123', '+44 20 7946 0958', '+49 30 901820 0', '8 (916) 123-45-67',
    '+7 916 123 45 67', '+380 44 123 4567', '+86 138 0013 8000', '00 48 600 100 200', '123456789', '123456789012345',
  ];
  it.each(masked)('masks %s inside text', (p) => {
    expect(redactString(`call ${p} now`)).toBe(`call ${REDACTED} now`);
  });

  const kept = ['order 12345678', '2026-10-05', '2026-10-05T10:00:00Z', '01J00000000000000000000000', '3f6a2c1e-8b4d-5e7f-9a0b-1c2d3e4f5a61', '10:00:00', 'v1.2.3', 'C-000123'];
  it.each(kept)('keeps %s (no phone: too short, a date, an id)', (s) => {
    expect(redactString(s)).toBe(s);
  });
});

describe('export event data', () => {
  it('masks free text planted anywhere in an event\'s data, keeping codes and ids', () => {
    const row = eventRow({
      id: 'E1', type: 'ticket.updated', at: 1, ticket_id: 'T1', customer_id: 'C1',
      data: {
        actor: 'agent-7', changed: ['priority', 'tags'], from: 'Anna Kowalska', note: 'Call Anna on +48 600 100 200',
        tags: ['Anna Kowalska', 'vip'], nested: { comment: 'I hate this shop', values: ['anna@example.com'], reason: 'ok' }, message: 'Anna wrote again',
        status: 'open', ticket_ids: ['01J00000000000000000000000'],
      },
    });
    const data = row.data as string;
    for (const needle of ['Anna', 'Kowalska', '600 100 200', 'anna@example.com', 'hate', 'wrote']) expect(data).not.toContain(needle);
    expect(JSON.parse(data)).toMatchObject({ changed: ['priority', 'tags'], status: 'open', ticket_ids: ['01J00000000000000000000000'], nested: { reason: 'ok' } });
    expect(redactData({ message: 'x' })).toEqual({ message: REDACTED });
  });
});

describe('which keys hold personal data, and which hold codes (DESIGN.md §2 Privacy)', () => {
  // Field names under which the platforms and our records carry personal data or credentials
  // (Telegram `from`/`contact`/`first_name`/`username`/`phone_number`, WhatsApp `profile.name`,
  // Twilio `From`/`To`/`Body`, e-mail `subject`/`reply_to`, the webhook signature headers): the
  // value is masked whatever it is — a number, an object, a list — not only a string.
  const SENSITIVE = [
    'text', 'body', 'body_b64', 'raw', 'caption', 'comment', 'reply_text', 'subject',
    'name', 'display_name', 'first_name', 'last_name', 'username', 'profile', 'contact',
    'phone', 'phone_number', 'email', 'from', 'to', 'reply_to', 'address',
    'token', 'authorization', 'secret', 'signature', 'password', 'cookie', 'x-telegram-bot-api-secret-token',
    'x-hub-signature-256', 'x-twilio-signature', 'x-viber-content-signature', 'url', 'headers',
  ];
  it.each(SENSITIVE)('masks anything under %s, in any letter case, at any depth', (k) => {
    expect(isSensitiveKey(k.toUpperCase())).toBe(true);
    expect(redactDeep({ [k]: 48600100200 })).toEqual({ [k]: REDACTED });
    expect(redactDeep({ data: { [k]: { id: 'c_1', status: 'ok' } } })).toEqual({ data: { [k]: REDACTED } });
    expect(redactData({ [k]: ['c_1'] })).toEqual({ [k]: REDACTED });
    expect(redactValue(k, 7)).toBe(REDACTED);
  });

  // Codes and ids our own code writes, which operators read in logs and exports.
  const CODES = [
    'function_name', 'function_arn', 'function_request_id', 'function_memory_size', 'cold_start', 'channel', 'status', 'reason', 'action', 'outcomes',
    'stage', 'code', 'error', 'error_message', 'cause_error', 'event_type', 'kind', 'url_scheme', 'detail', 'direction',
    'changed', 'rules', 'reaction', 'keys', 'metric', 'id', 'ids', 'ticket_id', 'message_ids', '0', '12',
  ];
  it.each(CODES)('keeps a code under %s, nested too, masking only e-mails and phones inside it', (k) => {
    expect(isLoggableKey(k)).toBe(true);
    expect(redactData({ [k]: 'delivery_failed' })).toEqual({ [k]: 'delivery_failed' });
    expect(redactDeep({ data: { [k]: 'sent to ann@example.com' } })).toEqual({ data: { [k]: `sent to ${REDACTED}` } });
    expect(redactValue(k, 'delivery_failed')).toBe('delivery_failed');
  });

  // The log line's own fields (Powertools writes them): kept at the top, free text anywhere else.
  const LINE = ['message', 'level', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id'];
  it.each(LINE)('keeps the log line\'s own %s at the top only', (k) => {
    expect(redactDeep({ [k]: 'INFO' })).toEqual({ [k]: 'INFO' });
    expect(redactDeep({ data: { [k]: 'INFO' } })).toEqual({ data: { [k]: REDACTED } });
    expect(redactDeep({ [k]: ['INFO'] })).toEqual({ [k]: [REDACTED] });
    expect(redactData({ [k]: 'INFO' })).toEqual({ [k]: REDACTED });
  });

  it('does not take a key that merely contains a code or an id for one', () => {
    for (const k of ['identity', 'paid', 'valid', 'kids', 'idea', 'a1', '1a', 'statuses', 'note']) {
      expect(isLoggableKey(k), k).toBe(false);
      expect(redactData({ [k]: 'Anna' }), k).toEqual({ [k]: REDACTED });
    }
  });

  it('judges one key/value pair the same way (a JSON.stringify replacer)', () => {
    expect(redactValue('', 'call +48 600 100 200')).toBe(`call ${REDACTED}`);
    expect(redactValue('note', 'Anna')).toBe(REDACTED);
    expect(redactValue('count', 5)).toBe(5);
    // absent values stay visibly absent
    expect(redactValue('phone', null)).toBeNull();
    expect(redactValue('phone', undefined)).toBeUndefined();
    expect(JSON.parse(JSON.stringify({ phone: '+48 600 100 200', status: 'ok', note: { text: 'Anna' } }, redactValue)))
      .toEqual({ phone: REDACTED, status: 'ok', note: { text: REDACTED } });
  });
});

describe('what the patterns mask inside kept text', () => {
  it.each([
    ['a JWT', 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig_-NATURE01 end', `token ${REDACTED} end`],
    ['an unsigned JWT', 'token eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. end', `token ${REDACTED} end`],
    ['a Telegram bot token', 'bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-x end', `bot ${REDACTED} end`],
    ['a bearer credential', 'got Bearer  abc.def-123 end', `got ${REDACTED} end`],
    ['an e-mail with sub-domains', 'from anna.k+shop@mail.example.co.uk end', `from ${REDACTED} end`],
  ])('masks %s whole', (_what, input, output) => {
    expect(redactString(input)).toBe(output);
    expect(redactDeep({ detail: input })).toEqual({ detail: output });
  });

  it('masks only the patterns in a bare string', () => {
    expect(redactDeep('call +48 600 100 200 about C-000123')).toBe(`call ${REDACTED} about C-000123`);
    expect(redactData('write to ann@example.com')).toBe(`write to ${REDACTED}`);
  });
});

describe('errors in logs', () => {
  class ThingError extends Error { override readonly name = 'ThingError'; }

  it.each(['Error', 'SyntaxError', 'TypeError', 'RangeError', 'ReferenceError', 'URIError', 'EvalError', 'AggregateError', 'ZodError', '$ZodError'])(
    'masks the message of an error that names itself %s (a library error quoting its input)', (n) => {
      expect(errorMessage(Object.assign(new Error('Anna Kowalska'), { name: n }))).toBe(REDACTED);
    },
  );

  it('keeps the message of Confluo\'s own errors only: an own name ending in Error, not an AWS SDK exception', () => {
    expect(errorMessage(new ThingError('thing: stage apply failed'))).toBe('thing: stage apply failed');
    // a name on the prototype, not set by the class as its own field
    class Inherited extends Error {}
    (Inherited.prototype as { name: string }).name = 'InheritedError';
    expect(errorMessage(new Inherited('Anna'))).toBe(REDACTED);
    expect(errorMessage(Object.assign(new Error('Anna'), { name: 'Anna' }))).toBe(REDACTED);
    expect(errorMessage(Object.assign(new Error('Anna'), { name: 'ErrorOfAnna' }))).toBe(REDACTED);
    expect(errorMessage(Object.assign(new Error('Anna'), { name: 42 }))).toBe(REDACTED);
    expect(errorMessage(Object.assign(new Error('Anna'), { name: 'ThrottlingError', $metadata: {} }))).toBe(REDACTED);
    expect(errorMessage(Object.assign(new Error('Anna'), { name: 'ServiceError', $fault: 'server' }))).toBe(REDACTED);
  });

  it('writes an error as its name, message and cause — a cause only when there is one', () => {
    expect(redactDeep({ err: new ThingError('thing: failed') })).toStrictEqual({ err: { name: 'ThingError', message: 'thing: failed' } });
    expect(redactDeep({ err: new ThingError('thing: failed', { cause: { stage: 'merge', values: ['Anna'] } }) }))
      .toStrictEqual({ err: { name: 'ThingError', message: 'thing: failed', cause: { stage: 'merge', values: [REDACTED] } } });
    expect(redactDeep({ err: new ThingError('thing: failed', { cause: 'Anna' }) })).toStrictEqual({ err: { name: 'ThingError', message: 'thing: failed', cause: REDACTED } });
  });
});

describe('odd shapes', () => {
  it('leaves absent values visibly absent, under any key, and writes the mask as [redacted]', () => {
    expect(redactDeep({ phone: null, email: undefined, none: null, count: 5, flag: true })).toStrictEqual({ phone: null, email: undefined, none: null, count: 5, flag: true });
    expect(redactData({ name: null })).toStrictEqual({ name: null });
    expect(redactDeep({ note: 'Anna' })).toEqual({ note: '[redacted]' });
  });

  it('writes dates as ISO text and masks raw bytes (a Buffer or any typed array)', () => {
    expect(redactDeep({ at: new Date(Date.UTC(2026, 11, 7)) })).toEqual({ at: '2026-12-07T00:00:00.000Z' });
    expect(redactDeep({ data: Buffer.from('Anna') })).toEqual({ data: REDACTED });
    expect(redactDeep({ data: new Uint8Array([65, 110, 110, 97]) })).toEqual({ data: REDACTED });
  });

  it('writes a cycle as [circular] but the same object met twice in full', () => {
    const shared = { status: 'ok' };
    expect(redactDeep({ a: shared, b: shared, list: [shared, shared] })).toEqual({ a: { status: 'ok' }, b: { status: 'ok' }, list: [{ status: 'ok' }, { status: 'ok' }] });
    const loop: Record<string, unknown> = { status: 'ok' };
    loop.self = loop;
    expect(redactDeep(loop)).toEqual({ status: 'ok', self: '[circular]' });
  });

  it('cuts what lies deeper than 20 levels, in objects, arrays and causes alike', () => {
    const nest = (n: number, leaf: unknown, wrap: (v: unknown) => unknown): unknown => (n === 0 ? leaf : wrap(nest(n - 1, leaf, wrap)));
    // the root is level 0; an object at level 20 is still written, one at level 21 is cut
    expect(redactDeep(nest(20, { status: 'ok' }, (v) => ({ a: v })))).toEqual(nest(20, { status: 'ok' }, (v) => ({ a: v })));
    expect(redactDeep(nest(21, { status: 'ok' }, (v) => ({ a: v })))).toEqual(nest(21, '[truncated]', (v) => ({ a: v })));
    expect(redactDeep(nest(21, { status: 'ok' }, (v) => [v]))).toEqual(nest(21, '[truncated]', (v) => [v]));
    const causes = (n: number): unknown => (n === 0 ? { status: 'ok' } : new ThingErr('t', { cause: causes(n - 1) }));
    class ThingErr extends Error { override readonly name = 'ThingErr'; }
    const out = JSON.stringify(redactDeep(causes(25)));
    expect(out).toContain('[truncated]');
    // errors at levels 0–20 are written, each with its cause; the cause at level 21 is cut
    expect(out.split('"cause"').length - 1).toBe(21);
  });
});
