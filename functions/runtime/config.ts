/**
 * Configuration from the environment, validated with zod once at start (`zod/mini`: every
 * function validates its settings at a cold start, the public webhook edge too, and the full
 * `zod` build would be half of that bundle — README "Entry points").
 *
 * Every setting is declared once in SETTINGS (name, meaning, default, whether it is a secret);
 * the README configuration table is generated from it (`npm run docs:config`). Any variable in
 * one of our namespaces that is not declared is an error, so a misspelt key such as
 * `TELEGRAM_SECRET_TOKN` fails at start instead of silently disabling a channel.
 *
 * In AWS, secrets are not in the template's environment: the parameters `CONFLUO_SECRET_NAMES`
 * names are read from SSM Parameter Store under `CONFLUO_SECRETS_PATH` and merged over the
 * environment before validation (functions/runtime/aws.ts `awsSettings`).
 */
import * as z from 'zod/mini';
import { parseRate } from '../domain/rate-limit.js';
import { API_VERSION, SHOP_DOMAIN } from '../domain/shopify-names.js';

export interface Setting {
  readonly name: string;
  readonly meaning: string;
  readonly default?: string;
  readonly secret?: boolean;
  readonly channel?: string;
}

export const SETTINGS = [
  // core
  { name: 'CONFLUO_TABLE_NAME', meaning: 'DynamoDB single table name', default: 'confluo' },
  { name: 'CONFLUO_INBOUND_QUEUE_URL', meaning: 'SQS FIFO queue that ingest writes raw requests to (set by the stack; locally the runtime\'s own queue)' },
  { name: 'CONFLUO_INBOUND_DLQ_URL', meaning: 'AWS only: dead-letter queue the process λ moves a poison record to, with its reason' },
  { name: 'CONFLUO_OUTBOUND_QUEUE_URL', meaning: 'SQS FIFO queue of replies to send (set by the stack; locally the runtime\'s own queue)' },
  { name: 'CONFLUO_OUTBOUND_MAX_RECEIVE_COUNT', meaning: 'maxReceiveCount of the outbound queue\'s redrive policy (set by the stack): the send λ marks a reply `failed` (`retries_exhausted`) on its last attempt instead of leaving it `queued`', default: '5' },
  { name: 'CONFLUO_TICKET_PREFIX', meaning: 'Prefix of human ticket numbers (`C-000123`), recognised in e-mail subjects', default: 'C' },
  { name: 'CONFLUO_REOPEN_WINDOW_DAYS', meaning: 'A customer message within this many days after resolution reopens the ticket', default: '7' },
  { name: 'CONFLUO_AUTO_ACK', meaning: 'Acknowledge every new ticket on the customer\'s channel (`on`/`off`)', default: 'on' },
  { name: 'CONFLUO_DEDUP_TTL_DAYS', meaning: 'Days a dedupe marker is kept (platforms retry for up to 7 days)', default: '8' },
  { name: 'CONFLUO_MESSAGE_TTL_DAYS', meaning: 'Retention: delete messages (text, attachments) this many days after they were written, by DynamoDB TTL (≥ 7; deleted within a few days after expiry; tickets, notes and events stay); unset: kept until the customer is erased' },
  { name: 'CONFLUO_FEED_TTL_DAYS', meaning: 'Retention: delete change-feed events (ids only, no personal data) this many days after they happened, by DynamoDB TTL (≥ 2: the hourly export reads the events since its last run); unset: kept' },
  { name: 'CONFLUO_SECRETS_PATH', meaning: 'AWS only: SSM Parameter Store path holding channel secrets (e.g. `/confluo/prod/`)' },
  { name: 'CONFLUO_SECRET_NAMES', meaning: 'AWS only: comma-separated settings this function reads from SSM under `CONFLUO_SECRETS_PATH` (set by the stack; its role may read exactly these parameters, a missing one is simply unset)' },
  { name: 'CONFLUO_DATA_DIR', meaning: 'Local runtime: where DynamoDB Local data, queues and the outbox persist', default: '.confluo' },
  { name: 'CONFLUO_LOG_LEVEL', meaning: 'Log level (DEBUG, INFO, WARN, ERROR)', default: 'INFO' },
  { name: 'PORT', meaning: 'Local runtime: HTTP port', default: '3000' },
  { name: 'CONFLUO_LOCAL_ALLOWED_HOSTS', meaning: 'Local runtime: further `Host` header values it answers, comma-separated `name` or `name:port` (e.g. a tunnel for real webhooks); 127.0.0.1, localhost and [::1] on its own port always' },
  { name: 'AGENT_JWT_SECRET', meaning: 'Local runtime: HS256 key of Agent API tokens (`POST /dev/token`); AWS uses Cognito', default: 'local-dev-agent-secret-change-me', secret: true },
  { name: 'ESCALATION_EMAIL', meaning: 'Where SLA escalations and bad-score alerts are e-mailed' },
  { name: 'CONFLUO_SLA_STATE_MACHINE_ARN', meaning: 'AWS only: the SLA state machine the dispatch λ starts one execution per ticket on' },
  { name: 'CONFLUO_SLA_DEFAULTS', meaning: 'SLA calendars and policies (JSON `{calendars, policies}`) in force until `PUT /api/v1/sla/…` stores others; default: `24x7` UTC, normal 1 h / 4 h / 24 h, urgent 15 min / 1 h / 4 h' },
  // close the loop: surveys after resolution (DESIGN.md §2)
  { name: 'CONFLUO_SURVEY', meaning: 'Survey after resolution: `csat` (1–5), `nps` (0–10) or `off`', default: 'csat' },
  { name: 'CONFLUO_SURVEY_DELAY_MINUTES', meaning: 'Minutes after resolution before the survey is sent', default: '60' },
  { name: 'CONFLUO_SURVEY_REMINDER_HOURS', meaning: 'Hours after the survey before the one reminder', default: '24' },
  { name: 'CONFLUO_SURVEY_EXPIRY_HOURS', meaning: 'Hours after the survey during which a score is accepted; then it expires unanswered', default: '72' },
  { name: 'CONFLUO_SURVEY_COMMENT_MINUTES', meaning: 'Minutes after a score during which a free-text message is recorded as the survey comment (not a reopen)', default: '60' },
  { name: 'CONFLUO_SURVEY_LOW_CSAT', meaning: 'CSAT scores at or below this reopen the ticket, raise its priority and alert the team lead', default: '2' },
  { name: 'CONFLUO_SURVEY_LOW_NPS', meaning: 'NPS scores at or below this reopen the ticket, raise its priority and alert the team lead', default: '6' },
  { name: 'CONFLUO_SURVEY_STATE_MACHINE_ARN', meaning: 'AWS only: the survey state machine the dispatch λ starts one execution per resolution on' },
  { name: 'CONFLUO_SURVEY_LINK_SECRET', meaning: 'HMAC-SHA256 key (≥ 32 characters) of the score links in survey e-mails (`/survey/{token}`); without it e-mail customers reply with a number', secret: true },
  { name: 'CONFLUO_PUBLIC_URL', meaning: 'Public base URL of the webhook API, where survey e-mail links point (`<url>/survey/{token}`); AWS: set by the stack to the webhook API URL; local default: the runtime\'s own URL' },
  // automatic assignment (issue 15): README "Automatic assignment"
  { name: 'CONFLUO_AGENT_DEFAULT_CAPACITY', meaning: 'Most active tickets an agent takes automatically until a supervisor sets their capacity (`PUT /api/v1/agents/{id}`)', default: '10' },
  { name: 'CONFLUO_ASSIGNMENT_STATE_MACHINE_ARN', meaning: 'AWS only: the assignment state machine the dispatch λ starts when an agent goes offline (the teams\' offline return)' },
  // analytics export (issue 9)
  { name: 'CONFLUO_EXPORT_BUCKET', meaning: 'AWS only: S3 bucket the export λ writes Parquet to (`<dataset>/dt=YYYY-MM-DD/part-0.parquet`); locally `$CONFLUO_DATA_DIR/export/`' },
  { name: 'CONFLUO_EXPORT_MESSAGE_TEXT', meaning: 'Export message text and survey comments (`on`/`off`); off keeps the export free of personal data', default: 'off' },
  { name: 'CONFLUO_EXPORT_CUSTOMER_PROFILE', meaning: 'Export customer name, language and country (`on`/`off`); never for erased customers', default: 'off' },
  // attachments (issue 14): README "Attachments"
  { name: 'CONFLUO_MEDIA_BUCKET', meaning: 'S3 bucket of attachment bytes (set by the stack on the functions that use it); locally the runtime\'s own store' },
  { name: 'CONFLUO_MEDIA_QUEUE_URL', meaning: 'SQS queue of attachment downloads (set by the stack; locally the runtime\'s own queue)' },
  { name: 'CONFLUO_MEDIA_MAX_MB', meaning: 'Largest inbound attachment kept, in MB (1 MB = 1,048,576 bytes), on every channel unless CONFLUO_MEDIA_CHANNEL_MAX_MB says otherwise; a larger one is marked `too_large` on the timeline', default: '25' },
  { name: 'CONFLUO_MEDIA_CHANNEL_MAX_MB', meaning: 'Per-channel limits overriding CONFLUO_MEDIA_MAX_MB, comma-separated `channel=MB` (e.g. `telegram=20,email=10`); Telegram bots cannot download files over 20 MB whatever is set' },
  { name: 'CONFLUO_MEDIA_MESSAGE_MAX_MB', meaning: 'Most bytes kept of one message\'s attachments together, in MB; attachments past it are marked `too_large`', default: '50' },
  { name: 'CONFLUO_MEDIA_URL_SECONDS', meaning: 'Lifetime of the signed attachment download URLs the Agent API answers, in seconds (1–3600)', default: '300' },
  // knowledge base and orders (issue 19): README "Knowledge base", "Orders"
  { name: 'CONFLUO_KB_CONFIDENCE', meaning: 'Least confidence (0–1: the share of the question\'s meaningful words an article holds) at which an article is offered before a ticket opens, and below which a search counts as "no good article"', default: '0.5' },
  { name: 'CONFLUO_KB_DEFLECTION', meaning: 'Channels whose customers are offered a matching article before a ticket opens, comma-separated (e.g. `webchat,telegram`), or `off`', default: 'webchat' },
  { name: 'CONFLUO_KB_DEFLECTION_SKIP_TIERS', meaning: 'Customer tiers that always reach a person: never offered an article on a messenger (comma-separated tier codes, or `none`)', default: 'vip' },
  { name: 'CONFLUO_ORDERS_WEBHOOK_SECRET', meaning: 'HMAC-SHA256 key (≥ 32 characters) the shop signs `POST /webhooks/orders` with (`X-Confluo-Signature: sha256=<hex>` of the raw body); without it the route answers 404', secret: true },
  { name: 'CONFLUO_SHOPIFY_SHOP', meaning: 'The shop whose orders the scheduled pull reads from Shopify\'s Admin API: its permanent domain `<name>.myshopify.com` (set by the stack from `-c shopifyShop=…`, which creates the pull)' },
  { name: 'CONFLUO_SHOPIFY_ACCESS_TOKEN', meaning: 'Admin API access token (`shpat_…`, scope `read_orders`) of the shop\'s custom app; or set CONFLUO_SHOPIFY_CLIENT_ID and CONFLUO_SHOPIFY_CLIENT_SECRET instead', secret: true },
  { name: 'CONFLUO_SHOPIFY_CLIENT_ID', meaning: 'Client ID of a Dev Dashboard app installed on the shop: with CONFLUO_SHOPIFY_CLIENT_SECRET the pull obtains its token by the client credentials grant (24 h tokens)', secret: true },
  { name: 'CONFLUO_SHOPIFY_CLIENT_SECRET', meaning: 'Client secret of that app', secret: true },
  { name: 'CONFLUO_SHOPIFY_API_VERSION', meaning: 'Admin API version the pull asks for (`YYYY-MM`; Shopify supports each for at least 12 months)', default: '2026-10' },
  { name: 'CONFLUO_SHOPIFY_PAGES_PER_RUN', meaning: 'Most pages of 25 orders one scheduled pull reads (1–100); the next run goes on where it stopped', default: '8' },
  // phone through Amazon Connect (issue 16): README "Phone (Amazon Connect)"
  { name: 'CONFLUO_CONNECT_INSTANCE_ARN', meaning: 'AWS only: the Amazon Connect instance whose flows call the lookup and whose contact events become calls (set by the stack with `-c connectInstanceArn=…`)' },
  { name: 'CONFLUO_VOICE_RECORDINGS', meaning: 'The Connect instance records calls (`on`/`off`): an answered call\'s timeline entry then names its recording (the contact id in the instance\'s contact search); no audio or transcript is ever copied', default: 'off' },
  // channels (channels.md §0.13)
  { name: 'TELEGRAM_SECRET_TOKEN', meaning: 'inbound: the `secret_token` given to `setWebhook`', secret: true, channel: 'telegram' },
  { name: 'TELEGRAM_BOT_TOKEN', meaning: 'outbound: bot token for sendMessage and file downloads', secret: true, channel: 'telegram' },
  { name: 'META_APP_SECRET', meaning: 'inbound HMAC key (X-Hub-Signature-256)', secret: true, channel: 'whatsapp, messenger, instagram' },
  { name: 'META_VERIFY_TOKEN', meaning: 'GET hub.challenge handshake token', secret: true, channel: 'whatsapp, messenger, instagram' },
  { name: 'META_GRAPH_API_VERSION', meaning: 'Graph API version for replies', default: 'v23.0', channel: 'whatsapp, messenger, instagram' },
  { name: 'WHATSAPP_ACCESS_TOKEN', meaning: 'outbound and media download', secret: true, channel: 'whatsapp' },
  { name: 'WHATSAPP_PHONE_NUMBER_ID', meaning: 'outbound sender number id (the inbound one wins when known)', channel: 'whatsapp' },
  { name: 'META_PAGE_ACCESS_TOKEN', meaning: 'outbound Send API token', secret: true, channel: 'messenger' },
  { name: 'META_HUMAN_AGENT_TAG', meaning: '`on`: an agent\'s reply 24 h – 7 days after the customer\'s last message goes out tagged `HUMAN_AGENT` (the Meta app needs that permission); `off`: 409 `messaging_window_closed` after 24 h', default: 'off', channel: 'messenger, instagram' },
  { name: 'INSTAGRAM_ACCESS_TOKEN', meaning: 'outbound token (defaults to META_PAGE_ACCESS_TOKEN)', secret: true, channel: 'instagram' },
  { name: 'VK_SECRET', meaning: 'inbound `secret` field', secret: true, channel: 'vk' },
  { name: 'VK_CONFIRMATION', meaning: 'confirmation string answered to `type: confirmation`', secret: true, channel: 'vk' },
  { name: 'VK_GROUP_ID', meaning: 'community id that events must carry', channel: 'vk' },
  { name: 'VK_ACCESS_TOKEN', meaning: 'outbound community token', secret: true, channel: 'vk' },
  { name: 'VK_API_VERSION', meaning: 'outbound API version', default: '5.199', channel: 'vk' },
  { name: 'VIBER_AUTH_TOKEN', meaning: 'inbound HMAC key and outbound token', secret: true, channel: 'viber' },
  { name: 'VIBER_SENDER_NAME', meaning: 'outbound `sender.name` (≤ 28 characters)', default: 'Support', channel: 'viber' },
  { name: 'TWILIO_AUTH_TOKEN', meaning: 'inbound signature key and outbound Basic auth password', secret: true, channel: 'twilio' },
  { name: 'TWILIO_WEBHOOK_URL', meaning: 'the public URL configured in Twilio (signatures are over it)', channel: 'twilio' },
  { name: 'TWILIO_ACCOUNT_SID', meaning: 'outbound account', channel: 'twilio' },
  { name: 'TWILIO_MESSAGING_SERVICE_SID', meaning: 'outbound messaging service (optional)', channel: 'twilio' },
  { name: 'EMAIL_SNS_TOPIC_ARN', meaning: 'the SNS topic the SES receipt rule publishes to', channel: 'email' },
  { name: 'SNS_CERT_DIR', meaning: 'optional directory of SNS signing certificates (offline verification)', channel: 'email' },
  { name: 'SNS_TRUST_ROOT_PEM', meaning: 'optional PEM CA certificates the SNS signing certificate must chain to (directly, or through the intermediate its AIA URL names on amazontrust.com); default: Amazon Root CA 1–4', channel: 'email' },
  { name: 'EMAIL_FROM', meaning: 'outbound From (a verified SES identity)', channel: 'email' },
  { name: 'EMAIL_FORM_SENDERS', meaning: 'comma-separated senders (addresses, or `@domain`) of mail sent on a customer\'s behalf — your web form, a marketplace — whose `Reply-To` is the customer: the Reply-To address becomes the customer\'s (unverified) identity. Replies always go to Reply-To when present', channel: 'email' },
  { name: 'EMAIL_SES_REGION', meaning: 'SES sending region: SES rewrites the Message-ID of sent mail to `<id>@<region>.amazonses.com` (`email.amazonses.com` in us-east-1), which replies are threaded by; default: the region of EMAIL_SNS_TOPIC_ARN', channel: 'email' },
  { name: 'WEBCHAT_SECRET', meaning: 'HS256 key of widget tokens (≥ 32 bytes)', secret: true, channel: 'webchat' },
  { name: 'WEBCHAT_ALLOWED_ORIGINS', meaning: 'optional comma-separated origins allowed to post', channel: 'webchat' },
  { name: 'CONFLUO_WEBCHAT_SESSION_RATE', meaning: 'Widget sessions (`POST /webchat/session`, renewals included) one client network (IPv4 /24, IPv6 /48) may start per window: `<count>/<window>` (`s`, `m`, `h`), or `off`; beyond it 429 with Retry-After', default: '20/10m', channel: 'webchat' },
  { name: 'CONFLUO_WEBCHAT_MESSAGE_RATE', meaning: 'Widget messages (`POST /webhooks/webchat`) one client network may post per window (same format), or `off`', default: '30/1m', channel: 'webchat' },
] as const satisfies readonly Setting[];

