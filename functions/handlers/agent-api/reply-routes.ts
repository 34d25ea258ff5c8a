/**
 * Agent API: replies to the customer (DESIGN.md §3 `POST /tickets/{id}/replies`).
 *
 * A reply goes to the channel and conversation of the customer's last inbound message unless the
 * agent picks another channel. It is refused, before anything is stored, when it could not reach
 * the customer as written:
 * - 409 `conflict`: the ticket is closed or merged (also when a close or merge wins a race with
 *   the reply: the write is conditional on the status it was planned against), or the customer has
 *   no identity on the channel;
 * - 409 `messaging_window_closed`: the channel's free-form window is over (channels.md §0.12) —
 *   counted from when the customer sent their last message (functions/domain/reply-window.ts).
 *   Beyond it WhatsApp takes a registered template (`whatsapp_template`, `GET /whatsapp/templates`),
 *   and Messenger/Instagram a reply tagged HUMAN_AGENT for 7 days where the app may (META_HUMAN_AGENT_TAG);
 * - 422 `text_too_long`: the text needs more than MAX_MESSAGE_PARTS platform messages (each
 *   platform's own limit per message: functions/channels/text.ts, docs/channels.md) — a long text
 *   is otherwise split into several messages, never cut;
 * - 422 `template_value_missing`: a canned answer names a value this ticket does not have;
 * - 422 for files (`attachments`, uploaded with `POST /tickets/{id}/attachments`): `upload_missing`
 *   (no such upload of this agent for this ticket), `attachment_too_large`, `attachments_too_large`,
 *   `attachment_type_not_allowed`, `too_many_attachments`, `attachments_not_supported` — the
 *   channel's own limits (functions/channels/media.ts, each cited from the platform's docs),
 *   checked on the stored bytes: their real size and their type from magic bytes.
 * - 409 `voice_reply_not_sent`: the channel is `voice` (a phone ticket): a reply there is a call
 *   the agent makes from Amazon Connect, recorded when it ends; name another channel to write.
 * The 202 answer says how many platform messages the reply goes out as (`parts`) and, on SMS,
 * how many segments it is billed as.
 */
import { monotonicFactory } from 'ulid';
import { createHash } from 'node:crypto';
import { mediaOf, replyWindowOf, textPlanOf, type ChannelCapabilities } from '../../channels/channel.js';
import { checkMedia, type MediaFile } from '../../channels/media.js';
import { AGENT_UPLOAD_MAX_BYTES, agentUploadKey, detectContentType } from '../../domain/agent-uploads.js';
import type { Attachment } from '../../domain/inbound.js';
import type { MediaStore } from '../../runtime/ports.js';
import { channelByName } from '../../channels/registry.js';
import { describeLimit, MAX_MESSAGE_PARTS, splitText } from '../../channels/text.js';
import type { Clock } from '../../domain/clock.js';
import type { Channel } from '../../domain/inbound.js';
import { firstNameOf, pickLanguage, renderTemplate, templateVariables } from '../../domain/template.js';
import { orderNumbersIn } from '../../domain/orders.js';
import { customerOrders, ordersByNumber } from '../../store/orders.js';
import { listTimeline } from '../../store/reads.js';
import { HUMAN_AGENT_WINDOW_SECONDS, replyPermission, windowAnchor } from '../../domain/reply-window.js';
import { fillWhatsAppTemplate, type FilledTemplate } from '../../domain/whatsapp-template.js';
import { getWhatsAppTemplates, putWhatsAppTemplates } from '../../store/whatsapp-templates.js';
import { HttpError } from '../../runtime/http.js';
import { loadFamily } from '../../store/customers.js';
import type { Db } from '../../store/db.js';
import { queueReply } from '../../store/outbound.js';
import { agentUseItem, articlesLinkedIn } from '../../store/kb-agent.js';
import { getTemplate } from '../../store/templates.js';
import type { IdentityRecord, MessageEntry, TicketRecord, TimelineEntry } from '../../store/records.js';
import { getTicket, getTimelineEntry } from '../../store/reads.js';
import { ticketTimeline } from '../../store/tickets.js';
import { keys } from '../../store/table.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody, IdParam, MessageParam, PutWhatsAppTemplates, ReplyAccepted, ReplyBody, RetryBody, WhatsAppTemplateList } from './schemas.js';

