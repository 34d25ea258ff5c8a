/**
 * The channel adapter contract (channels.md is normative).
 *
 * Adding a channel takes two steps:
 *   1. one folder `functions/channels/<name>/` with `ingress.ts` exporting `defineIngress({...})`
 *      (what the webhook edge needs: name, inbound settings, body limit, `admit`), `index.ts`
 *      exporting `defineChannel({ ...<name>Ingress, ... })` (the rest: parse, render, …), and
 *      `samples/` (NN-<what>.json accepted requests, refuse-<why>.json refusals, signed with
 *      the test secrets of channels.md §10 — `npm run samples:sign` re-signs them);
 *   2. one registry line per side: `functions/channels/registry.ts` (the adapter) and
 *      `functions/channels/ingress.ts` (its verify side, all the ingest function imports);
 *      tests/channels/ingress.test.ts fails when the two disagree.
 *
 * Why two modules per channel: the ingest function answers webhooks, and a cold start pays for
 * every byte it imports. `ingress.ts` and what it imports must stay free of parsers (MIME, HTML,
 * phone metadata) and of full `zod` (`zod/mini` is enough for the shape checks);
 * tests/channels/ingress-bundle.test.ts bundles the edge and refuses those packages in it.
 * Samples must cover every event kind the channel's section names, a duplicate, and the refusals
 * (wrong/missing credential → 401, malformed body and missing required field → 400).
 *
 * Adapters are pure: they read bytes, check credentials with `node:crypto`, and *describe* the
 * platform request for a reply. They never perform network or database I/O.
 *
 * A channel whose button presses must be acknowledged (Telegram callback queries, VK callback
 * buttons) puts what it needs in `InboundMessage.interaction_ref` at parse time and describes the
 * acknowledgement in `answerInteraction`; the pipeline (process → feed event
 * `interaction.received` → dispatch → send) performs it once. Nothing else is needed.
 */
import type { Attachment, Channel, NormalisedEvent, StatusUpdate } from '../domain/inbound.js';
import type { SmsSegments } from '../domain/sms.js';
import type { MediaCapability, OutboundMedia } from './media.js';
import { splitText, type TextLimit } from './text.js';

/** A webhook request exactly as received (headers lower-cased, body as raw bytes). */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What ingest enqueues for an accepted request (channels.md §0.4). */
export interface Envelope {
  readonly v: 1;
  readonly channel: Channel;
  readonly request_id: string;
  readonly received_at: number; // ms
  readonly body_b64: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly auth: Readonly<Record<string, unknown>> | null;
}

export interface HttpReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A fully described platform call; the send handler performs it, locally the outbox records it. */
export interface PlatformRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  /**
   * A multipart/form-data body instead of `body` (a file upload: Telegram sendDocument, VK's
   * upload server). Files are base64 here so the request stays a plain value (the local outbox
   * records it as JSON); the transport sends the bytes.
   */
  readonly form?: readonly FormField[];
}

/** One field of a multipart/form-data request. */
export type FormField =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly file_name: string; readonly content_type: string; readonly data_b64: string };

/** What the platform answered to a PlatformRequest. */
export interface PlatformResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type DeliveryResult =
  | { readonly ok: true; readonly external_message_id?: string }
  | { readonly ok: false; readonly retryable: boolean; readonly retry_after_s?: number; readonly error_code: string; readonly unreachable?: boolean };

