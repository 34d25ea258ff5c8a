/**
 * WhatsApp's verify side (channels.md §2): what the ingest function imports — the Meta signature
 * and handshake (functions/channels/meta.ts) and the FIFO conversation key. The parser is in
 * ./index.ts.
 *
 * @module
 */
import { defineIngress, type Admission, type RawRequest, type Secrets } from '../channel.js';
import { isRecord } from '../common.js';
import { META_MAX_BODY_BYTES, admitMeta, idString, type MetaNotification } from '../meta.js';

const CHANNEL = 'whatsapp';

/** FIFO conversation key: the first sender (or, for statuses only, the first recipient). */
function conversationKeyOf(n: MetaNotification): string | null {
  let fallback: string | null = null;
  for (const entry of n.entry) {
    if (!isRecord(entry) || !Array.isArray(entry.changes)) continue;
    for (const change of entry.changes) {
      if (!isRecord(change) || !isRecord(change.value)) continue;
      const v = change.value;
      for (const m of Array.isArray(v.messages) ? v.messages : []) {
        const key = isRecord(m) ? (idString(m.from) ?? idString(m.from_user_id)) : undefined;
        if (key !== undefined) return key;
      }
      for (const s of Array.isArray(v.statuses) ? v.statuses : []) {
        fallback ??= isRecord(s) ? (idString(s.recipient_id) ?? idString(s.recipient_user_id) ?? null) : null;
      }
    }
  }
  return fallback;
}

export const whatsappIngress = defineIngress({
  name: CHANNEL,
  inboundSecrets: ['META_APP_SECRET', 'META_VERIFY_TOKEN'],
  capabilities: { maxBodyBytes: META_MAX_BODY_BYTES, extraMethods: ['GET'] },
  admit(req: RawRequest, secrets: Secrets, _now: number): Admission {
    return admitMeta(CHANNEL, req, secrets, conversationKeyOf);
  },
});
