/**
 * Outbound attachments: what each platform takes (type, size, count), and the shape of a file an
 * adapter renders. Pure, no I/O.
 *
 * Every channel sends files natively (docs/channels.md, README "Attachments"); each adapter
 * declares its platform's limits as `capabilities.media` (or, where the limits depend on the
 * conversation — Twilio MMS vs WhatsApp — `mediaFor(target)`), with the platform documentation
 * they come from. The Agent API checks a reply's files against them *before* anything is stored
 * (`checkMedia`: 422 naming the limit), so the platform never refuses a file the agent was told
 * it could send.
 *
 * How a file reaches the platform (`MediaRule.via`):
 * - `url`: the platform fetches it itself from a presigned GET URL of the media store, valid for
 *   `urlTtlSeconds` (the send handler presigns it right before the request, so the time counts
 *   from the send, and a retry gets a fresh URL);
 * - `bytes`: the platform needs the bytes in the request (an e-mail's MIME part, a Telegram
 *   multipart upload, VK's upload server) — the send handler reads them from the media store and
 *   hands them to `render` as base64 (`OutboundMedia.data_b64`), so the adapter stays pure.
 *
 * Sizes are decimal (1 MB = 1,000,000 bytes): the platforms write "5 MB" without saying which, and
 * the smaller reading never lets through a file the platform refuses.
 *
 * @module
 */

/** How the platform shows a file. */
export type MediaKind = 'image' | 'document' | 'audio' | 'video';

export const MB = 1_000_000;

/** One kind of file a platform takes. */
export interface MediaRule {
  /** How the platform shows a file of this rule. */
  readonly as: MediaKind;
  /** MIME types this rule takes (lower case); `any` = every type (but `forbiddenExtensions`). */
  readonly contentTypes: readonly string[] | 'any';
  /** Largest file in bytes. */
  readonly maxBytes: number;
  /** The platform fetches a URL, or takes the bytes in the request. */
  readonly via: 'url' | 'bytes';
  /** File name extensions (lower case, no dot) the platform refuses (Viber files). */
  readonly forbiddenExtensions?: readonly string[];
}

/** What a channel takes as attachments of one reply. */
export interface MediaCapability {
  /** In order: a file goes as the first rule whose type matches and whose size fits. */
  readonly rules: readonly MediaRule[];
  /** Files in one reply. */
  readonly maxCount: number;
  /** All files of one reply together (MMS, e-mail), in bytes. */
  readonly maxTotalBytes?: number;
  /** How long a presigned URL must stay valid for the platform to fetch it (seconds). */
  readonly urlTtlSeconds: number;
  /** The platform documentation the limits come from (shown in no answer; read by maintainers). */
  readonly source: string;
}

/** A file the agent wants to send, as the media store knows it (the type from its magic bytes). */
export interface MediaFile {
  readonly file_name: string;
  readonly content_type: string;
  readonly size: number;
}

/** A file ready to render: how it goes out, where the platform fetches it or its bytes. */
export interface OutboundMedia extends MediaFile {
  readonly as: MediaKind;
  /** A presigned GET URL of the stored object (every file has one; `via: url` files are sent by it). */
  readonly url: string;
  /** `via: bytes` files: the bytes, base64. */
  readonly data_b64?: string;
  /** A platform upload flow's result (VK `photo<owner>_<id>_<key>`), set before `render`. */
  readonly platform_ref?: string;
}

export type MediaRefusalCode = 'attachments_not_supported' | 'too_many_attachments' | 'attachment_too_large' | 'attachment_type_not_allowed' | 'attachments_too_large';

export type MediaCheck =
  | { readonly ok: true; readonly plans: ReadonlyArray<{ readonly as: MediaKind; readonly via: 'url' | 'bytes' }> }
  | { readonly ok: false; readonly code: MediaRefusalCode; readonly message: string };

/** `5 MB`, `100 KB`, `7.5 MB`. */
export function describeBytes(n: number): string {
  if (n >= MB) return `${+(n / MB).toFixed(1)} MB`;
  if (n >= 1000) return `${+(n / 1000).toFixed(1)} KB`;
  return `${n} bytes`;
}

const extensionOf = (fileName: string): string => {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(dot + 1).toLowerCase() : '';
};

const typeMatches = (rule: MediaRule, contentType: string, fileName: string): boolean => {
  if (rule.forbiddenExtensions?.includes(extensionOf(fileName))) return false;
  return rule.contentTypes === 'any' || rule.contentTypes.includes(contentType.toLowerCase().split(';')[0]!.trim());
};

/**
 * Can `files` go out on `channel` (with `media` its limits, undefined = no attachments)? Each file
 * takes the first rule that matches its type and size; a file whose type some rule takes but
 * that is larger than all of them is `attachment_too_large` (naming the largest), a type no rule
 * takes `attachment_type_not_allowed` (naming what is taken).
 */
export function checkMedia(channel: string, media: MediaCapability | undefined | null, files: readonly MediaFile[]): MediaCheck {
  if (files.length === 0) return { ok: true, plans: [] };
  if (!media) return { ok: false, code: 'attachments_not_supported', message: `${channel} replies cannot carry files` };
  if (files.length > media.maxCount) {
    return { ok: false, code: 'too_many_attachments', message: `${channel} takes at most ${media.maxCount} file${media.maxCount === 1 ? '' : 's'} per reply; this reply has ${files.length}` };
  }
  const plans: Array<{ as: MediaKind; via: 'url' | 'bytes' }> = [];
  for (const [i, f] of files.entries()) {
    const candidates = media.rules.filter((r) => typeMatches(r, f.content_type, f.file_name));
    const fits = candidates.find((r) => f.size <= r.maxBytes);
    if (fits) { plans.push({ as: fits.as, via: fits.via }); continue; }
    if (candidates.length > 0) {
      const max = Math.max(...candidates.map((r) => r.maxBytes));
      return { ok: false, code: 'attachment_too_large', message: `file ${i + 1} (${f.content_type}, ${describeBytes(f.size)}) is larger than the ${describeBytes(max)} ${channel} takes for it` };
    }
    const forbidden = media.rules.some((r) => r.forbiddenExtensions?.includes(extensionOf(f.file_name)));
    return { ok: false, code: 'attachment_type_not_allowed', message: forbidden
      ? `file ${i + 1}: ${channel} refuses files ending in .${extensionOf(f.file_name)}`
      : `file ${i + 1} (${f.content_type}) is not a type ${channel} takes; it takes ${describeRules(media.rules)}` };
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  if (media.maxTotalBytes !== undefined && total > media.maxTotalBytes) {
    return { ok: false, code: 'attachments_too_large', message: `the files of one ${channel} reply may be ${describeBytes(media.maxTotalBytes)} together; these are ${describeBytes(total)}` };
  }
  return { ok: true, plans };
}

/** `image/jpeg, image/png (5 MB); application/pdf (100 MB)`. */
export function describeRules(rules: readonly MediaRule[]): string {
  return rules.map((r) => `${r.contentTypes === 'any' ? 'any file' : r.contentTypes.join(', ')} (${describeBytes(r.maxBytes)})`).join('; ');
}

/** The rule `file` goes out by (as `checkMedia` chose it), or undefined. */
export function ruleFor(media: MediaCapability | undefined | null, file: MediaFile): MediaRule | undefined {
  return media?.rules.find((r) => typeMatches(r, file.content_type, file.file_name) && file.size <= r.maxBytes);
}

/** A file name safe in a header or a form field (no quotes, control characters or path). */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f"]/g, '').trim().slice(0, 200);
  return clean === '' ? 'file' : clean;
}
