/**
 * Agent API: replies to the customer (DESIGN.md §3 `POST /tickets/{id}/replies`).
 *
 * A reply goes to the channel and conversation of the customer's last inbound message unless the
 * agent picks another channel. It is refused, before anything is stored, when it could not reach
 * the customer as written:
 * - 409 `conflict`: the ticket is closed or merged, or the customer has no identity on the channel;
 * - 409 `messaging_window_closed`: the channel's free-form window is over (channels.md §0.12);
 * - 422 `text_too_long`: the text needs more than MAX_MESSAGE_PARTS platform messages (each
 *   platform's own limit per message: functions/channels/text.ts, docs/channels.md) — a long text
 *   is otherwise split into several messages, never cut;
 * - 422 `template_value_missing`: a canned answer names a value this ticket does not have.
 * The 202 answer says how many platform messages the reply goes out as (`parts`) and, on SMS,
 * how many segments it is billed as.
 */
import { monotonicFactory } from 'ulid';
import { replyWindowOf, textPlanOf } from '../../channels/channel.js';
import { channelByName } from '../../channels/registry.js';
import { describeLimit, MAX_MESSAGE_PARTS } from '../../channels/text.js';
import type { Clock } from '../../domain/clock.js';
import type { Channel } from '../../domain/inbound.js';
import { firstNameOf, pickLanguage, renderTemplate } from '../../domain/template.js';
import { HttpError } from '../../runtime/http.js';
import { loadFamily } from '../../store/customers.js';
import type { Db } from '../../store/db.js';
import { queueOutbound } from '../../store/outbound.js';
import { getTemplate } from '../../store/templates.js';
import type { IdentityRecord, MessageEntry, TicketRecord } from '../../store/records.js';
import { getTicket } from '../../store/reads.js';
import { keys } from '../../store/table.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody, IdParam, ReplyAccepted, ReplyBody } from './schemas.js';

export interface ReplyRouteDeps { readonly db: Db; readonly clock: Clock }

/** Where a reply on a channel goes, and what the window check and templates need to know. */
export interface ReplyTarget {
  readonly conversationId: string;
  readonly externalId: string | undefined;
  readonly lastInboundAt: number | undefined;
  readonly replyContext: Record<string, unknown> | undefined;
  readonly language: string | undefined;
  readonly customerName: string | null;
}

