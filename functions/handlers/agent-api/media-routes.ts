/**
 * Attachment downloads for agents (issue 14): `GET /tickets/{id}/messages/{message_id}/attachments/{n}`
 * answers a short-lived signed URL of the stored bytes (S3 presigned GET in AWS; the local
 * runtime's `/dev/media/…`), never the bytes through the API (Lambda and API Gateway payload
 * limits; the browser fetches straight from the bucket). The URL's response carries the content
 * type detected from the bytes and a `Content-Disposition` with the attachment's file name —
 * `attachment` unless an inline view is asked for and the type is one a browser shows without
 * running anything (images, audio, video); never the sender's claimed type.
 *
 * Access is the timeline's: any agent who may read the ticket's timeline may download what it
 * shows (the message is looked up through the ticket's timeline, merged and split sources
 * included); anything not stored is a 404.
 */
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { HttpError } from '../../runtime/http.js';
import type { MediaStore } from '../../runtime/ports.js';
import type { Db } from '../../store/db.js';
import { getTicket } from '../../store/reads.js';
import type { MessageEntry } from '../../store/records.js';
import { ticketTimeline } from '../../store/tickets.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody } from './schemas.js';

/** Types a browser may show in place: they render, they run nothing (no HTML, SVG, PDF). */
const INLINE_TYPES = /^(image\/(jpeg|png|gif|webp|avif|bmp|heic|heif)|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+)$/;

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'application/pdf': 'pdf',
  'audio/ogg': 'ogg', 'audio/mpeg': 'mp3', 'audio/mp4': 'm4a', 'video/mp4': 'mp4', 'video/quicktime': 'mov', 'application/zip': 'zip',
};

export const AttachmentParams = z.strictObject({
  id: z.string().min(1).max(64),
  message_id: z.string().min(1).max(64),
  n: z.coerce.number().int().min(0).max(99),
});

export const AttachmentQuery = z.strictObject({
  /** `inline`: show in place (images, audio, video only; anything else stays a download). */
  disposition: z.enum(['inline', 'attachment']).default('attachment'),
});

export const AttachmentLink = z.object({
  /** GET it without credentials until `expires_at`. */
  url: z.string(),
  expires_at: z.string().meta({ format: 'date-time' }),
  /** Detected from the stored bytes (magic numbers), not the sender's claim. */
  content_type: z.string(),
  file_name: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  disposition: z.enum(['inline', 'attachment']),
}).meta({ id: 'AttachmentLink' });

export interface MediaRoutesDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** The media bucket; without it every attachment answers 404. */
  readonly media?: MediaStore;
  /** Lifetime of the signed URLs (CONFLUO_MEDIA_URL_SECONDS). Default 300. */
  readonly mediaUrlSeconds?: number;
}

/** The name a download gets: the sender's file name, or `attachment-<n+1>.<ext of the detected type>`. */
export function downloadName(fileName: string | undefined, n: number, contentType: string): string {
  const clean = fileName?.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  if (clean) return clean.slice(0, 200);
  const ext = EXTENSIONS[contentType];
  return `attachment-${n + 1}${ext ? `.${ext}` : ''}`;
}

export function mediaRoutes(deps: MediaRoutesDeps): RouteDef[] {
  const seconds = deps.mediaUrlSeconds ?? 300;
  return [
    route({
      method: 'GET', path: '/tickets/{id}/messages/{message_id}/attachments/{n}',
      summary: 'A short-lived signed URL of a stored attachment (n: its 0-based index in the message), with the detected content type and a Content-Disposition naming the file; 404 unless stored',
      role: 'agent', params: AttachmentParams, query: AttachmentQuery, responses: { 200: AttachmentLink, 404: ErrorBody },
      handle: async ({ params, query }) => {
        const notFound = (what: string) => new HttpError(404, 'not_found', what);
        const ticket = await getTicket(deps.db, params.id);
        if (!ticket) throw notFound('no such ticket');
        const entry = (await ticketTimeline(deps.db, ticket)).find((e): e is MessageEntry => e.type === 'message' && e.id === params.message_id);
        if (!entry) throw notFound('no such message on this ticket');
        const a = entry.attachments[params.n];
        if (!a) throw notFound('no such attachment');
        const m = a.media;
        if (!deps.media || m?.status !== 'stored' || !m.key || !m.content_type) throw notFound(m && m.status !== 'stored' ? `the attachment is not stored (${m.status})` : 'the attachment is not stored');
        const disposition = query.disposition === 'inline' && INLINE_TYPES.test(m.content_type) ? 'inline' : 'attachment';
        const fileName = downloadName(a.file_name, params.n, m.content_type);
        const url = await deps.media.presignGet(m.key, { fileName, contentType: m.content_type, expiresSeconds: seconds, disposition });
        return {
          status: 200,
          body: { url, expires_at: new Date(deps.clock.now() + seconds * 1000).toISOString(), content_type: m.content_type, file_name: fileName, size: m.size ?? 0, sha256: m.sha256 ?? '', disposition },
        };
      },
    }),
  ];
}
