/**
 * Outbound e-mail as raw MIME for SES `SendRawEmail` (channels.md §8 "Reply";
 * https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html).
 *
 * SES takes the message as written except `Message-ID`, which it replaces with
 * `<MessageId@<region>.amazonses.com>` (https://docs.aws.amazon.com/ses/latest/dg/send-email-raw.html):
 * the sender stores that as the outbound id, so a customer's In-Reply-To finds the ticket.
 *
 * @module
 */
import { decodeTime } from 'ulid';
import type { OutboundMessage } from '../channel.js';
import { MB, safeFileName, type MediaCapability, type OutboundMedia } from '../media.js';
import { messageIds } from './mime.js';

const CRLF = '\r\n';
/** References written per reply (RFC 5322 §3.6.4 allows trimming the middle of long chains). */
const MAX_REFERENCES = 20;
/** A plain address, as conversation_id holds it (lower-cased From of the customer). */
const ADDRESS = /^[^\s<>()[\]\\,;:"@]+@[^\s<>()[\]\\,;:"@]+$/;

/**
 * Attachments are MIME parts of the raw message, base64 (RFC 2045 §6.8): SES SendRawEmail takes
 * "The maximum message size, including attachments, is 10 MB"
 * (https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html), and base64 in
 * 76-character lines makes 7 MB of files about 9.7 MB — so 7 MB of files together, of any type.
 */
export const EMAIL_MEDIA: MediaCapability = {
  rules: [{ as: 'document', contentTypes: 'any', maxBytes: 7 * MB, via: 'bytes' }],
  maxCount: 20,
  maxTotalBytes: 7 * MB,
  urlTtlSeconds: 3600,
  source: 'https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html',
};