export function replyRoutes(deps: ReplyRouteDeps): RouteDef[] {
  const { db } = deps;
  const ulid = monotonicFactory();

  const mustTicket = async (id: string): Promise<TicketRecord> => {
    const t = await getTicket(db, id);
    if (!t) throw new HttpError(404, 'not_found', 'no such ticket');
    return t;
  };

  return [
    route({
      method: 'POST', path: '/tickets/{id}/replies', summary: 'Reply to the customer (default: the channel of their last inbound message); long texts go out as several messages (`parts`), SMS says its segments', role: 'agent',
      params: IdParam, body: ReplyBody, responses: { 202: ReplyAccepted, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const ticket = await mustTicket(params.id);
        if (ticket.status === 'merged' || ticket.status === 'closed') throw new HttpError(409, 'conflict', `ticket is ${ticket.status}`);
        const channel: Channel = body.channel ?? ticket.channel;
        const target = await replyTarget(ticket, channel);
        const adapter = channelByName(channel);
        if (!adapter) throw new HttpError(400, 'invalid', `channel ${channel} is not available`);
        const now = deps.clock.now();
        const conversation = { conversation_id: target.conversationId, ...(target.replyContext ? { context: target.replyContext } : {}) };
        // The window may depend on the conversation (Twilio: WhatsApp 24 h, SMS none).
        const window = replyWindowOf(adapter, conversation);
        if (window !== null && (target.lastInboundAt === undefined || now - target.lastInboundAt > window * 1000)) {
          throw new HttpError(409, 'messaging_window_closed', `the ${channel} messaging window closed ${window / 3600} h after the customer's last message; only templates can be sent`);
        }
        const text = body.text ?? await templateText(body.template ?? body.template_id!, body.language, target, ticket, caller);
        const plan = textPlanOf(adapter, text, conversation);
        if (plan.parts > MAX_MESSAGE_PARTS) {
          throw new HttpError(422, 'text_too_long', `${channel} takes ${describeLimit(plan.limit!)} per message; this text needs ${plan.parts} messages and a reply may be at most ${MAX_MESSAGE_PARTS}: shorten it, or send it by e-mail`);
        }
        const id = ulid(now);
        const entry: MessageEntry = {
          type: 'message', id, ticket_id: ticket.id, at: now, channel, direction: 'out', external_message_id: null,
          conversation_id: target.conversationId, text, attachments: [], interaction: null, edited: false,
          sent_at: now, delivery: 'queued', outbound_kind: 'reply', author: caller.sub,
          extras: { identity_external_id: target.externalId, ...(body.text === undefined ? { template: body.template ?? body.template_id } : {}) },
        };
        await queueOutbound(db, {
          entry, firstResponse: true,
          feed: { id: ulid(now), type: 'outbound.queued', at: now, ticket_id: ticket.id, customer_id: ticket.customer_id, data: { channel, message_id: id, entry_sk: keys.timelineEntry(ticket.id, now, id).sk, kind: 'reply', author: caller.sub } },
        });
        return {
          status: 202,
          body: {
            id, ticket_id: ticket.id, channel, delivery: 'queued', at: new Date(now).toISOString(), parts: plan.parts,
            ...(plan.segments ? { sms: { segments: plan.segments.segments, encoding: plan.segments.encoding } } : {}),
          },
        };
      },
    }),
  ];

  /** A canned answer rendered for this ticket, customer and agent (400 unknown template, 422 a value missing). */
  async function templateText(templateId: string, language: string | undefined, target: ReplyTarget, ticket: TicketRecord, caller: { sub: string; name?: string }): Promise<string> {
    const template = await getTemplate(db, templateId);
    if (!template) throw new HttpError(400, 'invalid', `template: no template ${templateId}`);
    const lang = pickLanguage(Object.keys(template.bodies), language ?? target.language);
    const r = renderTemplate(template.bodies[lang!]!, {
      'customer.first_name': firstNameOf(target.customerName), 'customer.name': target.customerName,
      'ticket.number': ticket.number, 'agent.name': caller.name ?? caller.sub,
    });
    if (!r.ok) throw new HttpError(422, 'template_value_missing', `template ${templateId} (${lang}) needs ${r.missing.map((v) => `{{${v}}}`).join(', ')}, which this ticket has no value for; add a fallback like {{${r.missing[0]} | there}} or write the reply`);
    return r.text;
  }

  /** Where a reply on `channel` goes: the ticket's conversation, or the customer's identity on that channel. */
  async function replyTarget(ticket: TicketRecord, channel: Channel): Promise<ReplyTarget> {
    // Every identity of the person: the ticket's customer and whatever was merged into it.
    const family = await loadFamily(db, ticket.customer_id);
    const identities = family?.identities ?? [];
    const onChannel = identities.filter((i) => i.channel === channel).sort((a, b) => (b.last_inbound_at ?? 0) - (a.last_inbound_at ?? 0));
    const identity: IdentityRecord | undefined = channel === ticket.channel
      ? onChannel.find((i) => i.conversation_id === ticket.conversation_id) ?? onChannel[0]
      : onChannel[0];
    if (!identity) throw new HttpError(409, 'conflict', `the customer has no ${channel} identity`);
    return {
      conversationId: channel === ticket.channel ? ticket.conversation_id : identity.conversation_id ?? identity.external_id,
      externalId: identity.external_id,
      lastInboundAt: identity.last_inbound_at,
      replyContext: identity.reply_context,
      language: identity.language,
      customerName: family?.root.display_name ?? identity.display_name ?? null,
    };
  }
}
