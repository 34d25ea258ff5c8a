/**
 * A reaction of the dispatch function to one change-feed event type (acknowledgement,
 * classification, SLA and survey workflows…). Every reaction is idempotent: the table stream
 * delivers at least once. Its own module, below dispatch and every reaction table, so none of
 * them imports another for the type.
 */
import type { FeedEvent } from '../../store/records.js';

export type Reaction = (event: FeedEvent) => Promise<void>;

/** Several reaction tables as one (reactions of one event type run in the order given). */
export function combineReactions(...tables: ReadonlyArray<Readonly<Record<string, readonly Reaction[]>>>): Record<string, Reaction[]> {
  const out: Record<string, Reaction[]> = {};
  for (const table of tables) for (const [type, list] of Object.entries(table)) (out[type] ??= []).push(...list);
  return out;
}