/** An agent reply, acknowledgement or survey to be rendered for the customer's channel. */
export interface OutboundMessage {
  readonly id: string;
  readonly channel: Channel;
  readonly conversation_id: string;
  readonly text: string;
  /** `deflection`: an article offered before a ticket opens, with its two buttons (README "Knowledge base"). */
  readonly kind: 'reply' | 'acknowledgement' | 'survey' | 'reminder' | 'deflection';
  /** Buttons the customer can press (surveys); rendered natively where the channel has them. */
  readonly buttons?: ReadonlyArray<{ readonly label: string; readonly payload: string }>;
  /** Channel-specific context captured from the last inbound message (e.g. WhatsApp phone_number_id). */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * A registered WhatsApp template (the only message WhatsApp takes outside the 24-hour window):
   * its name and language as approved by Meta, and the values of its `{{1}}`, `{{2}}` … in order.
   * `text` is then the body as the customer reads it.
   */
  readonly template?: { readonly name: string; readonly language: string; readonly parameters: readonly string[] };
  /** Messenger/Instagram beyond the 24-hour window: a human agent's reply tagged `HUMAN_AGENT` (up to 7 days). */
  readonly tag?: 'HUMAN_AGENT';
  /**
   * Files the agent attached (checked against the channel's `media` limits by the Agent API),
   * resolved by the send handler: presigned URL, the bytes where the platform needs them, a
   * platform upload's reference (`uploadMedia`). Rendered natively, after the text.
   */
  readonly attachments?: readonly OutboundMedia[];
}

/** Channel secrets and settings from the validated configuration. */
export type Secrets = Readonly<Record<string, string | undefined>>;

/** Reason codes of refusals (channels.md §0.3). */
export type RefusalCode = 'unauthorized' | 'forbidden' | 'malformed' | 'invalid';

/**
 * Thrown by adapters for a refused request. `status` is the HTTP status ingest answers;
 * `cause` carries evidence without personal data ({ channel, stage, detail }).
 */
export class ChannelRequestError extends Error {
  override readonly name = 'ChannelRequestError';
  constructor(
    readonly status: 400 | 401 | 403,
    readonly code: RefusalCode,
    message: string,
    options?: { cause?: { channel: string; stage: string; detail?: string } },
  ) {
    super(message, options);
  }
}

/** Thrown by `render` when a message cannot be described (e.g. a missing outbound setting): permanent. */
export class ChannelRenderError extends Error {
  override readonly name = 'ChannelRenderError';
  constructor(message: string, options?: { cause?: { channel: string; stage: 'render'; setting?: string } }) {
    super(message, options);
  }
}

export const unauthorized = (channel: string, stage: string, detail?: string) =>
  new ChannelRequestError(401, 'unauthorized', 'request could not be authenticated', { cause: { channel, stage, ...(detail ? { detail } : {}) } });
export const forbidden = (channel: string, stage: string, detail?: string) =>
  new ChannelRequestError(403, 'forbidden', 'request is not allowed', { cause: { channel, stage, ...(detail ? { detail } : {}) } });
export const malformed = (channel: string, stage: string, detail?: string) =>
  new ChannelRequestError(400, 'malformed', 'request body is malformed', { cause: { channel, stage, ...(detail ? { detail } : {}) } });
export const invalid = (channel: string, stage: string, detail?: string) =>
  new ChannelRequestError(400, 'invalid', 'request body is invalid', { cause: { channel, stage, ...(detail ? { detail } : {}) } });

/** Result of the ingest-side checks: either a reply to send now (handshake) or an accepted request. */
export type Admission =
  | { readonly kind: 'handshake'; readonly reply: HttpReply }
  | {
      readonly kind: 'accepted';
      /** FIFO group suffix: the conversation key (MessageGroupId = `<channel>:<key>`). */
      readonly conversationKey: string | null;
      /** Headers to carry to the process step (never credentials). */
      readonly headers?: Readonly<Record<string, string>>;
      /** Verified claims (webchat token) to carry; never the token itself. */
      readonly auth?: Readonly<Record<string, unknown>> | null;
      /** The 2xx answer for the platform. */
      readonly reply: HttpReply;
    };

/** What the webhook edge reads of a channel's capabilities. */
export interface IngressCapabilities {
  /** Largest accepted raw body in bytes (channels.md §0.2). */
  readonly maxBodyBytes: number;
  /** Methods answered on /webhooks/{channel} besides POST (Meta GET handshake, webchat OPTIONS). */
  readonly extraMethods?: ReadonlyArray<'GET' | 'OPTIONS'>;
}