export type SettingName = (typeof SETTINGS)[number]['name'];

/** Prefixes that belong to Confluo: an unknown key with one of them is a configuration error. */
export const NAMESPACES = [
  'CONFLUO_', 'TELEGRAM_', 'META_', 'WHATSAPP_', 'INSTAGRAM_', 'VK_', 'VIBER_', 'TWILIO_',
  'EMAIL_', 'SNS_', 'WEBCHAT_', 'AGENT_', 'ESCALATION_',
] as const;

/**
 * Public test-only secrets of channels.md §10: the local runtime warns when one is in force, and
 * the AWS platform refuses to start with any of them (`refuseTestSecrets`, functions/runtime/aws.ts).
 */
export const TEST_SECRETS: Readonly<Record<string, string>> = {
  TELEGRAM_SECRET_TOKEN: 'test-telegram-secret-000',
  META_APP_SECRET: 'test-meta-app-secret-000',
  META_VERIFY_TOKEN: 'test-meta-verify-000',
  VK_SECRET: 'test-vk-secret-000',
  VK_CONFIRMATION: 'c0nf1rm0',
  VIBER_AUTH_TOKEN: 'test-viber-auth-token-000',
  TWILIO_AUTH_TOKEN: 'test-twilio-auth-token-000',
  WEBCHAT_SECRET: 'test-webchat-secret-0000000000000000',
  CONFLUO_SURVEY_LINK_SECRET: 'test-survey-link-secret-000000000000',
  CONFLUO_ORDERS_WEBHOOK_SECRET: 'test-orders-webhook-secret-0000000000',
  // Locally the pull asks the simulated shop (local/shopify-simulator.ts), which checks this token.
  CONFLUO_SHOPIFY_ACCESS_TOKEN: 'shpat_test-shopify-access-token-000',
  // Outbound tokens: the local runtime performs nothing with them (the outbox records the requests).
  TELEGRAM_BOT_TOKEN: '1000000001:test-telegram-bot-token-000',
  WHATSAPP_ACCESS_TOKEN: 'test-whatsapp-access-token-000',
  META_PAGE_ACCESS_TOKEN: 'test-meta-page-access-token-000',
  VK_ACCESS_TOKEN: 'test-vk-access-token-000',
};


