/**
 * Reaction to `ticket.opened`: queue one acknowledgement on the customer's channel. Exactly once
 * per ticket: the outbound entry has a deterministic id and key, so a redelivered stream record
 * finds it written and stops. Never for joins, duplicates or ignored events — those open no ticket.
 */
import type { Db } from '../../store/db.js';
import { queueOutbound } from '../../store/outbound.js';
import { getTicket, listCustomerItems } from '../../store/reads.js';
import { cancellationCodes } from '../../store/db.js';
import { keys } from '../../store/table.js';
import type { FeedEvent, MessageEntry } from '../../store/records.js';
import { acknowledgementText, type AckTemplates } from '../../domain/acknowledgement.js';
import type { Reaction } from './reaction.js';

export interface AcknowledgementDeps {
  readonly db: Db;
  readonly enabled: boolean;
  readonly templates?: AckTemplates;
}

export function acknowledgementReaction(deps: AcknowledgementDeps): Reaction {
  return async function acknowledgement(event: FeedEvent) {
    if (!deps.enabled || !event.ticket_id) return;
    const ticket = await getTicket(deps.db, event.ticket_id);
    // A phone ticket (issue 16): the caller is (or was) on the line; Confluo sends nothing on `voice`.
    if (!ticket || ticket.channel === 'voice') return;
    const { identities } = await listCustomerItems(deps.db, ticket.customer_id);
    const identity = identities.find((i) => i.channel === ticket.channel && i.conversation_id === ticket.conversation_id)
      ?? identities.find((i) => i.channel === ticket.channel);
    // A conversation held for an offered article opens when the customer answered it: its SLA runs from then (README "Knowledge base").
    const openedAt = ticket.deflection?.answered_at ?? ticket.created_at;
    const responseMs = (ticket.sla?.first_response_due ?? openedAt + 3_600_000) - openedAt;
    const { text, language } = acknowledgementText({ ...(identity?.language ? { language: identity.language } : {}), ticketNumber: ticket.number, responseMs, ...(deps.templates ? { templates: deps.templates } : {}) });
    const id = `ack-${ticket.id}`;
    const at = openedAt + 1; // deterministic: the same key on every redelivery
    const entry: MessageEntry = {
      type: 'message', id, ticket_id: ticket.id, at, channel: ticket.channel, direction: 'out', external_message_id: null,
      conversation_id: ticket.conversation_id, text, attachments: [], interaction: null, edited: false, sent_at: at,
      delivery: 'queued', outbound_kind: 'acknowledgement', author: 'system',
      extras: { language, ...(identity ? { identity_external_id: identity.external_id } : {}) },
    };
    const feed: FeedEvent = { id: `${id}-queued`, type: 'outbound.queued', at, ticket_id: ticket.id, customer_id: ticket.customer_id, data: { channel: ticket.channel, message_id: id, entry_sk: keys.timelineEntry(ticket.id, at, id).sk, kind: 'acknowledgement' } };
    try {
      await queueOutbound(deps.db, { entry, feed, firstResponse: false, touchTicket: false });
    } catch (e) {
      const codes = cancellationCodes(e);
      if (codes && codes[0] === 'ConditionalCheckFailed') return; // already acknowledged
      throw e;
    }
  };
}