export interface ChannelCapabilities extends IngressCapabilities {
  /**
   * Free-form reply window in seconds after the customer's last message; null = none. A channel
   * whose window depends on the conversation (`replyWindowFor`) gives its strictest one here.
   */
  readonly replyWindowSeconds: number | null;
  /** Native buttons available for surveys. */
  readonly buttons: boolean;
  /**
   * The longest text one platform message takes (functions/channels/text.ts; docs/channels.md
   * tables them). `render` sends a longer text as several messages; absent = no limit (e-mail,
   * web chat).
   */
  readonly textLimit?: TextLimit;
  /**
   * Messenger and Instagram: a human agent may answer for 7 days after the customer's last
   * message with the `HUMAN_AGENT` tag, where the app has that permission (META_HUMAN_AGENT_TAG).
   */
  readonly humanAgentTag?: boolean;
  /** WhatsApp: approved templates may be sent outside the window (`OutboundMessage.template`). */
  readonly templates?: boolean;
  /**
   * The platform de-duplicates a repeated send of the same message (VK `random_id`), so a send
   * whose answer never came (a timeout) may simply be retried. Without it such a send is failed
   * with `timeout` instead: retrying could deliver it twice.
   */
  readonly idempotentSend?: boolean;
  /**
   * A new (not edited) message's `external_message_id` names exactly one inbound event although
   * the dedupe key is another id (Telegram's update id, VK's event id): a redelivery repeats the
   * message id. Its message reference is then the exactly-once marker (functions/store/table.ts).
   * Channels whose dedupe key is the message id need not say so.
   */
  readonly messageIdOnce?: boolean;
  /**
   * The files a reply may carry and how each reaches the platform (functions/channels/media.ts);
   * absent = none. A channel whose limits depend on the conversation gives `mediaFor` instead.
   */
  readonly media?: MediaCapability;
}

export interface RenderContext {
  readonly secrets: Secrets;
}

/**
 * The verify side of a channel: all the ingest function imports (`<name>/ingress.ts`).
 */
export interface ChannelIngress {
  readonly name: Channel;
  /** Settings that must all be present for the channel to accept inbound requests (§0.13). */
  readonly inboundSecrets: readonly string[];
  /** Settings admission reads when they are present (an origin list, a trust root). */
  readonly inboundOptional?: readonly string[];
  readonly capabilities: IngressCapabilities;
  /**
   * Ingest checks after the size limit: authenticity, validity, handshakes (§0.2 steps 3–5).
   * Throws ChannelRequestError for a refusal. `now` is epoch ms (webchat token expiry).
   * Async only because a few channels need a certificate (SNS); adapters still perform no I/O
   * except through the `certificates` port handed in.
   */
  admit(req: RawRequest, secrets: Secrets, now: number, ports?: AdmitPorts): Promise<Admission> | Admission;
}

