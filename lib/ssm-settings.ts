/**
 * Which SSM parameters (under the stack's secrets path) each function may read — least privilege
 * (issue 17 finding 3). One list per reader, derived from what the code declares:
 *
 * - ingest: the inbound settings of every channel (`inboundSecrets` + `inboundOptional`), never
 *   an outbound token — it admits webhooks, it sends nothing;
 * - send: the outbound settings of every channel (`outboundSecrets`), never an inbound signing key;
 * - webchat-api: the web-chat channel's inbound settings only (it signs and checks widget tokens
 *   as ingest does);
 * - survey-link: `CONFLUO_SURVEY_LINK_SECRET` only; survey-step: that key and the e-mail
 *   channel's SES region (its alert e-mails are sent where the channel sends); sla-evaluate: that
 *   region (escalation e-mails);
 * - process: what the channels' `parse` reads (`parseSettings`: e-mail's `EMAIL_FORM_SENDERS`) and
 *   the knowledge base's deflection settings (`CONFLUO_KB_*`: it offers articles on messengers);
 * - agent-api: `META_HUMAN_AGENT_TAG` (whether Messenger/Instagram replies may be tagged);
 * - media: the download tokens of the channels whose attachments need one (`mediaSecrets`:
 *   Telegram's bot token, WhatsApp's access token, Twilio's account SID and auth token);
 * - the widget's rate limits (`CONFLUO_WEBCHAT_*_RATE`) where they are counted (ingest, webchat-api);
 * - orders-webhook: its signing key; orders-pull: the Shopify token or app credentials only.
 *
 * `ConfluoFunction.bindSecrets` puts the list in the function's `CONFLUO_SECRET_NAMES` and grants
 * `ssm:GetParameters` on exactly those parameter ARNs; the function reads them by name
 * (functions/runtime/aws.ts `awsSettings`), so the grant and the read come from the same value.
 * That the adapters declare every setting they read is tested (tests/channels/settings-reads.test.ts).
 */
import { channels } from '../functions/channels/registry.js';
import { SETTINGS, type SettingName } from '../functions/runtime/config.js';
import type { HandlerName } from './confluo-function.js';

const DECLARED = new Set<string>(SETTINGS.map((s) => s.name));

function names(list: Iterable<string>): readonly SettingName[] {
  const out = [...new Set(list)].sort();
  for (const n of out) if (!DECLARED.has(n)) throw new Error(`ssm-settings: ${n} is not a setting of functions/runtime/config.ts`);
  return out as SettingName[];
}

const adapters = Object.values(channels);

/** The SSM-backed settings of each function that reads any; functions not listed read none. */
const SES_REGION = ['EMAIL_SES_REGION', 'EMAIL_SNS_TOPIC_ARN'];

export const SSM_SETTINGS = {
  ingest: names([...adapters.flatMap((a) => [...a.inboundSecrets, ...(a.inboundOptional ?? [])]), 'CONFLUO_WEBCHAT_MESSAGE_RATE']),
  send: names(adapters.flatMap((a) => a.outboundSecrets)),
  'webchat-api': names([...channels.webchat!.inboundSecrets, ...(channels.webchat!.inboundOptional ?? []), 'CONFLUO_WEBCHAT_SESSION_RATE']),
  'survey-link': names(['CONFLUO_SURVEY_LINK_SECRET']),
  'survey-step': names(['CONFLUO_SURVEY_LINK_SECRET', ...SES_REGION]),
  'sla-evaluate': names(SES_REGION),
  process: names([...adapters.flatMap((a) => a.parseSettings ?? []), 'CONFLUO_KB_CONFIDENCE', 'CONFLUO_KB_DEFLECTION', 'CONFLUO_KB_DEFLECTION_SKIP_TIERS']),
  'agent-api': names(['META_HUMAN_AGENT_TAG']),
  media: names(adapters.flatMap((a) => a.mediaSecrets ?? [])),
  'help-api': names(['CONFLUO_KB_CONFIDENCE', 'CONFLUO_KB_DEFLECTION']),
  'orders-webhook': names(['CONFLUO_ORDERS_WEBHOOK_SECRET']),
  'orders-pull': names(['CONFLUO_SHOPIFY_ACCESS_TOKEN', 'CONFLUO_SHOPIFY_CLIENT_ID', 'CONFLUO_SHOPIFY_CLIENT_SECRET']),
} as const satisfies Partial<Record<HandlerName, readonly SettingName[]>>;
