/**
 * Re-sign the channel samples after an edit (`npm run samples:sign`, channels.md §10).
 *
 * Each channel registers a signer in `signers`: a pure function from a sample file's content to
 * the same content with its credential rewritten from the test secrets. Samples with a `defect`
 * (`missing-credential`, `wrong-credential`, `alg-none`) keep it: the signer writes the defect
 * deterministically instead of the right credential. The contract test runs every signer over the
 * stored samples and fails when the result differs, i.e. when a sample was edited without being
 * re-signed.
 *
 * Usage: `npm run samples:sign [-- <channel> …]` (default: every channel with a signer).
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT, base64url } from 'jose';
import { CHANNELS_DIR, SampleFile, TEST_SECRETS, samplesDir } from '../tests/helpers/samples.js';
import { signEmail } from './sign-email.js';
import { signMeta } from './sign-meta.js';
import { signTwilio } from './sign-twilio.js';
import { signViber, signVk } from './sign-vk-viber.js';

export type Signer = (sample: SampleFile, secrets: Readonly<Record<string, string>>) => SampleFile | Promise<SampleFile>;

/** Set (or, with `undefined`, remove) a header, keeping the sample's own spelling and position. */
export function withHeader(headers: Readonly<Record<string, string>>, name: string, value: string | undefined): Record<string, string> {
  const lower = name.toLowerCase();
  const existing = Object.keys(headers).find((k) => k.toLowerCase() === lower);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k === existing) {
      if (value !== undefined) out[k] = value;
    } else if (k.toLowerCase() !== lower) {
      out[k] = v;
    }
  }
  if (existing === undefined && value !== undefined) out[name] = value;
  return out;
}

function secret(secrets: Readonly<Record<string, string>>, name: string): string {
  const v = secrets[name];
  if (v === undefined) throw new Error(`sign-samples: test secret ${name} is not defined`);
  return v;
}

/** Telegram: the `X-Telegram-Bot-Api-Secret-Token` header is the credential (§1). */
const signTelegram: Signer = (input, secrets) => {
  const sample = structuredClone(input);
  const right = secret(secrets, 'TELEGRAM_SECRET_TOKEN');
  // Same length as the right one: the refusal exercises the constant-time comparison itself.
  const wrong = right.replace(/.$/, (c) => (c === '9' ? '8' : '9'));
  const value = sample.defect === 'missing-credential' ? undefined : sample.defect === 'wrong-credential' ? wrong : right;
  sample.request.headers = withHeader(sample.request.headers, 'X-Telegram-Bot-Api-Secret-Token', value);
  return sample;
};

/** A key that is not WEBCHAT_SECRET, for forged-signature samples. */
export const FORGED_WEBCHAT_KEY = 'forged-webchat-secret-000000000000000';

/**
 * Webchat: `Authorization: Bearer <HS256 JWT>` minted from `request.token_claims` (§9). Tokens
 * are deterministic (HMAC over fixed claims, `iat` included in the claims), so re-signing an
 * unchanged sample changes nothing. No `token_claims` → no Authorization header.
 */
const signWebchat: Signer = async (input, secrets) => {
  const sample = structuredClone(input);
  const claims = sample.request.token_claims as Record<string, unknown> | undefined;
  let token: string | undefined;
  if (claims !== undefined && sample.defect !== 'missing-credential') {
    if (sample.defect === 'alg-none') {
      const part = (o: unknown) => base64url.encode(JSON.stringify(o));
      token = `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
    } else {
      const key = sample.defect === 'wrong-credential' ? FORGED_WEBCHAT_KEY : secret(secrets, 'WEBCHAT_SECRET');
      token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(key));
    }
  }
  sample.request.headers = withHeader(sample.request.headers, 'Authorization', token === undefined ? undefined : `Bearer ${token}`);
  return sample;
};

/** One signer per channel; add a line here when a channel's samples carry a credential. */
export const signers: Readonly<Record<string, Signer>> = {
  email: signEmail,
  instagram: signMeta,
  messenger: signMeta,
  telegram: signTelegram,
  twilio: signTwilio,
  viber: signViber,
  vk: signVk,
  webchat: signWebchat,
  whatsapp: signMeta,
};

/** Re-sign one channel's samples on disk; returns the files that changed. */
export async function signChannel(channel: string): Promise<string[]> {
  const signer = signers[channel];
  if (!signer) throw new Error(`sign-samples: no signer for channel ${channel}`);
  const dir = samplesDir(channel);
  if (!existsSync(dir)) return [];
  const changed: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const path = join(dir, file);
    const before = readFileSync(path, 'utf8');
    const signed = await signer(SampleFile.parse(JSON.parse(before)), TEST_SECRETS);
    const after = `${JSON.stringify(signed, null, 2)}\n`;
    if (after !== before) {
      writeFileSync(path, after);
      changed.push(file);
    }
  }
  return changed;
}

async function main(args: readonly string[]): Promise<void> {
  const folders = readdirSync(CHANNELS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const wanted = args.length > 0 ? args : folders;
  for (const channel of wanted) {
    if (!signers[channel]) {
      console.warn(`${channel}: no signer in scripts/sign-samples.ts, skipped`);
      continue;
    }
    const changed = await signChannel(channel);
    console.log(`${channel}: ${changed.length === 0 ? 'up to date' : `re-signed ${changed.join(', ')}`}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