export class EmailRenderError extends Error {
  override readonly name = 'EmailRenderError';
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** RFC 2047 B-encoded words (≤ 75 characters each, whole characters per word) when not ASCII. */
export function encodeHeaderText(value: string): string {
  const clean = value.replace(/[\r\n\t]+/g, ' ');
  if (isAscii(clean)) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    // 45 bytes of UTF-8 → 60 base64 characters + 12 of `=?UTF-8?B?` … `?=` = 72.
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) { words.push(chunk); chunk = ''; }
    chunk += ch;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** Reply subject: `Re: [<ticket number>] <subject>` without piling up earlier `Re:`/tags. */
export function replySubject(subject: string, ticketNumber: string | undefined): string {
  let s = subject.replace(/[\r\n]+/g, ' ').trim();
  if (ticketNumber) s = s.split(`[${ticketNumber}]`).join(' ');
  // Leading reply/forward markers of common clients (Re, RE, Aw, AW, Odp, Sv, Ответ, Fwd, Fw, WG, TR).
  for (;;) {
    const next = s.replace(/^\s*(?:re|aw|odp|sv|antw|ответ|fwd?|wg|tr)\s*(?:\[\d+\])?\s*[:：]\s*/i, '');
    if (next === s) break;
    s = next;
  }
  s = s.replace(/\s{2,}/g, ' ').trim().slice(0, 250);
  return ['Re:', ticketNumber ? `[${ticketNumber}]` : undefined, s || undefined].filter(Boolean).join(' ');
}

/** Folded `References:` value (one id per line keeps every line far below 998 characters). */
function foldIds(ids: readonly string[]): string {
  return ids.join(`${CRLF} `);
}

function body(text: string): { encoding: '7bit' | 'base64'; content: string } {
  const crlf = text.replace(/\r?\n/g, CRLF);
  const lines = crlf.split(CRLF);
  if (lines.every((l) => l.length <= 998 && /^[\x20-\x7e\t]*$/.test(l))) return { encoding: '7bit', content: crlf };
  const b64 = Buffer.from(crlf, 'utf8').toString('base64');
  return { encoding: 'base64', content: (b64.match(/.{1,76}/g) ?? []).join(CRLF) };
}

/** `Date:` from the outbound id (a ULID carries its creation time), omitted otherwise (SES adds one). */
function dateOf(id: string): string | undefined {
  try {
    return new Date(decodeTime(id)).toUTCString().replace('GMT', '+0000');
  } catch {
    return undefined;
  }
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The raw message. `context` is the reply context of the customer's last inbound mail
 * (`rfc_message_id`, `subject`, `thread.references`) plus `ticket_number` from the sender.
 */
export function renderRawEmail(msg: OutboundMessage, from: string): string {
  if (/[\r\n]/.test(from) || from.trim() === '') throw new EmailRenderError('EMAIL_FROM is not a single header value');
  const to = msg.conversation_id;
  if (!ADDRESS.test(to)) throw new EmailRenderError('conversation is not an e-mail address');
  const ctx = msg.context ?? {};
  const ticketNumber = typeof ctx.ticket_number === 'string' ? ctx.ticket_number : undefined;
  const subject = typeof ctx.subject === 'string' ? ctx.subject : '';
  const inReplyTo = messageIds(ctx.rfc_message_id)[0];
  const thread = (typeof ctx.thread === 'object' && ctx.thread !== null ? ctx.thread : {}) as Record<string, unknown>;
  const earlier = messageIds([...stringList(thread.references), ...stringList(ctx.references)]);
  const references = [...new Set([...earlier, ...(inReplyTo ? [inReplyTo] : [])])];
  const kept = references.length > MAX_REFERENCES ? [references[0]!, ...references.slice(-(MAX_REFERENCES - 1))] : references;

  let text = msg.text;
  if (msg.buttons && msg.buttons.length > 0) {
    // No buttons in e-mail: the choices are listed; the customer answers in words.
    text = `${text}\n\n${msg.buttons.map((b, i) => `${i + 1}. ${b.label}`).join('\n')}`;
  }
  const { encoding, content } = body(text);
  const files = msg.attachments ?? [];
  const date = dateOf(msg.id);
  const headers = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${encodeHeaderText(replySubject(subject, ticketNumber))}`,
    ...(date ? [`Date: ${date}`] : []),
    ...(inReplyTo ? [`In-Reply-To: ${inReplyTo}`] : []),
    ...(kept.length > 0 ? [`References: ${foldIds(kept)}`] : []),
    // RFC 3834: automatic answers say so, and well-behaved auto-responders stay silent.
    ...(msg.kind === 'acknowledgement' || msg.kind === 'deflection' ? ['Auto-Submitted: auto-replied'] : msg.kind === 'survey' || msg.kind === 'reminder' ? ['Auto-Submitted: auto-generated'] : []),
    'MIME-Version: 1.0',
  ];
  const textPart = ['Content-Type: text/plain; charset=UTF-8', `Content-Transfer-Encoding: ${encoding}`];
  if (files.length === 0) return `${[...headers, ...textPart].join(CRLF)}${CRLF}${CRLF}${content}${CRLF}`;
  // multipart/mixed (RFC 2046 §5.1.3): the text, then each file. The boundary comes from the
  // outbound id (deterministic, so a retry renders the same message) and cannot occur in base64
  // or in the text part (which is 7bit lines or base64 too, and holds no "--=_" line).
  const boundary = `=_confluo_${msg.id}`;
  const parts = [
    `${textPart.join(CRLF)}${CRLF}${CRLF}${content}`,
    ...files.map(filePart),
  ];
  return `${[...headers, `Content-Type: multipart/mixed; boundary="${boundary}"`].join(CRLF)}${CRLF}${CRLF}`
    + parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('')
    + `--${boundary}--${CRLF}`;
}

/** `filename="…"` for ASCII names, RFC 2231 `filename*=UTF-8''…` otherwise. */
function fileNameParam(param: 'name' | 'filename', name: string): string {
  if (isAscii(name) && !/[\\]/.test(name)) return `${param}="${name}"`;
  return `${param}*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** One attachment part: its type, its name, its bytes in base64 lines of 76 (RFC 2045 §6.8). */
function filePart(f: OutboundMedia): string {
  if (f.data_b64 === undefined) throw new EmailRenderError('an attachment came without its bytes');
  const name = safeFileName(f.file_name);
  const type = /^[\w.+-]+\/[\w.+-]+$/.test(f.content_type) ? f.content_type : 'application/octet-stream';
  const lines = f.data_b64.match(/.{1,76}/g) ?? [];
  return [
    `Content-Type: ${type}; ${fileNameParam('name', name)}`,
    `Content-Disposition: attachment; ${fileNameParam('filename', name)}`,
    'Content-Transfer-Encoding: base64',
    '',
    lines.join(CRLF),
  ].join(CRLF);
}