export interface ReplyRouteDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** META_HUMAN_AGENT_TAG=on: the Meta app may send HUMAN_AGENT-tagged replies on Messenger/Instagram (7 days). */
  readonly humanAgentTag?: boolean;
  /** The media bucket (files agents attach). Without it a reply with files is refused (503). */
  readonly media?: MediaStore;
}

/** A file of a reply as found in the media bucket. */
export interface ReplyFile extends MediaFile {
  readonly key: string;
  readonly sha256: string;
}

/** Where a reply on a channel goes, and what the window check and templates need to know. */
export interface ReplyTarget {
  readonly conversationId: string;
  readonly externalId: string | undefined;
  /** Where the messaging window starts: when the customer sent their latest message (functions/domain/reply-window.ts). */
  readonly windowAnchor: number | undefined;
  readonly replyContext: Record<string, unknown> | undefined;
  readonly language: string | undefined;
  readonly customerName: string | null;
}

/** The WhatsApp template a stored outbound message was sent as (`extras.wa_template`). */
function storedTemplate(entry: MessageEntry): FilledTemplate | undefined {
  const t = entry.extras?.wa_template as { name?: unknown; language?: unknown; parameters?: unknown } | undefined;
  if (!t || typeof t.name !== 'string' || typeof t.language !== 'string' || !Array.isArray(t.parameters)) return undefined;
  return { name: t.name, language: t.language, parameters: t.parameters.map(String), text: entry.text };
}

/** 409 `messaging_window_closed`, saying what can still be sent. */
function windowClosed(channel: Channel, caps: ChannelCapabilities, closedAt: number | null, humanAgentEnabled: boolean): HttpError {
  const when = closedAt !== null ? `closed at ${new Date(closedAt).toISOString()}` : 'is closed (no message from the customer on this channel)';
  const what = caps.templates
    ? 'only a registered template can be sent now (whatsapp_template; GET /api/v1/whatsapp/templates)'
    : caps.humanAgentTag && !humanAgentEnabled
      ? 'a human agent\'s reply beyond 24 h needs the HUMAN_AGENT tag, which this deployment does not use (META_HUMAN_AGENT_TAG=on, with that permission for the Meta app)'
      : caps.humanAgentTag
        ? 'even the 7 days of HUMAN_AGENT replies are over'
        : 'wait for the customer to write, or reply on another channel';
  return new HttpError(409, 'messaging_window_closed', `the ${channel} messaging window ${when}: ${what}`);
}

/** Attempts at queueing one reply while the ticket keeps changing under it. */
const MAX_ATTEMPTS = 16;
const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));

/** What to send: the agent's text, a canned answer, or a failed message again. */
type Content =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'template'; readonly id: string; readonly language: string | undefined }
  | { readonly kind: 'whatsapp_template'; readonly name: string; readonly language: string }
  | { readonly kind: 'retry'; readonly failed: MessageEntry & { sk: string } };

