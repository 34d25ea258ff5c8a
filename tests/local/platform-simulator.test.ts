/**
 * The local platform simulator (`POST /dev/simulator`): armed answers are used up in order, per
 * channel; the outbox still records the request and marks the answer simulated; a timeout rejects
 * as `fetch` with `AbortSignal.timeout` does, and an SES refusal as the SDK throws it.
 */
import { describe, expect, it } from 'vitest';
import type { PlatformRequest } from '../../functions/channels/channel.js';
import { makePerform } from '../../functions/runtime/perform.js';
import { VirtualClock } from '../../local/clock.js';
import { Outbox } from '../../local/outbox.js';
import { outboxTransport } from '../../local/platform.js';
import { PlatformSimulator, SimulatorRule } from '../../local/platform-simulator.js';

const request: PlatformRequest = { method: 'POST', url: 'https://api.telegram.org/bot1:x/sendMessage', headers: { 'content-type': 'application/json' }, body: '{"chat_id":1,"text":"hi"}' };
const meta = { channel: 'telegram', kind: 'reply', ticket_id: 'T1' };

describe('PlatformSimulator', () => {
  it('validates a rule: a status or a timeout, never both, times ≥ 1', () => {
    expect(SimulatorRule.safeParse({ channel: 'telegram', status: 429 }).data).toEqual({ channel: 'telegram', status: 429, times: 1 });
    expect(SimulatorRule.safeParse({ channel: 'telegram', timeout: true, times: 2 }).success).toBe(true);
    expect(SimulatorRule.safeParse({ channel: 'telegram' }).success).toBe(false);
    expect(SimulatorRule.safeParse({ channel: 'telegram', status: 500, timeout: true }).success).toBe(false);
    expect(SimulatorRule.safeParse({ channel: 'fax', status: 500 }).success).toBe(false);
    expect(SimulatorRule.safeParse({ channel: 'telegram', status: 500, times: 0 }).success).toBe(false);
  });

  it('answers the next `times` requests of the channel as armed, then as on success; the outbox marks the simulated ones', async () => {
    const simulator = new PlatformSimulator();
    const outbox = new Outbox();
    const perform = makePerform(outboxTransport(outbox, new VirtualClock(), simulator));
    simulator.arm(SimulatorRule.parse({ channel: 'telegram', status: 429, body: { ok: false, parameters: { retry_after: 30 } }, headers: { 'Retry-After': '30' }, times: 2 }));
    simulator.arm(SimulatorRule.parse({ channel: 'viber', status: 500 }));
    const answers = [await perform(request, meta), await perform(request, meta), await perform(request, meta)];
    expect(answers.map((a) => a.status)).toEqual([429, 429, 200]);
    expect(answers[0]).toEqual({ status: 429, headers: { 'retry-after': '30', 'content-type': 'application/json' }, body: '{"ok":false,"parameters":{"retry_after":30}}' });
    expect(outbox.list().map((o) => o.simulated)).toEqual([{ status: 429 }, { status: 429 }, undefined]);
    expect(simulator.list()).toEqual([expect.objectContaining({ channel: 'viber', left: 1 })]);
    simulator.reset();
    expect(simulator.list()).toEqual([]);
  });

  it('times out like fetch with AbortSignal.timeout, and refuses an e-mail as SES would', async () => {
    const simulator = new PlatformSimulator();
    const outbox = new Outbox();
    const perform = makePerform(outboxTransport(outbox, new VirtualClock(), simulator));
    simulator.arm(SimulatorRule.parse({ channel: 'telegram', timeout: true }));
    await expect(perform(request, meta)).rejects.toMatchObject({ name: 'TimeoutError' });
    simulator.arm(SimulatorRule.parse({ channel: 'email', status: 400, body: { Error: { Code: 'MessageRejected' } } }));
    const refused = await perform({ method: 'POST', url: 'ses:SendRawEmail', headers: {}, body: 'From: a@b.example\r\n\r\nx' }, { channel: 'email', kind: 'reply', ticket_id: 'T1' });
    expect(refused).toMatchObject({ status: 400, body: JSON.stringify({ Error: { Code: 'MessageRejected', Type: 'Sender' } }) });
    expect(outbox.list().map((o) => o.simulated)).toEqual([{ timeout: true }, { status: 400 }]);
  });
});
