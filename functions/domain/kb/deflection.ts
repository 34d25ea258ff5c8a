/**
 * When an article is offered before a ticket opens (README "Knowledge base": deflection).
 */
import type { KbHit } from './search.js';

export interface DeflectionSettings {
  /** CONFLUO_KB_CONFIDENCE: least confidence of an offered article. */
  readonly confidence: number;
  /** CONFLUO_KB_DEFLECTION: channels that offer articles. */
  readonly channels: ReadonlySet<string>;
}

export function deflectionSettingsFrom(config: { readonly CONFLUO_KB_CONFIDENCE?: string | undefined; readonly CONFLUO_KB_DEFLECTION?: string | undefined }): DeflectionSettings {
  const list = (config.CONFLUO_KB_DEFLECTION ?? 'webchat').trim();
  return {
    confidence: Number(config.CONFLUO_KB_CONFIDENCE ?? '0.5'),
    channels: new Set(list === 'off' ? [] : list.split(',').map((c) => c.trim()).filter((c) => c !== '')),
  };
}

/** The hits good enough to offer (at most `limit`), best first. */
export function offerable(hits: readonly KbHit[], settings: DeflectionSettings, limit = 3): KbHit[] {
  return hits.filter((h) => h.confidence >= settings.confidence).slice(0, limit);
}