const shape = Object.fromEntries(
  SETTINGS.map((s) => [s.name, 'default' in s ? z._default(z.string().check(z.minLength(1)), s.default) : z.optional(z.string().check(z.minLength(1)))]),
) as unknown as Record<SettingName, z.ZodMiniType<string | undefined>>;

const ConfigSchema = z
  .strictObject(shape)
  .check(z.superRefine((c: Record<SettingName, string | undefined>, ctx) => {
    for (const key of ['CONFLUO_REOPEN_WINDOW_DAYS', 'CONFLUO_DEDUP_TTL_DAYS', 'PORT', 'CONFLUO_OUTBOUND_MAX_RECEIVE_COUNT', 'CONFLUO_AGENT_DEFAULT_CAPACITY'] as const) {
      if (!isPositiveInt(c[key])) ctx.addIssue({ code: 'custom', path: [key], message: 'must be a positive integer' });
    }
    for (const key of ['CONFLUO_AUTO_ACK', 'CONFLUO_EXPORT_MESSAGE_TEXT', 'CONFLUO_EXPORT_CUSTOMER_PROFILE', 'META_HUMAN_AGENT_TAG', 'CONFLUO_VOICE_RECORDINGS'] as const) {
      if (!['on', 'off'].includes(c[key] ?? '')) ctx.addIssue({ code: 'custom', path: [key], message: 'must be on or off' });
    }
    if (!['csat', 'nps', 'off'].includes(c.CONFLUO_SURVEY ?? '')) ctx.addIssue({ code: 'custom', path: ['CONFLUO_SURVEY'], message: 'must be csat, nps or off' });
    for (const key of ['CONFLUO_SURVEY_DELAY_MINUTES', 'CONFLUO_SURVEY_REMINDER_HOURS', 'CONFLUO_SURVEY_EXPIRY_HOURS', 'CONFLUO_SURVEY_COMMENT_MINUTES', 'CONFLUO_SURVEY_LOW_CSAT', 'CONFLUO_SURVEY_LOW_NPS'] as const) {
      if (!/^\d+$/.test(c[key] ?? '')) ctx.addIssue({ code: 'custom', path: [key], message: 'must be a whole number ≥ 0' });
    }
    if (Number(c.CONFLUO_SURVEY_LOW_CSAT) > 5) ctx.addIssue({ code: 'custom', path: ['CONFLUO_SURVEY_LOW_CSAT'], message: 'must be 0–5 (CSAT is 1–5)' });
    if (Number(c.CONFLUO_SURVEY_LOW_NPS) > 10) ctx.addIssue({ code: 'custom', path: ['CONFLUO_SURVEY_LOW_NPS'], message: 'must be 0–10 (NPS is 0–10)' });
    if (Number(c.CONFLUO_SURVEY_EXPIRY_HOURS) <= Number(c.CONFLUO_SURVEY_REMINDER_HOURS) && c.CONFLUO_SURVEY_EXPIRY_HOURS !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['CONFLUO_SURVEY_EXPIRY_HOURS'], message: 'must be more than CONFLUO_SURVEY_REMINDER_HOURS (the reminder comes before the survey expires)' });
    }
    // An HMAC-SHA256 key for visitor tokens anyone can try to forge offline: at least the hash's size.
    if (c.WEBCHAT_SECRET !== undefined && Buffer.byteLength(c.WEBCHAT_SECRET, 'utf8') < 32) {
      ctx.addIssue({ code: 'custom', path: ['WEBCHAT_SECRET'], message: 'must be at least 32 bytes (an HMAC-SHA256 key; e.g. `openssl rand -base64 32`)' });
    }
    if (c.CONFLUO_SURVEY_LINK_SECRET !== undefined && c.CONFLUO_SURVEY_LINK_SECRET.length < 32) {
      ctx.addIssue({ code: 'custom', path: ['CONFLUO_SURVEY_LINK_SECRET'], message: 'must be at least 32 characters (an HMAC-SHA256 key; e.g. `openssl rand -base64 32`)' });
    }
    const kbConfidence = Number(c.CONFLUO_KB_CONFIDENCE);
    if (!(c.CONFLUO_KB_CONFIDENCE ?? '').trim() || !(kbConfidence > 0 && kbConfidence <= 1)) ctx.addIssue({ code: 'custom', path: ['CONFLUO_KB_CONFIDENCE'], message: 'must be a number in (0, 1]' });
    if (c.CONFLUO_KB_DEFLECTION !== undefined && !/^\s*(off|[a-z]+(\s*,\s*[a-z]+)*)\s*$/.test(c.CONFLUO_KB_DEFLECTION)) {
      ctx.addIssue({ code: 'custom', path: ['CONFLUO_KB_DEFLECTION'], message: 'must be comma-separated channel names (e.g. webchat,telegram) or off' });
    }
    if (!/^\s*(none|[a-z][a-z0-9_-]{0,31}(\s*,\s*[a-z][a-z0-9_-]{0,31})*)\s*$/.test(c.CONFLUO_KB_DEFLECTION_SKIP_TIERS ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['CONFLUO_KB_DEFLECTION_SKIP_TIERS'], message: 'must be comma-separated tier codes (e.g. vip,gold) or none' });
    }
    if (c.CONFLUO_ORDERS_WEBHOOK_SECRET !== undefined && c.CONFLUO_ORDERS_WEBHOOK_SECRET.length < 32) {
      ctx.addIssue({ code: 'custom', path: ['CONFLUO_ORDERS_WEBHOOK_SECRET'], message: 'must be at least 32 characters (an HMAC-SHA256 key; e.g. `openssl rand -base64 32`)' });
    }
    if (c.CONFLUO_SHOPIFY_SHOP !== undefined && !SHOP_DOMAIN.test(c.CONFLUO_SHOPIFY_SHOP)) {
      ctx.addIssue({ code: 'custom', path: ['CONFLUO_SHOPIFY_SHOP'], message: 'must be the shop\'s permanent domain <name>.myshopify.com (lower case, no scheme or path)' });
    }
    if (!API_VERSION.test(c.CONFLUO_SHOPIFY_API_VERSION ?? '')) ctx.addIssue({ code: 'custom', path: ['CONFLUO_SHOPIFY_API_VERSION'], message: 'must be a quarterly Admin API version YYYY-01, -04, -07 or -10' });
    if (!isPositiveInt(c.CONFLUO_SHOPIFY_PAGES_PER_RUN) || Number(c.CONFLUO_SHOPIFY_PAGES_PER_RUN) > 100) ctx.addIssue({ code: 'custom', path: ['CONFLUO_SHOPIFY_PAGES_PER_RUN'], message: 'must be a whole number 1–100' });
    if ((c.CONFLUO_SHOPIFY_CLIENT_ID === undefined) !== (c.CONFLUO_SHOPIFY_CLIENT_SECRET === undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.CONFLUO_SHOPIFY_CLIENT_ID === undefined ? 'CONFLUO_SHOPIFY_CLIENT_ID' : 'CONFLUO_SHOPIFY_CLIENT_SECRET'], message: 'set both CONFLUO_SHOPIFY_CLIENT_ID and CONFLUO_SHOPIFY_CLIENT_SECRET, or neither' });
    }
    if (c.CONFLUO_PUBLIC_URL !== undefined && !isPublicBase(c.CONFLUO_PUBLIC_URL)) {
      ctx.addIssue({ code: 'custom', path: ['CONFLUO_PUBLIC_URL'], message: 'must be an http(s) URL without query or fragment, e.g. https://abc123.execute-api.eu-central-1.amazonaws.com/' });
    }
    for (const key of ['CONFLUO_WEBCHAT_SESSION_RATE', 'CONFLUO_WEBCHAT_MESSAGE_RATE'] as const) {
      if (c[key] !== 'off' && parseRate(c[key] ?? '') === null) ctx.addIssue({ code: 'custom', path: [key], message: 'must be <count>/<window> such as 20/10m (window in s, m or h, at most 24h) or off' });
    }
    for (const [key, min] of [['CONFLUO_MESSAGE_TTL_DAYS', 7], ['CONFLUO_FEED_TTL_DAYS', 2]] as const) {
      const v = c[key];
      if (v !== undefined && (!/^\d+$/.test(v) || Number(v) < min)) ctx.addIssue({ code: 'custom', path: [key], message: `must be a whole number of days ≥ ${min}, or unset` });
    }
    for (const key of ['CONFLUO_MEDIA_MAX_MB', 'CONFLUO_MEDIA_MESSAGE_MAX_MB', 'CONFLUO_MEDIA_URL_SECONDS'] as const) {
      if (!isPositiveInt(c[key])) ctx.addIssue({ code: 'custom', path: [key], message: 'must be a positive integer' });
    }
    if (Number(c.CONFLUO_MEDIA_URL_SECONDS) > 3600) ctx.addIssue({ code: 'custom', path: ['CONFLUO_MEDIA_URL_SECONDS'], message: 'must be at most 3600 (signed URLs are short-lived)' });
    if (c.CONFLUO_MEDIA_CHANNEL_MAX_MB !== undefined && !/^\s*[a-z]+\s*=\s*\d+\s*(,\s*[a-z]+\s*=\s*\d+\s*)*$/.test(c.CONFLUO_MEDIA_CHANNEL_MAX_MB)) {
      ctx.addIssue({ code: 'custom', path: ['CONFLUO_MEDIA_CHANNEL_MAX_MB'], message: 'must be comma-separated channel=MB pairs, e.g. telegram=20,email=10' });
    }
    if (Number(c.CONFLUO_DEDUP_TTL_DAYS) < 8) ctx.addIssue({ code: 'custom', path: ['CONFLUO_DEDUP_TTL_DAYS'], message: 'must be ≥ 8: WhatsApp retries for 7 days' });
  }));

