/**
 * The send λ's failure classification, through the local runtime: a message that cannot be
 * rendered fails at once with a reason instead of being retried into the dead-letter queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { loadSamples } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

describe('send', () => {
  let rt: Runtime & { api: ApiClient };
  beforeAll(async () => {
    // Inbound e-mail configured, outbound not: EMAIL_FROM missing.
    rt = await testRuntime({ EMAIL_FROM: '' }, { visibilityTimeoutMs: 5000 });
  });
  afterAll(async () => { await rt?.stop(); });

  it('fails an acknowledgement it cannot render (EMAIL_FROM missing) once, with render_failed, and dead-letters nothing', async () => {
    const mail = loadSamples('email').find((s) => s.name === '01-text-utf8-v2')!;
    expect((await rt.api.webhook('email', { headers: mail.request.headers, body: mail.request.body })).status).toBe(200);
    const settled = await rt.settle();
    expect(settled.dlq).toBe(0);
    expect(rt.queues.outboundDlq.stats().depth).toBe(0);
    const token = await rt.api.token('ann', 'agent');
    const card = (await rt.api.get('/api/v1/customers?identity=email:anna.kowalska@shop.example', token)).body.items[0];
    const timeline = (await rt.api.get(`/api/v1/tickets/${card.tickets[0].id}/timeline`, token)).body.items;
    const ack = timeline.find((e: { direction?: string }) => e.direction === 'out');
    expect(ack).toMatchObject({ delivery: 'failed', delivery_error: 'render_failed' });
    expect((await rt.api.get('/dev/outbox')).body.items.filter((o: { channel: string }) => o.channel === 'email')).toHaveLength(0);
  });
});
