/**
 * Amazon Connect samples for the local runtime (issue 16): the contact flow's Lambda invocation and
 * contact events as EventBridge delivers them, hand-made from the documented shapes
 * (https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html,
 * https://docs.aws.amazon.com/connect/latest/adminguide/contact-events.html) in
 * `local/connect-samples/`. `POST /dev/connect/lookup` and `POST /dev/connect/events` take either
 * a whole event or `{"sample": "<name>", "contactId", "phone", "at"}`: the sample with its contact
 * id and caller replaced and its times moved so that the call ends at `at` (default: the virtual
 * clock's now).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const CONNECT_SAMPLES_DIR = fileURLToPath(new URL('./connect-samples/', import.meta.url));

export class ConnectSampleError extends Error {
  override readonly name = 'ConnectSampleError';
}

/** The sample names (file names without `.json`). */
export function connectSampleNames(): string[] {
  return readdirSync(CONNECT_SAMPLES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
}

export const SampleRequest = z.strictObject({
  sample: z.string().regex(/^[a-z0-9-]+$/),
  contactId: z.string().min(1).max(128).optional(),
  phone: z.string().min(1).max(32).optional(),
  /** ISO-8601: when the call ends (contact events) — its other times keep their distance to it. */
  at: z.string().refine((s) => !Number.isNaN(Date.parse(s))).optional(),
  /** Lookup only: the flow block's parameters (`caller_verified`, `after_hours`). */
  parameters: z.record(z.string(), z.string()).optional(),
});
export type SampleRequest = z.infer<typeof SampleRequest>;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/** A sample stamped for one call (see the module comment). */
export function connectSample(req: SampleRequest, nowMs: number): Record<string, unknown> {
  if (!connectSampleNames().includes(req.sample)) throw new ConnectSampleError(`no Connect sample '${req.sample}' (known: ${connectSampleNames().join(', ')})`);
  const event = JSON.parse(readFileSync(`${CONNECT_SAMPLES_DIR}${req.sample}.json`, 'utf8')) as Record<string, unknown>;
  const details = event.Details as { ContactData: Record<string, unknown>; Parameters?: Record<string, string> } | undefined;
  if (details) {
    const c = details.ContactData;
    if (req.contactId) { c.ContactId = req.contactId; c.InitialContactId = req.contactId; c.PreviousContactId = req.contactId; }
    if (req.phone) c.CustomerEndpoint = { Address: req.phone, Type: 'TELEPHONE_NUMBER' };
    if (req.parameters) details.Parameters = { ...(details.Parameters ?? {}), ...req.parameters };
    return event;
  }
  const detail = event.detail as Record<string, unknown>;
  const end = Date.parse(String(detail.disconnectTimestamp ?? event.time));
  const shift = (req.at ? Date.parse(req.at) : nowMs) - end;
  const move = (v: unknown): unknown => {
    if (typeof v === 'string' && ISO.test(v)) return new Date(Date.parse(v) + shift).toISOString();
    if (Array.isArray(v)) return v.map(move);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, move(x)]));
    return v;
  };
  const moved = move(event) as Record<string, unknown> & { detail: Record<string, unknown> };
  if (req.contactId) {
    const old = String(detail.contactId);
    moved.detail.contactId = req.contactId;
    moved.detail.initialContactId = req.contactId;
    moved.resources = (moved.resources as string[]).map((r) => r.replace(old, req.contactId!));
  }
  // Contact events do not name the caller; the lookup's call context does. `phone` here is for
  // calls whose flow never invoked the lookup (the events function reads `customerEndpoint` first).
  if (req.phone) moved.detail.customerEndpoint = { address: req.phone };
  return moved;
}