/** What `z.coerce.number().int().positive()` accepted: a number literal that is a positive integer. */
function isPositiveInt(v: string | undefined): boolean {
  if (v === undefined || v.trim() === '') return false;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0;
}

function isPublicBase(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.search === '' && u.hash === '' && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

export type Config = Readonly<Record<SettingName, string | undefined>> & {
  readonly CONFLUO_TABLE_NAME: string;
  readonly CONFLUO_TICKET_PREFIX: string;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Pick our own keys out of `env` and validate them. Unknown keys in our namespaces fail;
 * values are never echoed in the error (they may be secrets).
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const ours: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === '') continue;
    if (k === 'PORT' || NAMESPACES.some((p) => k.startsWith(p))) ours[k] = v;
  }
  const parsed = ConfigSchema.safeParse(ours);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys' ? `unknown setting(s) ${i.keys.join(', ')} — see the README configuration table` : `${i.path.join('.')}: ${i.message}`,
    );
    throw new ConfigError(`config: ${problems.join('; ')}`, { cause: { keys: parsed.error.issues.map((i) => i.path.join('.')) } });
  }
  return parsed.data as Config;
}

/**
 * A setting the caller cannot work without, which the stack sets for it (a queue URL, a bucket):
 * its absence means the function's wiring in lib/ lacks a binding — say so, by name.
 */
export function requireSetting(config: Config, name: SettingName, who: string): string {
  const value = config[name];
  if (value === undefined) throw new ConfigError(`config: ${who} needs ${name}, which its function's environment does not set (a binding missing in lib/?)`, { cause: { keys: [name] } });
  return value;
}

/** Names of test secrets found in a configuration (for a start-up warning outside tests). */
export function testSecretsIn(config: Config): string[] {
  return Object.entries(TEST_SECRETS).filter(([k, v]) => config[k as SettingName] === v).map(([k]) => k);
}

/**
 * Outside the local runtime, a public test secret is a published credential: anyone could sign
 * webhooks, mint web-chat tokens or survey links with it. Throws a ConfigError naming the
 * settings (never their values).
 */
export function refuseTestSecrets(config: Config): Config {
  const found = testSecretsIn(config);
  if (found.length > 0) {
    throw new ConfigError(`config: ${found.join(', ')} ${found.length === 1 ? 'is a' : 'are'} public test secret${found.length === 1 ? '' : 's'} (local/sample-settings.ts); set your own in the secrets path`, { cause: { keys: found } });
  }
  return config;
}
