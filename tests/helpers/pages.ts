/** Every page of a cursor-paged read, in order: the ids of all items, following `next_cursor` to the end. */
export async function allPages(read: (cursor: string | undefined) => Promise<{ items: ReadonlyArray<{ id: string }>; next_cursor?: string | null }>): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    seen.push(...page.items.map((t) => t.id));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return seen;
}
