/**
 * Messaging windows, pure (channels.md §0.12): WhatsApp, Messenger and Instagram (and WhatsApp via
 * Twilio) take free-form messages only within 24 hours of the customer's last message. The window
 * runs from when the customer *sent* that message, by the platform's clock (`last_sent_at` of the
 * identity), not from when Confluo processed it: platforms retry webhooks for days, and a late
 * delivery must not open a window the platform has already closed (WhatsApp would refuse the reply
 * with 131047, Messenger with 10/2018278).
 *
 * Beyond the window:
 * - Messenger and Instagram take a human agent's reply tagged `HUMAN_AGENT` for 7 days, when the
 *   app has that permission (META_HUMAN_AGENT_TAG=on)
 *   (https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags/);
 * - WhatsApp takes an approved template message (functions/domain/whatsapp-template.ts).
 *
 * @module
 */

/** The window's start on an identity: the platform's time of the latest message, else (records from before it was kept) when it was processed. */
export function windowAnchor(identity: { readonly last_sent_at?: number; readonly last_inbound_at?: number } | undefined): number | undefined {
  return identity?.last_sent_at ?? identity?.last_inbound_at;
}

/** Meta's human-agent extension of the window: 7 days after the customer's last message. */
export const HUMAN_AGENT_WINDOW_SECONDS = 7 * 86_400;

export type ReplyPermission =
  /** No window, or within it: a free-form message. */
  | { readonly kind: 'open'; readonly closesAt: number | null }
  /** Beyond the window but within the human-agent extension: a message tagged HUMAN_AGENT. */
  | { readonly kind: 'human_agent'; readonly closesAt: number }
  /** Closed: only a template (where the channel has them), or nothing. */
  | { readonly kind: 'closed'; readonly closedAt: number | null };

/**
 * What may be sent now on a conversation whose window is `windowSeconds` (null: none) after
 * `anchor`; `humanAgentSeconds` when the channel and the app allow HUMAN_AGENT replies.
 */
export function replyPermission(args: { readonly windowSeconds: number | null; readonly anchor: number | undefined; readonly now: number; readonly humanAgentSeconds?: number | null }): ReplyPermission {
  if (args.windowSeconds === null) return { kind: 'open', closesAt: null };
  if (args.anchor === undefined) return { kind: 'closed', closedAt: null };
  const closesAt = args.anchor + args.windowSeconds * 1000;
  if (args.now <= closesAt) return { kind: 'open', closesAt };
  const extension = args.humanAgentSeconds ?? null;
  if (extension !== null && args.now <= args.anchor + extension * 1000) return { kind: 'human_agent', closesAt: args.anchor + extension * 1000 };
  return { kind: 'closed', closedAt: extension !== null ? args.anchor + extension * 1000 : closesAt };
}
