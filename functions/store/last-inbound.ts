/**
 * The last inbound message of each identity, kept on the ticket it joined (functions/store/table.ts
 * "Last inbound per identity on the ticket") instead of on the identity, so a known customer's
 * message rewrites no identity. Readers load a customer's identities with its tickets in one gsi3
 * query anyway; {@link withLastInbound} folds the tickets' entries back into the identities'
 * `last_inbound_at`, `last_sent_at` and `last_message`, so the window check
 * (functions/domain/reply-window.ts `windowAnchor`), the card and the voice lookup read them as
 * before. Identities written before this layout still carry those fields: the latest wins.
 */
import type { Db } from './db.js';
import { batchGet } from './identity.js';
import type { IdentityRecord, TicketRecord } from './records.js';
import { keys } from './table.js';

/** What a ticket keeps per identity (`keys.inboundAttribute`). */
export interface LastInbound {
  /** When Confluo processed the message (epoch ms). */
  readonly at: number;
  /** When the customer sent it, by the platform's clock, never later than `at`, never earlier than an earlier message's (the window anchor). */
  readonly sent_at: number;
  /** The timeline entry id of the message (on this ticket). */
  readonly id: string;
}

/** The entry one identity has on one ticket, if any. */
export function lastInboundOn(ticket: Readonly<Record<string, unknown>> | undefined, channel: string, externalId: string): LastInbound | undefined {
  const v = ticket?.[keys.inboundAttribute(channel, externalId)] as Partial<LastInbound> | undefined;
  return v && typeof v.at === 'number' && typeof v.sent_at === 'number' && typeof v.id === 'string' ? { at: v.at, sent_at: v.sent_at, id: v.id } : undefined;
}

/** The identities with what the tickets know of their last inbound message (latest wins). `last_message.text` is the identity's own, else empty: see {@link withLastMessageTexts}. */
export function withLastInbound(identities: readonly IdentityRecord[], tickets: readonly TicketRecord[]): IdentityRecord[] {
  return identities.map((i) => {
    let inboundAt = i.last_inbound_at;
    let sentAt = i.last_sent_at;
    let last = i.last_message;
    for (const t of tickets) {
      const e = lastInboundOn(t as unknown as Record<string, unknown>, i.channel, i.external_id);
      if (!e) continue;
      inboundAt = Math.max(inboundAt ?? 0, e.at);
      sentAt = Math.max(sentAt ?? 0, e.sent_at);
      if (!last || last.at < e.at) last = { id: e.id, ticket_id: t.id, at: e.at, text: '' };
    }
    return {
      ...i,
      ...(inboundAt !== undefined ? { last_inbound_at: inboundAt } : {}),
      ...(sentAt !== undefined ? { last_sent_at: sentAt } : {}),
      ...(last ? { last_message: last } : {}),
    };
  });
}

/** Characters of a last message the card shows (as kept on identities before). */
export const LAST_MESSAGE_PREVIEW = 280;

/**
 * `last_message.text` of identities whose last message came from a ticket: read from the timeline
 * (one batch read, only for the card; an erased message reads as empty).
 */
export async function withLastMessageTexts(db: Db, identities: readonly IdentityRecord[]): Promise<IdentityRecord[]> {
  const want = identities.filter((i) => i.last_message && i.last_message.text === '');
  if (want.length === 0) return [...identities];
  const keyOf = (m: NonNullable<IdentityRecord['last_message']>) => keys.timelineEntry(m.ticket_id, m.at, m.id);
  const items = await batchGet(db, want.map((i) => keyOf(i.last_message!)));
  return identities.map((i) => {
    if (!i.last_message || i.last_message.text !== '') return i;
    const k = keyOf(i.last_message);
    const text = items.get(`${k.pk}|${k.sk}`)?.text;
    return { ...i, last_message: { ...i.last_message, text: typeof text === 'string' ? text.slice(0, LAST_MESSAGE_PREVIEW) : '' } };
  });
}
