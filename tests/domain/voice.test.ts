/** The phone channel's pure part (functions/domain/voice.ts) on the Connect samples of the local runtime. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  callbackPriority, callFacts, callSummary, ConnectLookupEvent, ContactEvent, EMPTY_LOOKUP, LOOKUP_ATTRIBUTES, lookupAttributes, wantsCallback,
} from '../../functions/domain/voice.js';
import { CONNECT_SAMPLES_DIR, connectSample } from '../../local/connect-samples.js';

const sample = (name: string) => JSON.parse(readFileSync(`${CONNECT_SAMPLES_DIR}${name}.json`, 'utf8')) as unknown;
const detail = (name: string) => ContactEvent.parse(sample(name)).detail;

describe('Connect inputs', () => {
  it('reads the flow invocation and the contact events of the samples, ignoring fields it does not know', () => {
    expect(ConnectLookupEvent.parse(sample('lookup-inbound')).Details.ContactData.CustomerEndpoint?.Address).toBe('+34600111222');
    const withExtra = { ...(sample('event-inbound-answered') as Record<string, unknown>) };
    (withExtra.detail as Record<string, unknown>).someFieldAddedLater = { x: 1 };
    expect(ContactEvent.safeParse(withExtra).success).toBe(true);
    expect(ContactEvent.safeParse({ ...withExtra, source: 'aws.s3' }).success).toBe(false);
  });
});

describe('callFacts', () => {
  it('measures an answered inbound call: queue, agent, wait until the agent took it, talk until the end', () => {
    const c = callFacts(detail('event-inbound-answered'), { recordings: true, instanceId: 'i-1' });
    expect(c).toMatchObject({
      direction: 'in', outcome: 'answered', queue: '0a0b0c0d-0000-4000-8000-000000000001', agent: 'a9e47000-0000-4000-8000-000000000001',
      wait_seconds: 45, talk_seconds: 235, disconnect_reason: 'CUSTOMER_DISCONNECT', recording: 'connect:i-1/contact/5ca1ab1e-0000-4000-8000-000000000001',
    });
    expect(wantsCallback(c)).toBe(false);
    expect(callSummary(c)).toBe('Phone call answered, talked 3 min 55 s, waited 45 s');
  });

  it('calls a caller who hung up in the queue abandoned (waited until the hang-up), with no recording and a call-back wanted', () => {
    const c = callFacts(detail('event-inbound-abandoned'), { recordings: true });
    expect(c).toMatchObject({ direction: 'in', outcome: 'abandoned', agent: null, wait_seconds: 165, talk_seconds: 0, recording: null });
    expect(wantsCallback(c)).toBe(true);
  });

  it('calls a call that never queued ivr, unless the flow said it came after hours (missed)', () => {
    const d = { ...detail('event-inbound-abandoned'), queueInfo: undefined };
    expect(callFacts(d, { recordings: false }).outcome).toBe('ivr');
    expect(wantsCallback(callFacts(d, { recordings: false }))).toBe(false);
    expect(callFacts(d, { recordings: false, afterHours: true }).outcome).toBe('missed');
  });

  it('counts an outbound call answered from media until the end, and not answered on an outbound failure', () => {
    const d = detail('event-outbound-callback');
    expect(callFacts(d, { recordings: false })).toMatchObject({ direction: 'out', outcome: 'answered', talk_seconds: 288, wait_seconds: null });
    expect(callFacts({ ...d, disconnectReason: 'OUTBOUND_DESTINATION_ENDPOINT_ERROR' }, { recordings: false })).toMatchObject({ outcome: 'no_answer', talk_seconds: 0 });
  });
});

describe('lookup attributes', () => {
  it('answers every attribute as a string, all empty for an unknown caller', () => {
    expect(Object.keys(EMPTY_LOOKUP)).toEqual([...LOOKUP_ATTRIBUTES]);
    expect(lookupAttributes(undefined)).toEqual(EMPTY_LOOKUP);
    const a = lookupAttributes({ customerId: 'c1', name: 'x'.repeat(500), verified: false, openTicket: { number: 'C-1', priority: 'high', channel: 'email', breached: ['first_response'] } });
    expect(a).toMatchObject({ customer_id: 'c1', tier: '', verified: 'false', open_ticket_priority: 'high', last_channel: 'email', sla_breached: 'true' });
    expect(a.name).toHaveLength(100);
  });
});

describe('callbackPriority', () => {
  it('raises a VIP\'s call-back to high, never lowers, leaves other tiers alone', () => {
    expect(callbackPriority('normal', 'vip')).toBe('high');
    expect(callbackPriority('urgent', 'vip')).toBe('urgent');
    expect(callbackPriority('normal', 'standard')).toBe('normal');
    expect(callbackPriority('low', undefined)).toBe('low');
  });
});

describe('local samples', () => {
  it('stamps a contact event with a contact id and moves its times so that the call ends at the given time', () => {
    const e = connectSample({ sample: 'event-inbound-answered', contactId: 'k-1', at: '2027-01-01T12:00:00.000Z' }, 0) as { detail: Record<string, unknown>; resources: string[] };
    expect(e.detail).toMatchObject({ contactId: 'k-1', disconnectTimestamp: '2027-01-01T12:00:00.000Z', initiationTimestamp: '2027-01-01T11:55:00.000Z' });
    expect(e.resources[0]).toMatch(/contact\/k-1$/);
  });
});