export function replyRoutes(deps: ReplyRouteDeps): RouteDef[] {
  const { db } = deps;
  const ulid = monotonicFactory();

  const mustTicket = async (id: string): Promise<TicketRecord> => {
    const t = await getTicket(db, id);
    if (!t) throw new HttpError(404, 'not_found', 'no such ticket');
    return t;
  };

  /**
   * Plan and queue one reply: load the ticket → refuse what could not reach the customer → one
   * conditional transaction against the status read (store/outbound.ts `queueReply`). A lost race
   * plans again from a fresh read, so a close or merge that won is answered 409, never sent.
   */
  async function reply(ticketId: string, content: Content, requested: Channel | undefined, caller: { sub: string; name?: string }, givenFiles: readonly ReplyFile[] = []) {
    const files = content.kind === 'retry' ? filesOf(content.failed) : givenFiles;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const ticket = await mustTicket(ticketId);
      // held / deflected: a conversation an offered article is answering or answered (README "Knowledge base").
      if (ticket.status === 'merged' || ticket.status === 'closed' || ticket.status === 'held' || ticket.status === 'deflected') throw new HttpError(409, 'conflict', `ticket is ${ticket.status}`);
      const channel: Channel = requested ?? (content.kind === 'retry' ? content.failed.channel : ticket.channel);
      // Phone (issue 16): Confluo sends nothing on `voice` — the agent calls back from Amazon
      // Connect, and that call's contact event records it on this ticket.
      if (channel === 'voice') throw new HttpError(409, 'voice_reply_not_sent', 'a reply on voice is a call: call the customer back from Amazon Connect (the call is recorded on this ticket when it ends), or reply in writing on another channel with "channel"');
      const target = await replyTarget(ticket, channel);
      const adapter = channelByName(channel);
      if (!adapter) throw new HttpError(400, 'invalid', `channel ${channel} is not available`);
      const now = deps.clock.now();
      const conversation = { conversation_id: target.conversationId, ...(target.replyContext ? { context: target.replyContext } : {}) };
      // A failed template message sent again on its channel is a template message again.
      const resent = content.kind === 'retry' && channel === content.failed.channel ? storedTemplate(content.failed) : undefined;
      let waTemplate: FilledTemplate | undefined = resent;
      if (content.kind === 'whatsapp_template') {
        if (!adapter.capabilities.templates) throw new HttpError(400, 'invalid', `whatsapp_template: ${channel} has no template messages`);
        waTemplate = await whatsappTemplate(content.name, content.language, target, ticket, caller);
      }
      let tag: 'HUMAN_AGENT' | undefined;
      if (!waTemplate) {
        const permission = replyPermission({
          windowSeconds: replyWindowOf(adapter, conversation), anchor: target.windowAnchor, now,
          humanAgentSeconds: adapter.capabilities.humanAgentTag && deps.humanAgentTag ? HUMAN_AGENT_WINDOW_SECONDS : null,
        });
        if (permission.kind === 'closed') throw windowClosed(channel, adapter.capabilities, permission.closedAt, deps.humanAgentTag === true);
        if (permission.kind === 'human_agent') tag = 'HUMAN_AGENT';
      }
      const text = waTemplate ? waTemplate.text
        : content.kind === 'text' ? content.text
        : content.kind === 'template' ? await templateText(content.id, content.language, target, ticket, caller)
        : content.kind === 'retry' ? unsentText(content.failed, channel)
        : '';
      // Help-centre links in the reply count for their articles (README "Knowledge base": agents); a resend is not a new link.
      const articles = content.kind === 'retry' ? [] : await articlesLinkedIn(db, text);
      const plan = textPlanOf(adapter, text, conversation);
      if (!waTemplate && plan.parts > MAX_MESSAGE_PARTS) {
        throw new HttpError(422, 'text_too_long', `${channel} takes ${describeLimit(plan.limit!)} per message; this text needs ${plan.parts} messages and a reply may be at most ${MAX_MESSAGE_PARTS}: shorten it, or send it by e-mail`);
      }
      // The channel's own limits on the files, before anything is stored.
      const media = checkMedia(channel, mediaOf(adapter, conversation), files);
      if (!media.ok) throw new HttpError(422, media.code, media.message);
      const attachments: Attachment[] = files.map((f, i) => ({
        type: media.plans[i]!.as, file_name: f.file_name, mime_type: f.content_type, size: f.size, sha256: f.sha256,
        media: { status: 'stored', key: f.key, size: f.size, content_type: f.content_type, sha256: f.sha256, at: now },
      }));
      // Strictly after the ticket's last change: replies and triage changes keep commit order on the timeline.
      const at = Math.max(now, ticket.updated_at + 1);
      const id = ulid(at);
      const retryOf = content.kind === 'retry' ? content.failed : undefined;
      const entry: MessageEntry = {
        type: 'message', id, ticket_id: ticket.id, at, channel, direction: 'out', external_message_id: null,
        conversation_id: target.conversationId, text, attachments, interaction: null, edited: false,
        sent_at: at, delivery: 'queued', outbound_kind: retryOf?.outbound_kind ?? 'reply', author: caller.sub,
        ...(retryOf ? { retry_of: retryOf.id } : {}),
        extras: {
          identity_external_id: target.externalId,
          ...(content.kind === 'template' ? { template: content.id } : {}),
          ...(waTemplate ? { wa_template: { name: waTemplate.name, language: waTemplate.language, parameters: waTemplate.parameters } } : {}),
          ...(tag ? { message_tag: tag } : {}),
          ...(articles.length > 0 ? { kb_articles: articles } : {}),
          ...(retryOf && Array.isArray(retryOf.extras?.buttons) && channel === retryOf.channel ? { buttons: retryOf.extras.buttons } : {}),
        },
      };
      const kind = entry.outbound_kind!;
      const queued = await queueReply(db, {
        entry, expect: { status: ticket.status },
        feed: { id: ulid(at), type: 'outbound.queued', at, ticket_id: ticket.id, customer_id: ticket.customer_id, data: { channel, message_id: id, entry_sk: keys.timelineEntry(ticket.id, at, id).sk, kind, author: caller.sub, ...(retryOf ? { retry_of: retryOf.id } : {}) } },
        ...(retryOf ? { retryOf: { ticketId: retryOf.ticket_id, entrySk: retryOf.sk, messageId: retryOf.id } } : {}),
        also: articles.map((a) => agentUseItem(db, a, 'linked_in_replies')),
      });
      if (queued === 'changed') {
        if (retryOf && await alreadyRetried(retryOf)) throw new HttpError(409, 'conflict', 'this message was already sent again');
        await pause(attempt);
        continue;
      }
      return {
        status: 202,
        body: {
          id, ticket_id: ticket.id, channel, delivery: 'queued' as const, at: new Date(at).toISOString(), parts: waTemplate ? 1 : (text === '' && files.length > 0 ? 0 : plan.parts) + files.length,
          ...(files.length > 0 ? { attachments: files.map((f, i) => ({ file_name: f.file_name, content_type: f.content_type, size: f.size, as: media.plans[i]!.as })) } : {}),
          ...(waTemplate ? { whatsapp_template: { name: waTemplate.name, language: waTemplate.language } } : {}),
          ...(tag ? { tag } : {}),
          ...(plan.segments ? { sms: { segments: plan.segments.segments, encoding: plan.segments.encoding } } : {}),
          ...(retryOf ? { retry_of: retryOf.id } : {}),
        },
      };
    }
    throw new HttpError(409, 'conflict', 'the ticket kept changing while the reply was saved; reload and send it again');
  }

  /** Has this failed message been sent again (by someone else, meanwhile)? */
  async function alreadyRetried(failed: MessageEntry & { sk: string }): Promise<boolean> {
    const now = await getTimelineEntry(db, failed.ticket_id, failed.sk);
    return now?.type === 'message' && now.retried_by !== undefined;
  }

  return [
    route({
      method: 'POST', path: '/tickets/{id}/replies', summary: 'Reply to the customer (default: the channel of their last inbound message); long texts go out as several messages (`parts`), SMS says its segments', role: 'agent',
      params: IdParam, body: ReplyBody, responses: { 202: ReplyAccepted, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const files = body.attachments ? await uploadedFiles(caller.sub, params.id, body.attachments) : [];
        return reply(params.id, body.text !== undefined
          ? { kind: 'text', text: body.text }
          : body.whatsapp_template !== undefined
            ? { kind: 'whatsapp_template', name: body.whatsapp_template.name, language: body.whatsapp_template.language }
            : body.template !== undefined || body.template_id !== undefined
              ? { kind: 'template', id: (body.template ?? body.template_id)!, language: body.language }
              : { kind: 'text', text: '' }, body.channel, caller, files);
      },
    }),
    route({
      method: 'GET', path: '/whatsapp/templates', summary: 'The WhatsApp template registry: what the business registered (and Meta approved), the Confluo value of each {{n}}, and which ones surveys and reminders use outside the 24-hour window', role: 'agent',
      responses: { 200: WhatsAppTemplateList },
      handle: async () => {
        const stored = await getWhatsAppTemplates(db);
        return { status: 200, body: { items: stored.items, version: stored.version } };
      },
    }),
    route({
      method: 'PUT', path: '/whatsapp/templates', summary: 'Replace the WhatsApp template registry (supervisor); every entry must match a template approved in WhatsApp Manager (name, language, body)', role: 'supervisor',
      body: PutWhatsAppTemplates, responses: { 200: WhatsAppTemplateList, 409: ErrorBody },
      handle: async ({ body, caller }) => {
        const stored = await getWhatsAppTemplates(db);
        if (body.version !== undefined && body.version !== stored.version) throw new HttpError(409, 'conflict', `the templates changed (version ${stored.version}, you sent ${body.version}); reload and apply your change again`);
        if (!(await putWhatsAppTemplates(db, { items: body.items, expectedVersion: stored.version, by: caller.sub, now: deps.clock.now() }))) {
          throw new HttpError(409, 'conflict', 'the templates changed while saving; reload and apply your change again');
        }
        return { status: 200, body: { items: body.items, version: stored.version + 1 } };
      },
    }),
    route({
      method: 'POST', path: '/tickets/{id}/messages/{message_id}/retry', summary: 'Send a failed message again, as a new message: on its channel, or on another channel of the customer (`channel`); what the platform already accepted of a long text is not sent twice', role: 'agent',
      params: MessageParam, body: RetryBody, responses: { 202: ReplyAccepted, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const ticket = await mustTicket(params.id);
        const failed = (await ticketTimeline(db, ticket) as Array<TimelineEntry & { sk: string }>)
          .find((e): e is MessageEntry & { sk: string } => e.type === 'message' && e.id === params.message_id && e.direction === 'out');
        if (!failed) throw new HttpError(404, 'not_found', 'no such outbound message on this ticket');
        if (failed.delivery !== 'failed') throw new HttpError(409, 'conflict', `the message is ${failed.delivery ?? 'queued'}, not failed`);
        if (failed.retried_by !== undefined) throw new HttpError(409, 'conflict', 'this message was already sent again');
        return reply(ticket.id, { kind: 'retry', failed }, body.channel, caller);
      },
    }),
  ];

  /**
   * The files an agent uploaded for this ticket, as their bytes are: the key is built from the
   * caller and the ticket (never taken from the request), the size measured, the type read from
   * the magic bytes, the sha256 computed — what the reply stores and the channel check uses.
   */
  async function uploadedFiles(agent: string, ticketId: string, items: ReadonlyArray<{ upload_id: string; file_name: string }>): Promise<ReplyFile[]> {
    const media = deps.media;
    if (!media) throw new HttpError(503, 'attachments_unavailable', 'attachments are not configured in this deployment (no media bucket)');
    await mustTicket(ticketId);
    const out: ReplyFile[] = [];
    for (const [i, item] of items.entries()) {
      const key = agentUploadKey(agent, ticketId, item.upload_id);
      let bytes: Buffer;
      try {
        bytes = await media.get(key);
      } catch (e) {
        if ((e as { name?: unknown })?.name === 'NoSuchKey') throw new HttpError(422, 'upload_missing', `file ${i + 1}: no upload ${item.upload_id} of yours for this ticket (upload it with POST /tickets/${ticketId}/attachments first)`);
        throw e;
      }
      if (bytes.length > AGENT_UPLOAD_MAX_BYTES) throw new HttpError(422, 'attachment_too_large', `file ${i + 1} is larger than the ${AGENT_UPLOAD_MAX_BYTES / 1_000_000} MB an agent may upload`);
      out.push({ key, file_name: item.file_name, size: bytes.length, content_type: await detectContentType(bytes), sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    return out;
  }

  /** The stored files of a message (a failed one sent again carries its files again). */
  function filesOf(entry: MessageEntry): ReplyFile[] {
    return (entry.attachments ?? []).flatMap((a) => a.media?.status === 'stored' && a.media.key && a.media.content_type && a.media.size !== undefined && a.media.sha256
      ? [{ key: a.media.key, file_name: a.file_name ?? 'file', content_type: a.media.content_type, size: a.media.size, sha256: a.media.sha256 }]
      : []);
  }

  /**
   * The text a failed message still owes the customer: on its own channel, what follows the parts
   * the platform already accepted (a long text failing at part 3 resends parts 3…); elsewhere all of it.
   */
  function unsentText(failed: MessageEntry, channel: Channel): string {
    const sent = failed.parts_sent ?? 0;
    const limit = channelByName(failed.channel)?.capabilities.textLimit;
    if (channel !== failed.channel || sent === 0 || !limit) return failed.text;
    return splitText(failed.text, limit).slice(sent).map((p) => p.text + p.sep).join('').trimEnd() || failed.text;
  }

  /** A registered WhatsApp template filled for this ticket (400 not registered, 422 a value missing). */
  async function whatsappTemplate(name: string, language: string, target: ReplyTarget, ticket: TicketRecord, caller: { sub: string; name?: string }): Promise<FilledTemplate> {
    const t = (await getWhatsAppTemplates(db)).items.find((x) => x.name === name && x.language === language);
    if (!t) throw new HttpError(400, 'invalid', `whatsapp_template: ${name} (${language}) is not in the registry (GET /api/v1/whatsapp/templates)`);
    const r = fillWhatsAppTemplate(t, templateValues(target, ticket, caller));
    if (!r.ok) throw new HttpError(422, 'template_value_missing', `WhatsApp template ${name} (${language}) needs ${r.missing.map((v) => `{{${v}}}`).join(', ')}, which this ticket has no value for`);
    return r.value;
  }

  /** The values templates fill in for this ticket, customer and agent. */
  function templateValues(target: ReplyTarget, ticket: TicketRecord, caller: { sub: string; name?: string }) {
    return { 'customer.first_name': firstNameOf(target.customerName), 'customer.name': target.customerName, 'ticket.number': ticket.number, 'agent.name': caller.name ?? caller.sub };
  }

  /** The order a canned answer speaks of: the one the ticket's messages mention last (the customer's own), else the customer's newest. */
  async function orderOfTicket(ticket: TicketRecord) {
    const fam = await loadFamily(db, ticket.customer_id);
    const owners = new Set([ticket.customer_id, ...(fam ? [fam.root.id, ...fam.members.map((m) => m.id)] : [])]);
    const mentioned = (await listTimeline(db, ticket.id))
      .flatMap((e) => (e.type === 'message' && typeof e.text === 'string' ? orderNumbersIn(e.text) : []));
    const found = await ordersByNumber(db, mentioned, owners);
    for (const n of mentioned.reverse()) if (found.has(n)) return found.get(n)!;
    return (await customerOrders(db, [...owners], 1))[0];
  }

  /** A canned answer rendered for this ticket, customer and agent (400 unknown template, 422 a value missing). */
  async function templateText(templateId: string, language: string | undefined, target: ReplyTarget, ticket: TicketRecord, caller: { sub: string; name?: string }): Promise<string> {
    const template = await getTemplate(db, templateId);
    if (!template) throw new HttpError(400, 'invalid', `template: no template ${templateId}`);
    const lang = pickLanguage(Object.keys(template.bodies), language ?? target.language);
    const text = template.bodies[lang!]!;
    const order = templateVariables(text).some((v) => v.startsWith('order.')) ? await orderOfTicket(ticket) : undefined;
    const r = renderTemplate(text, { ...templateValues(target, ticket, caller), ...(order ? { 'order.number': order.number, 'order.status': order.status } : {}) });
    if (!r.ok) throw new HttpError(422, 'template_value_missing', `template ${templateId} (${lang}) needs ${r.missing.map((v) => `{{${v}}}`).join(', ')}, which this ticket has no value for; add a fallback like {{${r.missing[0]} | there}} or write the reply`);
    return r.text;
  }

  /** Where a reply on `channel` goes: the ticket's conversation, or the customer's identity on that channel. */
  async function replyTarget(ticket: TicketRecord, channel: Channel): Promise<ReplyTarget> {
    // Every identity of the person: the ticket's customer and whatever was merged into it.
    const family = await loadFamily(db, ticket.customer_id);
    const identities = family?.identities ?? [];
    const onChannel = identities.filter((i) => i.channel === channel).sort((a, b) => (windowAnchor(b) ?? 0) - (windowAnchor(a) ?? 0));
    const identity: IdentityRecord | undefined = channel === ticket.channel
      ? onChannel.find((i) => i.conversation_id === ticket.conversation_id) ?? onChannel[0]
      : onChannel[0];
    if (!identity) throw new HttpError(409, 'conflict', `the customer has no ${channel} identity`);
    return {
      conversationId: channel === ticket.channel ? ticket.conversation_id : identity.conversation_id ?? identity.external_id,
      externalId: identity.external_id,
      windowAnchor: windowAnchor(identity),
      replyContext: identity.reply_context,
      language: identity.language,
      customerName: family?.root.display_name ?? identity.display_name ?? null,
    };
  }
}
