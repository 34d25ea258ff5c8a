/**
 * Instagram's verify side (channels.md §4): what the ingest function imports — the Meta
 * signature and handshake (functions/channels/meta.ts) and the FIFO conversation key. The parser
 * is in ./index.ts.
 *
 * @module
 */
import { defineIngress, type Admission, type RawRequest, type Secrets } from '../channel.js';
import { META_MAX_BODY_BYTES, admitMeta, messagingConversationKey } from '../meta.js';

const CHANNEL = 'instagram';

export const instagramIngress = defineIngress({
  name: CHANNEL,
  inboundSecrets: ['META_APP_SECRET', 'META_VERIFY_TOKEN'],
  capabilities: { maxBodyBytes: META_MAX_BODY_BYTES, extraMethods: ['GET'] },
  admit(req: RawRequest, secrets: Secrets, _now: number): Admission {
    // Instagram has no chat plugin guests.
    return admitMeta(CHANNEL, req, secrets, (n) => messagingConversationKey(false, n));
  },
});
