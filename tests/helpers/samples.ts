/**
 * Typed access to the channel samples (channels.md §10): `functions/channels/<channel>/samples/`
 * holds `NN-<what>.json` accepted requests and `refuse-<why>.json` refusals.
 *
 * Every call returns fresh objects (files are parsed once, then cloned), so a test that mutates a
 * sample never leaks into another.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ParsePorts, RawRequest } from '../../functions/channels/channel.js';
import { SAMPLE_SETTINGS } from '../../local/sample-settings.js';
import { signEmail, type SnsSpec } from '../../scripts/sign-email.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHANNELS_DIR = join(REPO_ROOT, 'functions', 'channels');

/**
 * The whole test environment of channels.md §10: the public test-only secrets plus the non-secret
 * values samples are made against. Frozen: spread it to change a value in a test.
 */
export const TEST_SECRETS: Readonly<Record<string, string>> = SAMPLE_SETTINGS;

/** Deliberate credential defects a signer must keep (scripts/sign-samples.ts). */
export const DEFECTS = ['missing-credential', 'wrong-credential', 'alg-none'] as const;
export type Defect = (typeof DEFECTS)[number];

const StringMap = z.record(z.string(), z.string());

/** The content of one sample file. Loose: channels may keep extra inputs for their signer. */
export const SampleFile = z.looseObject({
  description: z.string().min(1),
  /** A deliberate credential defect (refusal samples), kept when re-signing. */
  defect: z.enum(DEFECTS).optional(),
  request: z.looseObject({
    method: z.string().min(1),
    path: z.string().startsWith('/'),
    query: StringMap,
    headers: StringMap,
    /** The exact wire text; tests send its UTF-8 bytes unchanged. */
    body: z.string(),
  }),
  expect: z.looseObject({
    status: z.int().min(200).max(599),
    /** Accepted samples: the answer's body, `null` for an empty one. */
    response_body: z.string().nullable().optional(),
    /** Refusals: the reason code of channels.md §0.3. */
    code: z.enum(['unauthorized', 'forbidden', 'malformed', 'invalid']).optional(),
    /** Accepted samples: partial NormalisedEvent objects, matched in order with toMatchObject. */
    events: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
});
export type SampleFile = z.infer<typeof SampleFile>;

export interface SampleMeta {
  readonly channel: string;
  /** File name, e.g. `01-text.json`. */
  readonly file: string;
  /** File name without `.json`, e.g. `01-text`. */
  readonly name: string;
  readonly kind: 'accepted' | 'refusal';
  /** `NN` of an accepted sample; null for refusals. */
  readonly order: number | null;
}
export type Sample = SampleMeta & SampleFile;

const ACCEPTED = /^(\d{2,})-[a-z0-9][a-z0-9-]*\.json$/;
const REFUSAL = /^refuse-[a-z0-9][a-z0-9-]*\.json$/;

export function samplesDir(channel: string): string {
  return join(CHANNELS_DIR, channel, 'samples');
}

const cache = new Map<string, readonly Sample[]>();

function readSamples(channel: string): readonly Sample[] {
  const dir = samplesDir(channel);
  if (!existsSync(dir)) return [];
  const out: Sample[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const accepted = ACCEPTED.exec(file);
    if (!accepted && !REFUSAL.test(file)) {
      throw new Error(`samples: ${channel}/samples/${file} is neither NN-<what>.json nor refuse-<why>.json`);
    }
    let content: SampleFile;
    try {
      content = SampleFile.parse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    } catch (e) {
      throw new Error(`samples: ${channel}/samples/${file} is not a valid sample: ${(e as Error).message}`);
    }
    const kind = accepted ? 'accepted' : 'refusal';
    const { status } = content.expect;
    if (kind === 'accepted' && (status >= 300 || content.expect.events === undefined || content.expect.response_body === undefined)) {
      throw new Error(`samples: ${channel}/samples/${file}: accepted samples need a 2xx status, response_body and events`);
    }
    if (kind === 'refusal' && (status < 400 || (content.expect.events ?? []).length > 0)) {
      throw new Error(`samples: ${channel}/samples/${file}: refusals need a 4xx status and no events`);
    }
    out.push({ ...content, channel, file, name: file.slice(0, -'.json'.length), kind, order: accepted ? Number(accepted[1]) : null });
  }
  return out.sort((a, b) => {
    if (a.kind !== b.kind) return a.kind === 'accepted' ? -1 : 1;
    if (a.order !== null && b.order !== null && a.order !== b.order) return a.order - b.order;
    return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
  });
}

/** Samples of a channel: accepted ones in `NN` order, then refusals by name. */
/** The sample files of a channel exactly as stored (the signer check compares against these). */
export function loadSampleFiles(channel: string): Sample[] {
  let samples = cache.get(channel);
  if (!samples) {
    samples = readSamples(channel);
    cache.set(channel, samples);
  }
  return structuredClone(samples) as Sample[];
}

/**
 * The samples of a channel as the platform would deliver them at `at` (default: now). Only
 * e-mail changes: SNS messages older than an hour are refused (functions/channels/email/sns.ts,
 * MAX_TIMESTAMP_SKEW_MS), so each e-mail sample gets `Timestamp` = `at` and is signed again with
 * the test key (its deliberate defects, tampering and omissions kept by the signer).
 */
export function loadSamples(channel: string, opts: { at?: number } = {}): Sample[] {
  const samples = loadSampleFiles(channel);
  return channel === 'email' ? samples.map((s) => deliveredAt(s, opts.at ?? Date.now())) : samples;
}

/** An e-mail sample stamped and signed as SNS would send it at `at`; any other sample unchanged. */
export function deliveredAt<T extends Pick<SampleFile, 'request'> & { defect?: Defect }>(sample: T, at: number): T {
  const spec = sample.request.sns as SnsSpec | undefined;
  if (spec === undefined || typeof spec.envelope?.Timestamp !== 'string') return sample;
  const stamped = structuredClone(sample) as T & SampleFile;
  (stamped.request.sns as { envelope: Record<string, string> }).envelope.Timestamp = new Date(at).toISOString();
  return { ...stamped, request: { ...stamped.request, body: signEmail(stamped, {}).request.body } };
}

/** The file content of a sample, without the loader's metadata. */
export function sampleFileOf(sample: Sample): SampleFile {
  const { channel: _c, file: _f, name: _n, kind: _k, order: _o, ...content } = structuredClone(sample);
  return content;
}

/** The request as ingest hands it to `admit`: header names lower-cased, body as UTF-8 bytes. */
export function toRawRequest(sample: Pick<SampleFile, 'request'>): RawRequest {
  const { method, path, query, headers, body } = sample.request;
  return {
    method: method.toUpperCase(),
    path,
    query: { ...query },
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: Buffer.from(body, 'utf8'),
  };
}

/**
 * Objects samples expect in S3 (e-mail's SES S3 action): a sample may name one as
 * `"s3_object": {"bucket", "key", "eml"}`, the raw MIME being the sibling `.eml` file. Returns
 * `[bucket, key, bytes]` for every such sample of the channel (e2e tests PUT them first).
 */
export function sampleObjects(channel: string): Array<[bucket: string, key: string, body: Buffer]> {
  return loadSamples(channel).flatMap((s) => {
    const o = (s as Record<string, unknown>).s3_object as { bucket?: unknown; key?: unknown; eml?: unknown } | undefined;
    if (!o || typeof o.bucket !== 'string' || typeof o.key !== 'string' || typeof o.eml !== 'string') return [];
    return [[o.bucket, o.key, readFileSync(join(samplesDir(channel), o.eml))] as [string, string, Buffer]];
  });
}

/** Parse ports for pure tests: `readObject` serves the channel's sample objects, rejects others. */
export function sampleParsePorts(channel: string): ParsePorts {
  const objects = new Map(sampleObjects(channel).map(([b, k, body]) => [`${b}/${k}`, body]));
  return {
    readObject: async (bucket, key) => {
      const body = objects.get(`${bucket}/${key}`);
      if (!body) throw new Error('NoSuchKey');
      return body;
    },
  };
}
