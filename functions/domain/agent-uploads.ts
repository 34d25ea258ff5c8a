/**
 * Files agents upload to send (issue 14): where an upload lives, and what its bytes really are.
 *
 * An agent asks for an upload form for one ticket (`POST /api/v1/tickets/{id}/attachments`), the
 * browser posts the file straight to the media bucket (S3 presigned POST: size and Content-Type
 * fixed by the policy), and the reply names the `upload_id`. The key is built from the caller and
 * the ticket, never taken from the request — `uploads/agents/{agent}/{ticket}/{ulid}.{ext}` — so
 * an agent can only send what they uploaded for that ticket. The extension is kept because Viber
 * fetches a picture only from a URL whose last path segment ends in .jpeg, .png or .gif
 * (https://developers.viber.com/docs/api/rest-bot-api/#picture-message); it is derived from the
 * declared type, never from the file name (keys hold no names).
 *
 * What a file *is* comes from its magic bytes (`file-type`), never from the name or the browser's
 * claim; text has no magic bytes, so valid UTF-8 without NUL bytes is `text/plain`.
 */
import { fileTypeFromBuffer } from 'file-type';
import { mediaKeys } from './media.js';

/** The largest file an agent may upload to send (no platform takes more through Confluo's send path than this). */
export const AGENT_UPLOAD_MAX_BYTES = 25_000_000;
/** How long the upload form stays valid. */
export const AGENT_UPLOAD_FORM_SECONDS = 600;

/** `<ULID>.<ext>`: what the reply names. */
export const UPLOAD_ID = /^[0-9A-HJKMNP-TV-Z]{26}\.[a-z0-9]{1,8}$/;

/** Extensions by declared type (what a platform that looks at the URL expects); else `bin`. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpeg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp',
  'application/pdf': 'pdf', 'text/plain': 'txt', 'text/csv': 'csv', 'application/zip': 'zip',
  'video/mp4': 'mp4', 'audio/mpeg': 'mp3', 'audio/ogg': 'ogg',
  'application/msword': 'doc', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-powerpoint': 'ppt', 'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
};

export function uploadIdFor(ulid: string, contentType: string): string {
  return `${ulid}.${EXTENSIONS[contentType.toLowerCase()] ?? 'bin'}`;
}

/** The object key of an agent's upload for a ticket. */
export function agentUploadKey(agentId: string, ticketId: string, uploadId: string): string {
  return `${mediaKeys.agentUploadPrefix(agentId)}${ticketId}/${uploadId}`;
}

/** The content type of `bytes` by their magic bytes; text without a signature is `text/plain`. */
export async function detectContentType(bytes: Uint8Array): Promise<string> {
  const found = await fileTypeFromBuffer(bytes);
  if (found) return found.mime;
  const head = Buffer.from(bytes.subarray(0, 65_536));
  if (!head.includes(0)) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.length > 65_536 ? head.subarray(0, lastCharBoundary(head)) : head);
      return 'text/plain';
    } catch { /* not UTF-8 */ }
  }
  return 'application/octet-stream';
}

/** The end of the last whole UTF-8 character in a cut-off buffer. */
function lastCharBoundary(buf: Buffer): number {
  let end = buf.length;
  while (end > 0 && (buf[end - 1]! & 0xc0) === 0x80) end--;
  return end > 0 && buf[end - 1]! >= 0xc0 ? end - 1 : buf.length;
}
