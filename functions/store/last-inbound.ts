/**
 * The last inbound message of each identity, kept on the ticket it joined (functions/store/table.ts
 * "Last inbound per identity on the ticket") instead of on the identity, so a known customer's
 * message rewrites no identity. Readers load a customer's identities with its tickets in one gsi3
 * query anyway; {@link withLastInbound} folds the tickets' entries back into the identities'
 * `last_inbound_at`, `last_sent_at` and `last_message`, so the window check
 * (functions/domain/reply-window.ts `windowAnchor`), the card and the voice lookup read them as
 * before. Identities written before this layout still carry those fields: the latest wins.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.js';
import type { IdentityRecord, TicketRecord } from './records.js';
import { keys, sortableMs } from './table.js';

/**
 * What a ticket keeps per identity (`keys.inboundAttribute`): `[at, sent_at]` — when Confluo
 * processed the latest message (epoch ms; its timeline entry's time) and when the customer sent
 * it by the platform's clock, never later than `at` nor earlier than an earlier message's (the
 * window anchor). Two numbers: the ticket is written on every message, in the table and 3 GSIs.
 */
export type LastInbound = readonly [at: number, sentAt: number];

/** The entry one identity has on one ticket, if any. */
export function lastInboundOn(ticket: Readonly<Record<string, unknown>> | undefined, channel: string, externalId: string): { at: number; sent_at: number } | undefined {
  const v = ticket?.[keys.inboundAttribute(channel, externalId)];
  return Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number' ? { at: v[0], sent_at: v[1] } : undefined;
}

/**
 * The identities with what the tickets know of their last inbound message (latest wins). A
 * `last_message` found on a ticket has no id and text yet (`id: ''`): see {@link withLastMessageTexts}.
 */
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
      if (!last || last.at < e.at) last = { id: '', ticket_id: t.id, at: e.at, text: '' };
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
 * Id and text of `last_message` where a ticket gave only its time: the inbound message of this
 * identity's channel at that millisecond of the ticket's timeline (one query per identity, in
 * parallel; only the customer card reads it). An erased message reads as empty.
 */
export async function withLastMessageTexts(db: Db, identities: readonly IdentityRecord[]): Promise<IdentityRecord[]> {
  return Promise.all(identities.map(async (i) => {
    const m = i.last_message;
    if (!m || m.id !== '') return i;
    const res = await db.doc.send(new QueryCommand({
      TableName: db.tableName, ConsistentRead: true,
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':p': keys.ticket(m.ticket_id).pk, ':s': `TL#${sortableMs(m.at)}#` },
    }));
    const entry = (res.Items ?? []).find((e) => e.type === 'message' && e.direction === 'in' && e.channel === i.channel);
    return entry
      ? { ...i, last_message: { ...m, id: String(entry.id), text: typeof entry.text === 'string' ? entry.text.slice(0, LAST_MESSAGE_PREVIEW) : '' } }
      : i;
  }));
}
