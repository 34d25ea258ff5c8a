/**
 * Replay a channel's accepted samples against the running local service and compare what the
 * Agent API then shows with what each sample's `expect.events` says (channels.md is normative):
 * one timeline message per distinct message, with its text, attachment kinds and interaction;
 * edits applied in place; duplicates and ignored events adding nothing.
 */
import { expect } from 'vitest';
import type { ApiClient } from './runtime.js';
import type { Sample } from './samples.js';

interface ExpectedMessage {
  readonly kind: 'message';
  readonly dedup_key: string;
  readonly edit?: boolean | null;
  readonly external_message_id: string;
  readonly text: string;
  readonly attachments?: ReadonlyArray<{ readonly type: string }>;
  readonly interaction?: { readonly payload: string } | null;
  readonly customer_identity?: { readonly external_id: string };
}

type TimelineMessage = { type: string; direction?: string; external_message_id: string; text: string; edited?: boolean; attachments: Array<{ type: string }>; interaction: { payload: string } | null };

/** POST (or GET) every accepted sample in NN order: status and body as the sample says, nothing dead-lettered. */
export async function replayAccepted(api: ApiClient, settle: () => Promise<{ dlq: number }>, channel: string, samples: readonly Sample[]): Promise<void> {
  for (const s of samples.filter((x) => x.kind === 'accepted')) {
    const method = s.request.method.toUpperCase();
    const res = await api.webhook(channel, { method, headers: s.request.headers, body: s.request.body, query: s.request.query });
    expect(res.status, `${channel}/${s.name}`).toBe(s.expect.status);
    if (s.expect.response_body !== undefined) expect(res.body === '' ? null : res.body, `${channel}/${s.name}`).toBe(s.expect.response_body);
    expect((await settle()).dlq, `${channel}/${s.name}`).toBe(0);
  }
}

/**
 * Every message the samples describe is on its customer's ticket exactly once, in its final
 * (edited) form; nothing else was stored for these customers.
 */
export async function expectStoredAsSamplesSay(api: ApiClient, token: string, channel: string, samples: readonly Sample[]): Promise<void> {
  const events = samples.filter((x) => x.kind === 'accepted').flatMap((s) => (s.expect.events ?? []) as Array<{ kind: string }>);
  const messages = events.filter((e): e is ExpectedMessage => e.kind === 'message');
  // The final state of each message: first occurrence, later edits applied, duplicates dropped.
  const seen = new Set<string>();
  const final = new Map<string, ExpectedMessage & { edited: boolean; customer: string }>();
  for (const m of messages) {
    if (seen.has(m.dedup_key)) continue;
    seen.add(m.dedup_key);
    const earlier = final.get(m.external_message_id);
    if (m.edit && earlier) final.set(m.external_message_id, { ...earlier, text: m.text, edited: true });
    else final.set(m.external_message_id, { ...m, edited: Boolean(m.edit), customer: m.customer_identity!.external_id });
  }
  const customers = [...new Set([...final.values()].map((m) => m.customer))];
  const stored = new Map<string, TimelineMessage>();
  for (const externalId of customers) {
    const found = await api.get(`/api/v1/customers?identity=${encodeURIComponent(`${channel}:${externalId}`)}`, token);
    expect(found.body.items, `${channel}:${externalId}`).toHaveLength(1);
    for (const t of found.body.items[0].tickets as Array<{ id: string }>) {
      const timeline = (await api.get(`/api/v1/tickets/${t.id}/timeline`, token)).body.items as TimelineMessage[];
      for (const e of timeline.filter((x) => x.type === 'message' && x.direction === 'in')) {
        expect(stored.has(e.external_message_id), `stored twice: ${e.external_message_id}`).toBe(false);
        stored.set(e.external_message_id, e);
      }
    }
  }
  expect([...stored.keys()].sort()).toEqual([...final.keys()].sort());
  for (const [id, want] of final) {
    const got = stored.get(id)!;
    expect({ text: got.text, edited: Boolean(got.edited), attachments: got.attachments.map((a) => a.type), payload: got.interaction?.payload ?? null }, id).toEqual({
      text: want.text, edited: want.edited, attachments: (want.attachments ?? []).map((a) => a.type), payload: want.interaction?.payload ?? null,
    });
  }
}