export interface ChannelAdapter extends ChannelIngress {
  /** Settings `parse` reads (handed in as `ParsePorts.settings`; the process function reads them). */
  readonly parseSettings?: readonly string[];
  /**
   * Settings used for replies and downloads (documented, optional at start). With the inbound
   * ones these are all a channel reads: in AWS a function may read only the SSM parameters its
   * side of the channels declares (lib/ssm-settings.ts; tests/channels/settings-reads.test.ts).
   */
  readonly outboundSecrets: readonly string[];
  /** Settings `mediaFetch` reads (tokens of downloads; a subset of the outbound ones): all the media function may read. */
  readonly mediaSecrets?: readonly string[];
  readonly capabilities: ChannelCapabilities;
  /** Process-side parse of an accepted envelope into normalised events (§0.5). Trusts the queue. */
  parse(envelope: Envelope, ports?: ParsePorts): Promise<NormalisedEvent[]> | NormalisedEvent[];
  /**
   * Describe the platform call that delivers `msg`. A channel whose API caps a message below what
   * we may send (Telegram: 4096 characters) returns the parts in order; the sender performs them
   * one after another and the delivery id is the last part's (use `renderRequests`).
   */
  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest | readonly PlatformRequest[];
  /**
   * Read the platform's answer: outbound id, retryability. `ctx` carries the settings for ids the
   * answer does not spell out in full (SES: the Message-ID domain depends on the sending region).
   */
  readDelivery(res: PlatformResponse, msg: OutboundMessage, ctx?: RenderContext): DeliveryResult;
  /** Map a platform's receipt word to our delivery state (§0.11). */
  deliveryFor?(update: StatusUpdate): DeliveryState | null;
  /**
   * The free-form reply window of one conversation, for channels where it depends on more than
   * the channel (Twilio: WhatsApp via Twilio follows Meta's 24 h rule, SMS has none). Seconds
   * after the customer's last message; null = none. Without it `capabilities.replyWindowSeconds`
   * applies (use `replyWindowOf`).
   */
  replyWindowFor?(target: ReplyWindowTarget): number | null;
  /**
   * Where the platform bills a text per piece (SMS segments, functions/domain/sms.ts): what this
   * text costs on that conversation, shown to the agent. Null = one message per part, nothing more.
   */
  segmentsOf?(text: string, target: ReplyWindowTarget): SmsSegments | null;
  /**
   * Describe the platform's acknowledgement of a button press (Telegram `answerCallbackQuery`,
   * VK `messages.sendMessageEventAnswer`): without it the customer's client keeps a spinner.
   * `ref` is what `parse` put in `InboundMessage.interaction_ref` for that press. Null = nothing to
   * answer. Performed once per interaction, best-effort, by the send handler; its answer is read
   * with `readDelivery`. Channels whose presses need no answer leave this out.
   */
  answerInteraction?(ref: InteractionRef, ctx: RenderContext): PlatformRequest | null;
  /** The attachment limits of one conversation (Twilio: MMS or WhatsApp); without it `capabilities.media` (use `mediaOf`). */
  mediaFor?(target: ReplyWindowTarget): MediaCapability | null;
  /**
   * A platform that takes files only as its own uploads (VK's upload server) describes the steps
   * that turn one file into the reference `render` attaches (`OutboundMedia.platform_ref`). The
   * send handler performs the steps in order; each step is described from the previous step's
   * answer (the upload URL VK hands out, the upload's receipt), and `ref` reads the last answer.
   * A step whose previous answer lacks what it needs throws (the send fails `upload_failed`).
   */
  uploadMedia?(file: OutboundMedia, msg: OutboundMessage, ctx: RenderContext): UploadFlow | null;
  /**
   * How the bytes of an inbound attachment are fetched (issue 14), described with the channel's
   * own method (Telegram `getFile` then the file URL; WhatsApp the media id's URL then the
   * download, both with the bearer token; Twilio `MediaUrlN` with Basic auth; a CDN URL as is);
   * the media function performs it after the message is committed. Null = nothing to fetch
   * (a location, an `other`, a VK video). Channels without it keep metadata only.
   */
  mediaFetch?(attachment: Attachment, index: number, ctx: RenderContext): MediaFetch | null;
}

/** The requests of a platform upload, each described from the answer before it (null for the first). */
export interface UploadFlow {
  readonly steps: ReadonlyArray<(previous: PlatformResponse | null) => PlatformRequest>;
  /** The platform's reference of the uploaded file, read from the last step's answer. */
  ref(last: PlatformResponse): string;
}

/** The attachment limits that apply to `target` on `adapter`'s channel (null = no files). */
export function mediaOf(adapter: ChannelAdapter, target: ReplyWindowTarget): MediaCapability | null {
  return adapter.mediaFor ? adapter.mediaFor(target) : adapter.capabilities.media ?? null;
}

/**
 * One step of fetching an attachment: a `download` whose answer is the bytes; a `lookup` whose
 * (2xx, JSON) answer says where the bytes are (`next` reads it — pure); a part of the raw MIME
 * the process function kept (e-mail); an upload already in the media bucket (web chat); or why it
 * cannot be had.
 */
export type MediaFetch =
  | { readonly kind: 'download'; readonly request: PlatformRequest; readonly declaredSize?: number; readonly fileName?: string }
  | { readonly kind: 'lookup'; readonly request: PlatformRequest; readonly next: (res: PlatformResponse) => MediaFetch }
  | { readonly kind: 'mime-part'; readonly index: number }
  /** An object already in the media bucket (a web-chat visitor's upload): read, checked and kept like a download. */
  | { readonly kind: 'object'; readonly key: string; readonly declaredSize?: number }
  | { readonly kind: 'unavailable'; readonly status: 'gone' | 'failed' | 'too_large'; readonly reason: string };

