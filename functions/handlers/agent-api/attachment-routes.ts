/**
 * Agent API: uploading a file to send (`POST /tickets/{id}/attachments`, issue 14).
 *
 * Answers a presigned POST form for one object in the media bucket — the key built from the
 * caller and the ticket (functions/domain/agent-uploads.ts), the size capped at what was declared
 * (and at AGENT_UPLOAD_MAX_BYTES), the Content-Type fixed — so the bytes go from the browser to
 * S3 without passing through Lambda. The declared file is checked against the channel's limits
 * now (422, the same answers as the reply), so the agent learns before uploading that WhatsApp
 * takes 5 MB of image; the reply checks the stored bytes again (their real size and magic bytes).
 */
import { monotonicFactory } from 'ulid';
import { mediaOf } from '../../channels/channel.js';
import { checkMedia } from '../../channels/media.js';
import { channelByName } from '../../channels/registry.js';
import { AGENT_UPLOAD_FORM_SECONDS, AGENT_UPLOAD_MAX_BYTES, agentUploadKey, uploadIdFor } from '../../domain/agent-uploads.js';
import type { Clock } from '../../domain/clock.js';
import type { Channel } from '../../domain/inbound.js';
import { HttpError } from '../../runtime/http.js';
import type { MediaStore } from '../../runtime/ports.js';
import type { Db } from '../../store/db.js';
import { getTicket } from '../../store/reads.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody, IdParam, UploadForm, UploadRequest } from './schemas.js';

export interface AttachmentRouteDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly media?: MediaStore;
}

export function attachmentRoutes(deps: AttachmentRouteDeps): RouteDef[] {
  const ulid = monotonicFactory();
  return [
    route({
      method: 'POST', path: '/tickets/{id}/attachments', summary: 'Upload a file to send: a presigned POST form for the media bucket (size and type fixed), checked against the channel\'s limits; the reply then names its `upload_id`', role: 'agent',
      params: IdParam, body: UploadRequest, responses: { 201: UploadForm, 404: ErrorBody, 422: ErrorBody, 503: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const media = deps.media;
        if (!media) throw new HttpError(503, 'attachments_unavailable', 'attachments are not configured in this deployment (no media bucket)');
        const ticket = await getTicket(deps.db, params.id);
        if (!ticket) throw new HttpError(404, 'not_found', 'no such ticket');
        if (body.size > AGENT_UPLOAD_MAX_BYTES) throw new HttpError(422, 'attachment_too_large', `an agent may upload files up to ${AGENT_UPLOAD_MAX_BYTES / 1_000_000} MB`);
        const channel: Channel = body.channel ?? ticket.channel;
        const adapter = channelByName(channel);
        if (adapter) {
          const check = checkMedia(channel, mediaOf(adapter, { conversation_id: ticket.conversation_id }), [{ file_name: body.file_name, content_type: body.content_type, size: body.size }]);
          if (!check.ok) throw new HttpError(422, check.code, check.message);
        }
        const now = deps.clock.now();
        const uploadId = uploadIdFor(ulid(now), body.content_type);
        const form = await media.presignPost(agentUploadKey(caller.sub, ticket.id, uploadId), { maxBytes: body.size, contentTypes: [body.content_type], expiresSeconds: AGENT_UPLOAD_FORM_SECONDS });
        return {
          status: 201,
          body: { upload_id: uploadId, url: form.url, fields: form.fields, max_bytes: body.size, expires_at: new Date(now + AGENT_UPLOAD_FORM_SECONDS * 1000).toISOString() },
        };
      },
    }),
  ];
}
