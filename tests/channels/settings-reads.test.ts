/**
 * Which settings each side of a channel reads (issue 17 finding 3, least privilege): the stack
 * lets ingest read exactly the SSM parameters named by the adapters' `inboundSecrets` and
 * `inboundOptional`, the process function those of `parseSettings`, and the send function exactly
 * those of `outboundSecrets` (lib/ssm-settings.ts).
 * A setting an adapter reads but does not declare would be missing in AWS — so every read is
 * recorded here (a Proxy over the settings) while each channel admits every sample and renders,
 * answers and reads the delivery of a reply and a survey question, and must be a declared one.
 */
import { describe, expect, it } from 'vitest';
import { renderRequests, type ChannelAdapter, type OutboundMessage, type PlatformResponse, type Secrets } from '../../functions/channels/channel.js';
import { channels } from '../../functions/channels/registry.js';
import { renderSurveyMessage } from '../../functions/domain/survey.js';
import { SETTINGS } from '../../functions/runtime/config.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { TEST_SECRETS, loadSamples, sampleParsePorts, toRawRequest } from '../helpers/samples.js';

const NOW = Date.now();
const SETTING_NAMES = new Set<string>(SETTINGS.map((s) => s.name));

/**
 * Settings recording each read: `full` sets every declared name (a channel reads optional ones
 * only when present), otherwise only the samples' settings (fallbacks are read when one is unset,
 * e.g. the SES region from the SNS topic's ARN).
 */
function recording(read: Set<string>, full: boolean): Secrets {
  const values: Record<string, string> = { ...TEST_SECRETS };
  if (full) {
    for (const name of SETTING_NAMES) values[name] ??= `value-of-${name}`;
    values.EMAIL_SES_REGION = 'eu-central-1';
  }
  return new Proxy(values, {
    get(target, key) { if (typeof key === 'string') read.add(key); return target[key as string]; },
    has(target, key) { if (typeof key === 'string') read.add(key); return key in target; },
  });
}

function outbound(adapter: ChannelAdapter): OutboundMessage[] {
  const conversation = adapter.name === 'email' ? 'ann@example.com' : adapter.name === 'twilio' ? '+12065550142' : '4242';
  const context = { ticket_number: 'C-000042', ...(adapter.name === 'twilio' ? { business_address: '+14155550100' } : {}), ...(adapter.name === 'email' ? { subject: 'Order', rfc_message_id: '<a@b>' } : {}) };
  const survey = renderSurveyMessage({ kind: 'question', scale: 'csat', ticketNumber: 'C-000042', language: 'en', buttons: adapter.capabilities.buttons });
  return [
    { id: 'reply-1', channel: adapter.name, conversation_id: conversation, text: 'Your order ships today.', kind: 'reply', context },
    { id: 'survey-1', channel: adapter.name, conversation_id: conversation, text: survey.text, kind: 'survey', ...(survey.buttons ? { buttons: survey.buttons } : {}), context },
  ];
}

const answers: PlatformResponse[] = [
  { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true,"result":{"message_id":1},"messages":[{"id":"wamid.1"}],"message_id":"m1","sid":"SM1","status":0,"response":1,"MessageId":"ses-1"}' },
  { status: 429, headers: { 'retry-after': '3' }, body: '{}' },
];

describe('settings a channel reads', () => {
  for (const adapter of Object.values(channels)) {
    it(`${adapter.name}: admission reads only its declared inbound settings`, async () => {
      const declared = new Set([...adapter.inboundSecrets, ...(adapter.inboundOptional ?? [])]);
      const read = new Set<string>();
      for (const full of [true, false]) {
        const secrets = recording(read, full);
        for (const sample of loadSamples(adapter.name)) {
          try { await adapter.admit(toRawRequest(sample), secrets, NOW); } catch { /* refusals read settings too */ }
        }
      }
      const ours = [...read].filter((k) => SETTING_NAMES.has(k));
      expect(ours.length, 'the samples exercised admission').toBeGreaterThan(0);
      expect(ours.filter((k) => !declared.has(k))).toEqual([]);
    });

    it(`${adapter.name}: parsing reads only its declared parse settings`, async () => {
      const declared = new Set(adapter.parseSettings ?? []);
      const read = new Set<string>();
      for (const full of [true, false]) {
        const settings = recording(read, full);
        for (const sample of loadSamples(adapter.name)) {
          let admission;
          try { admission = await adapter.admit(toRawRequest(sample), TEST_SECRETS, NOW); } catch { continue; }
          if (admission.kind !== 'accepted') continue;
          const envelope = JSON.parse(JSON.stringify(buildEnvelope(adapter.name, toRawRequest(sample), admission, NOW, 'req-settings')));
          try { await adapter.parse(envelope, { ...sampleParsePorts(adapter.name), settings }); } catch { /* unreadable samples read settings too */ }
        }
      }
      expect([...read].filter((k) => SETTING_NAMES.has(k) && !declared.has(k))).toEqual([]);
    });

    it(`${adapter.name}: replies, survey questions, button answers and delivery reads use only its declared outbound settings`, () => {
      const declared = new Set(adapter.outboundSecrets);
      const read = new Set<string>();
      for (const full of [true, false]) {
        const secrets = recording(read, full);
        for (const msg of outbound(adapter)) {
          renderRequests(adapter, msg, { secrets });
          for (const res of answers) adapter.readDelivery(res, msg, { secrets });
        }
        adapter.answerInteraction?.({ callback_query_id: 'cb-1', event_id: 'e-1', user_id: '1', peer_id: '1' }, { secrets });
      }
      const ours = [...read].filter((k) => SETTING_NAMES.has(k));
      expect(ours.filter((k) => !declared.has(k))).toEqual([]);
    });
  }

  it('declares only settings of functions/runtime/config.ts', () => {
    for (const adapter of Object.values(channels)) {
      for (const name of [...adapter.inboundSecrets, ...(adapter.inboundOptional ?? []), ...(adapter.parseSettings ?? []), ...adapter.outboundSecrets]) expect(SETTING_NAMES.has(name), `${adapter.name}: ${name}`).toBe(true);
    }
  });
});