/**
 * The step for a plain URL that needs no credentials (a temporary CDN link in a signed webhook).
 * HTTPS only: the URL comes from a payload, and the media function should never be pointed at a
 * plain-HTTP (or any other scheme's) address by one.
 */
export function plainDownload(url: string | undefined, declaredSize?: number): MediaFetch | null {
  if (!url || !/^https:\/\//.test(url)) return null;
  return { kind: 'download', request: { method: 'GET', url, headers: {}, body: null }, ...(declaredSize !== undefined ? { declaredSize } : {}) };
}

/**
 * What a channel keeps from a button press to answer it later (platform ids only, never
 * personal data beyond the ids the conversation already has). Opaque to everything but the
 * adapter that made it.
 */
export type InteractionRef = Readonly<Record<string, string>>;

/** The requests that deliver `msg`, in order (one for most channels). */
export function renderRequests(adapter: ChannelAdapter, msg: OutboundMessage, ctx: RenderContext): readonly PlatformRequest[] {
  const r = adapter.render(msg, ctx);
  return isRequestList(r) ? r : [r];
}

function isRequestList(r: PlatformRequest | readonly PlatformRequest[]): r is readonly PlatformRequest[] {
  return Array.isArray(r);
}

/** How a text goes out on a channel: how many platform messages, and what SMS bills for it. */
export interface TextPlan {
  /** Platform messages the text is sent as (1 on channels without a limit). */
  readonly parts: number;
  /** The channel's limit per message, when it has one. */
  readonly limit: TextLimit | null;
  /** SMS only: the segments it is billed as. */
  readonly segments: SmsSegments | null;
}

/** How `text` goes out to `target` on `adapter`'s channel (functions/channels/text.ts splits it the same way `render` does). */
export function textPlanOf(adapter: ChannelAdapter, text: string, target: ReplyWindowTarget): TextPlan {
  const limit = adapter.capabilities.textLimit ?? null;
  return {
    parts: limit ? splitText(text, limit).length : 1,
    limit,
    segments: adapter.segmentsOf?.(text, target) ?? null,
  };
}

/** The conversation a reply goes to, as the window check knows it. */
export interface ReplyWindowTarget {
  readonly conversation_id: string;
  /** The identity's reply context (channel extras of the customer's last message, e.g. `sub_channel`). */
  readonly context?: Readonly<Record<string, unknown>>;
}

/** The reply window that applies to `target` on `adapter`'s channel (seconds; null = none). */
export function replyWindowOf(adapter: ChannelAdapter, target: ReplyWindowTarget): number | null {
  return adapter.replyWindowFor ? adapter.replyWindowFor(target) : adapter.capabilities.replyWindowSeconds;
}

/** Ports ingest hands to adapters that need something beyond the request (SNS certificates). */
export interface AdmitPorts {
  readonly fetchCertificate?: (url: string) => Promise<string>;
}

/** Ports the process step hands to adapters that must read something (SES S3-action e-mails). */
export interface ParsePorts {
  /** Raw bytes of an S3 object; rejects when it does not exist (the record is retried, then dead-lettered). */
  readonly readObject?: (bucket: string, key: string) => Promise<Buffer>;
  /** The validated settings a parse may depend on (e-mail: EMAIL_FORM_SENDERS). */
  readonly settings?: Secrets;
  /**
   * Hands the process step the raw bytes an attachment lives in when nothing else will keep them
   * (e-mail MIME: gone with the queue message); the process function stores them for the media
   * function (`MediaFetch` `mime-part`). Not I/O in the adapter: a hand-over.
   */
  readonly keepRaw?: (raw: Buffer) => void;
}

export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export function defineChannel<const A extends ChannelAdapter>(adapter: A): A {
  return adapter;
}

export function defineIngress<const I extends ChannelIngress>(ingress: I): I {
  return ingress;
}
