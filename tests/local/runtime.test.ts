/**
 * `POST /dev/settle` of the local runtime: 200 with what was processed once everything is quiet;
 * 503 `not_settled` with the counts still pending when it is not quiet by the deadline — the
 * deadline holds inside a wait too (here: a queue message held in flight by another consumer,
 * which the poller can neither finish nor see until its visibility timeout).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRuntime } from '../helpers/runtime.js';

type Rt = Awaited<ReturnType<typeof testRuntime>>;

describe('POST /dev/settle', () => {
  let rt: Rt;
  // A long visibility timeout: a message received outside the poller stays in flight for the test.
  beforeAll(async () => { rt = await testRuntime({}, { visibilityTimeoutMs: 120_000 }); });
  afterAll(async () => { await rt?.stop(); });

  /** POST /dev/settle; the abort is only a guard so a settle that overruns fails instead of hanging. */
  const settle = async (body?: unknown) => {
    const res = await fetch(`${rt.url}/dev/settle`, {
      method: 'POST', signal: AbortSignal.timeout(15_000),
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() as any };
  };

  it('answers 200 with the counts of what it processed when the system becomes quiet (no body, as curl -XPOST sends)', async () => {
    const res = await settle();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ processed: 0, dlq: 0, workflows: 0 });
  });

  it('answers 503 not_settled with what is pending when a message stays in flight past the deadline, then 200 once it is done', async () => {
    rt.queues.inbound.send({ body: '{}', groupId: 'held-by-test', deduplicationId: 'held-1' });
    // Received before the poller wakes (queues notify consumers in a later microtask).
    const [held] = rt.queues.inbound.receive(1);
    expect(held).toBeDefined();

    const res = await settle({ timeoutSeconds: 1 });
    expect(res.status).toBe(503);
    expect(res.body.error).toEqual({ code: 'not_settled', message: 'settle: the system did not become quiet within 1 s (waiting for: inbound queue)' });
    expect(res.body.pending).toEqual({
      waitingFor: 'inbound queue',
      queues: [
        { name: 'inbound.fifo', depth: 0, inFlight: 1, delayed: 0, dlqDepth: 0 },
        { name: 'outbound.fifo', depth: 0, inFlight: 0, delayed: 0, dlqDepth: 0 },
        { name: 'media', depth: 0, inFlight: 0, delayed: 0, dlqDepth: 0 },
      ],
      stream: { dispatched: 0 },
      workflows: { due: 0, running: 0, parked: 0, steps: 0 },
    });

    expect(rt.queues.inbound.delete(held!.receiptHandle)).toBe(true);
    expect((await settle({})).status).toBe(200);
  });

  it('refuses a deadline that is not a positive number of seconds up to 300 with 400', async () => {
    for (const body of [{ timeoutSeconds: 0 }, { timeoutSeconds: 301 }, { timeoutSeconds: '5' }, { timeout: 5 }]) {
      const res = await settle(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid');
    }
  });
});
