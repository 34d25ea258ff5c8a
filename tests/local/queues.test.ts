import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEDUPLICATION_WINDOW_MS, LocalQueue, LocalQueueError, QueuePoller, type LocalQueueOptions } from '../../local/queues.js';

const open: LocalQueue[] = [];
let dir: string;

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'confluo-queues-')); });
afterEach(() => {
  for (const q of open.splice(0)) q.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A queue closed after the test. `crashed` queues are abandoned instead, like a killed process's. */
function queue(options: Partial<LocalQueueOptions> & { crashed?: boolean } = {}): LocalQueue {
  const { crashed, ...rest } = options;
  const fifo = rest.fifo ?? true;
  const q = new LocalQueue({ name: fifo ? 'inbound.fifo' : 'outbound', fifo, visibilityTimeoutMs: 30, ...rest });
  if (!crashed) open.push(q);
  return q;
}

function fakeClock(start = 1_700_000_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

let dedup = 0;
function sendTo(q: LocalQueue, body: string, groupId = 'g') {
  return q.send({ body, groupId, deduplicationId: `d${++dedup}` });
}

const bodies = (records: SQSRecord[]) => records.map((r) => r.body);

describe('LocalQueue', () => {
  it('delivers SQS-shaped records', () => {
    // Prepare
    const q = queue();
    const { messageId } = q.send({ body: 'hello', groupId: 'telegram:42', deduplicationId: 'x1', attributes: { channel: 'telegram' } });
    // Act
    const [record] = q.receive(10);
    // Assess
    expect(record).toMatchObject({
      messageId,
      body: 'hello',
      md5OfBody: '5d41402abc4b2a76b9719d911017c592',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:inbound.fifo',
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'telegram:42', MessageDeduplicationId: 'x1', SequenceNumber: expect.stringMatching(/^\d{20}$/) },
      messageAttributes: { channel: { stringValue: 'telegram', dataType: 'String' } },
    });
    expect(q.url).toBe('local://inbound.fifo');
  });

  it('FIFO: delivers a group in send order', () => {
    const q = queue();
    for (let i = 1; i <= 4; i++) { sendTo(q, `a${i}`, 'a'); sendTo(q, `b${i}`, 'b'); }

    const records = q.receive(10);

    expect(bodies(records.filter((r) => r.attributes.MessageGroupId === 'a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(bodies(records.filter((r) => r.attributes.MessageGroupId === 'b'))).toEqual(['b1', 'b2', 'b3', 'b4']);
  });

  it('FIFO: blocks a group while one of its messages is in flight, not the other groups', () => {
    const q = queue();
    sendTo(q, 'a1', 'a'); sendTo(q, 'a2', 'a'); sendTo(q, 'b1', 'b');

    const [first] = q.receive(1);
    const second = q.receive(10);
    q.delete(first!.receiptHandle);
    const third = q.receive(10);

    expect(first!.body).toBe('a1');
    expect(bodies(second)).toEqual(['b1']);
    expect(bodies(third)).toEqual(['a2']);
  });

  it('redelivers after the visibility timeout with a higher ApproximateReceiveCount', () => {
    const clock = fakeClock();
    const q = queue({ visibilityTimeoutMs: 1000, now: clock.now });
    sendTo(q, 'm');

    const [first] = q.receive();
    clock.t += 999;
    const hidden = q.receive();
    clock.t += 1;
    const [again] = q.receive();

    expect(hidden).toEqual([]);
    expect(again!.attributes.ApproximateReceiveCount).toBe('2');
    expect(again!.attributes.ApproximateFirstReceiveTimestamp).toBe(first!.attributes.ApproximateFirstReceiveTimestamp);
    expect(again!.receiptHandle).not.toBe(first!.receiptHandle);
    expect(q.delete(first!.receiptHandle)).toBe(false); // a stale handle deletes nothing
    expect(q.delete(again!.receiptHandle)).toBe(true);
    expect(q.stats()).toEqual({ name: 'inbound.fifo', depth: 0, inFlight: 0, delayed: 0, dlqDepth: 0 });
  });

  it('changeVisibility(0) makes an in-flight message visible at once', () => {
    const q = queue({ visibilityTimeoutMs: 60_000 });
    sendTo(q, 'm');
    const [record] = q.receive();

    q.changeVisibility(record!.receiptHandle, 0);

    expect(bodies(q.receive())).toEqual(['m']);
    expect(() => q.changeVisibility(record!.receiptHandle, 0)).toThrow(LocalQueueError);
  });

  it('counts a message hidden with changeVisibility as delayed, and shows it again once a jumping clock passes its time (recheck)', () => {
    const clock = fakeClock();
    const q = queue({ now: clock.now, visibilityTimeoutMs: 60_000 });
    sendTo(q, 'm');
    const [record] = q.receive();
    q.changeVisibility(record!.receiptHandle, 30_000);
    expect(q.stats()).toMatchObject({ depth: 0, inFlight: 1, delayed: 1 });
    clock.t += 29_999;
    q.recheck();
    expect(q.receive()).toEqual([]);
    clock.t += 1;
    q.recheck();
    expect(q.stats()).toMatchObject({ depth: 1, inFlight: 0, delayed: 0 });
    expect(bodies(q.receive())).toEqual(['m']);
  });

  it('FIFO: accepts a repeated deduplication id within 5 minutes without enqueuing it twice', () => {
    const clock = fakeClock();
    const q = queue({ now: clock.now });

    const first = q.send({ body: 'x', groupId: 'g', deduplicationId: 'dup' });
    clock.t += DEDUPLICATION_WINDOW_MS - 1;
    const repeat = q.send({ body: 'x', groupId: 'g', deduplicationId: 'dup' });
    clock.t += 1;
    const later = q.send({ body: 'x', groupId: 'g', deduplicationId: 'dup' });

    expect(repeat.messageId).toBe(first.messageId);
    expect(later.messageId).not.toBe(first.messageId);
    expect(q.peekAll()).toHaveLength(2);
  });

  it('FIFO: content-based deduplication hashes the body when enabled, and is required otherwise', () => {
    const q = queue({ contentBasedDeduplication: true });
    expect(q.send({ body: 'same', groupId: 'g' })).toEqual(q.send({ body: 'same', groupId: 'g' }));
    expect(() => queue().send({ body: 'x', groupId: 'g' })).toThrow(/deduplicationId/);
    expect(() => queue().send({ body: 'x', deduplicationId: 'd' })).toThrow(/groupId/);
  });

  it('moves a message received maxReceiveCount times to the DLQ with the last failure reason', () => {
    const clock = fakeClock();
    const dlq = queue({ name: 'inbound-dlq.fifo', now: clock.now });
    const q = queue({ dlq, maxReceiveCount: 2, visibilityTimeoutMs: 10, now: clock.now });
    const { messageId } = sendTo(q, 'poison');

    for (let attempt = 1; attempt <= 2; attempt++) {
      expect(q.receive()[0]!.attributes.ApproximateReceiveCount).toBe(String(attempt));
      q.fail(messageId, `ParseError: attempt ${attempt}`);
      clock.t += 10;
    }
    const third = q.receive();

    expect(third).toEqual([]);
    expect(q.stats()).toMatchObject({ depth: 0, inFlight: 0, dlqDepth: 1 });
    expect(dlq.dlqEntries()).toEqual([expect.objectContaining({
      messageId, body: 'poison', groupId: 'g', sourceQueue: 'inbound.fifo', receiveCount: 2, reason: 'ParseError: attempt 2',
    })]);
    expect(dlq.receive()[0]!.attributes.DeadLetterQueueSourceArn).toBe(q.arn);
  });

  it('rejects inconsistent configuration with a LocalQueueError', () => {
    expect(() => new LocalQueue({ name: 'inbound', fifo: true })).toThrow(LocalQueueError);
    expect(() => new LocalQueue({ name: 'inbound.fifo', fifo: true, dlq: queue({ fifo: false }), maxReceiveCount: 5 })).toThrow(/same type/);
    expect(() => new LocalQueue({ name: 'inbound.fifo', fifo: true, dlq: queue({ name: 'dlq.fifo' }) })).toThrow(/maxReceiveCount/);
  });
});

describe('QueuePoller', () => {
  /** Handler that fails the records whose body the test names, and logs every attempt. */
  function scriptedHandler(failBodies: (body: string, receiveCount: number) => boolean) {
    const attempts: string[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      attempts.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      const failed = event.Records.filter((r) => failBodies(r.body, Number(r.attributes.ApproximateReceiveCount)));
      return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
    };
    return { handler, attempts };
  }

  it('deletes only the successes of a partial batch failure; the failure comes back after its visibility timeout', async () => {
    const q = queue({ fifo: false });
    for (const body of ['a', 'b', 'c']) q.send({ body });
    const { handler, attempts } = scriptedHandler((body, n) => body === 'b' && n === 1);
    const poller = new QueuePoller(q, handler);

    poller.start();
    await poller.whenIdle();
    await poller.stop();

    expect(attempts).toEqual(['a#1', 'b#1', 'c#1', 'b#2']);
    expect(poller.processed).toBe(3);
    expect(poller.failedAttempts).toBe(1);
  });

  it('never hands a message out again while the invocation that received it still runs past the visibility timeout (the deployed timeout is 6× the function\'s)', async () => {
    const q = queue({ fifo: false, visibilityTimeoutMs: 20 });
    q.send({ body: 'slow' });
    const attempts: string[] = [];
    let running = 0;
    let overlapping = 0;
    // Two batches may run at once, so a copy that reappeared would be received while the first runs.
    const poller = new QueuePoller(q, async (event) => {
      attempts.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      if (running > 0) overlapping++;
      running++;
      const first = event.Records[0]!.attributes.ApproximateReceiveCount === '1';
      if (first) await new Promise((resolve) => setTimeout(resolve, 150));
      running--;
      return { batchItemFailures: first ? event.Records.map((r) => ({ itemIdentifier: r.messageId })) : [] };
    }, { concurrency: 2 });

    poller.start();
    await poller.whenIdle();
    await poller.stop();

    // The failed first attempt comes back once it has ended (its timeout long passed), not during it.
    expect(overlapping).toBe(0);
    expect(attempts).toEqual(['slow#1', 'slow#2']);
    expect(poller.processed).toBe(1);
  });

  it('FIFO: does not delete later records of a failed group, even when the handler does not report them', async () => {
    const q = queue();
    sendTo(q, 'g1'); sendTo(q, 'g2'); sendTo(q, 'g3'); sendTo(q, 'h1', 'h');
    const { handler, attempts } = scriptedHandler((body, n) => body === 'g2' && n === 1);
    const poller = new QueuePoller(q, handler);

    poller.start();
    await poller.whenIdle();
    await poller.stop();

    expect(attempts).toEqual(['g1#1', 'g2#1', 'g3#1', 'h1#1', 'g2#2', 'g3#2']);
    expect(poller.failedAttempts).toBe(2);
  });

  it('fails the whole batch when the handler throws, and records the error as the reason', async () => {
    const q = queue({ visibilityTimeoutMs: 60_000 });
    sendTo(q, 'a'); sendTo(q, 'b', 'other');
    let calls = 0;
    const poller = new QueuePoller(q, async () => { calls++; throw new TypeError('boom'); });

    poller.start();
    await until(() => poller.failedAttempts === 2);
    await poller.stop();

    expect(calls).toBe(1);
    expect(q.peekAll().map((m) => [m.state, m.lastFailure])).toEqual([
      ['inFlight', 'handler threw TypeError: boom'],
      ['inFlight', 'handler threw TypeError: boom'],
    ]);
  });

  it('treats an unknown itemIdentifier as a failure of the whole batch, as Lambda does', async () => {
    const q = queue({ visibilityTimeoutMs: 60_000 });
    sendTo(q, 'a');
    const poller = new QueuePoller(q, async () => ({ batchItemFailures: [{ itemIdentifier: '' }] }));

    poller.start();
    await until(() => poller.failedAttempts === 1);
    await poller.stop();

    expect(poller.processed).toBe(0);
    expect(q.peekAll()[0]!.lastFailure).toMatch(/itemIdentifier/);
  });

  it('sends a poison message to the DLQ with its reason, then delivers the next message of its group', async () => {
    const dlq = queue({ name: 'inbound-dlq.fifo' });
    const q = queue({ dlq, maxReceiveCount: 3 });
    sendTo(q, 'poison'); sendTo(q, 'next');
    const delivered: string[] = [];
    const poller = new QueuePoller(q, async (event) => {
      for (const r of event.Records) {
        if (r.body === 'poison') throw new SyntaxError('unexpected token');
        delivered.push(r.body);
      }
    }, { batchSize: 1 }); // see the FIFO test above: a batch shares its group's failure

    poller.start();
    await poller.whenIdle();
    await poller.stop();

    expect(delivered).toEqual(['next']);
    expect(poller.failedAttempts).toBe(3);
    expect(dlq.dlqEntries()).toEqual([expect.objectContaining({ body: 'poison', receiveCount: 3, reason: 'handler threw SyntaxError: unexpected token' })]);
  });

  it('runs distinct groups concurrently but never two batches of one group', async () => {
    const q = queue({ visibilityTimeoutMs: 60_000 });
    for (const g of ['a', 'b', 'c']) for (let i = 0; i < 5; i++) sendTo(q, `${g}${i}`, g);
    const active = new Set<string>();
    const seen: Record<string, string[]> = {};
    let overlap = 0;
    let maxActive = 0;
    const poller = new QueuePoller(q, async (event) => {
      const group = event.Records[0]!.attributes.MessageGroupId!;
      if (active.has(group)) overlap++;
      active.add(group);
      maxActive = Math.max(maxActive, active.size);
      await new Promise((r) => setTimeout(r, 5));
      (seen[group] ??= []).push(...bodies(event.Records));
      active.delete(group);
    }, { batchSize: 1, concurrency: 3 });

    poller.start();
    await poller.whenIdle();
    await poller.stop();

    expect(overlap).toBe(0);
    expect(maxActive).toBeGreaterThan(1);
    expect(seen).toEqual({ a: ['a0', 'a1', 'a2', 'a3', 'a4'], b: ['b0', 'b1', 'b2', 'b3', 'b4'], c: ['c0', 'c1', 'c2', 'c3', 'c4'] });
    expect(poller.processed).toBe(15);
  });

  it('wakes on send, without polling, after being idle', async () => {
    const q = queue();
    const { handler, attempts } = scriptedHandler(() => false);
    const poller = new QueuePoller(q, handler);
    poller.start();
    await poller.whenIdle();

    sendTo(q, 'late');
    expect(poller.idle()).toBe(false);
    await poller.whenIdle();
    await poller.stop();

    expect(attempts).toEqual(['late#1']);
  });
});

describe('LocalQueue journal', () => {
  const journal = () => join(dir, 'queues', 'inbound.fifo.jsonl');

  it('keeps every sent message across a restart, in order', () => {
    const before = queue({ journalPath: journal(), crashed: true });
    sendTo(before, 'a1', 'a'); sendTo(before, 'b1', 'b'); sendTo(before, 'a2', 'a');

    const after = queue({ journalPath: journal() });

    expect(after.peekAll().map((m) => [m.body, m.groupId])).toEqual([['a1', 'a'], ['b1', 'b'], ['a2', 'a']]);
    sendTo(after, 'a4', 'a');
    expect(after.peekAll().map((m) => Number(m.sequenceNumber))).toEqual([1, 2, 3, 4]);
  });

  it('makes messages in flight at a crash visible again, with their receive count', () => {
    const before = queue({ journalPath: journal(), visibilityTimeoutMs: 60_000, crashed: true });
    sendTo(before, 'm');
    before.receive();

    const after = queue({ journalPath: journal() });
    const [record] = after.receive();

    expect(record!.body).toBe('m');
    expect(record!.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('does not bring back a deleted message', () => {
    const before = queue({ journalPath: journal(), crashed: true });
    sendTo(before, 'gone'); sendTo(before, 'kept', 'other');
    before.delete(before.receive(1)[0]!.receiptHandle);

    const after = queue({ journalPath: journal() });

    expect(after.peekAll().map((m) => m.body)).toEqual(['kept']);
  });

  it('keeps state, deduplication history and dead letters through compaction', () => {
    const dlqPath = join(dir, 'queues', 'inbound-dlq.fifo.jsonl');
    const dlq = queue({ name: 'inbound-dlq.fifo', journalPath: dlqPath, crashed: true });
    const before = queue({ journalPath: journal(), compactAfterLines: 5, dlq, maxReceiveCount: 1, visibilityTimeoutMs: 60_000, crashed: true });
    for (let i = 0; i < 12; i++) before.send({ body: `m${i}`, groupId: `g${i}`, deduplicationId: `d${i}` });
    const received = before.receive(3);
    before.delete(received[0]!.receiptHandle); // m0 done
    before.fail(received[1]!.messageId, 'Error: m1 failed');
    before.changeVisibility(received[1]!.receiptHandle, 0);
    before.receive(1); // m1 was received once already: moved to the DLQ
    const expected = before.peekAll().map(({ state: _s, visibleAt: _v, ...rest }) => rest);

    const receiveRecords = readFileSync(journal(), 'utf8').split('"op":"receive"').length - 1;
    const after = queue({ journalPath: journal(), dlq: queue({ name: 'inbound-dlq.fifo', journalPath: dlqPath }), maxReceiveCount: 1 });

    expect(receiveRecords).toBeLessThan(4); // compaction folded them into the messages' receive counts
    expect(after.peekAll().map(({ state: _s, visibleAt: _v, ...rest }) => rest)).toEqual(expected);
    expect(after.send({ body: 'm0 again', groupId: 'g0', deduplicationId: 'd0' }).messageId).toBe(received[0]!.messageId);
    expect(after.dlq!.dlqEntries()).toEqual([expect.objectContaining({ body: 'm1', reason: 'Error: m1 failed' })]);
  });

  it('ignores a line torn by a crash at the end, and refuses a corrupt line elsewhere', () => {
    const before = queue({ journalPath: journal(), crashed: true });
    sendTo(before, 'whole');
    appendFileSync(journal(), '{"op":"send","m":{"messageId":"x","bo');

    expect(queue({ journalPath: journal() }).peekAll().map((m) => m.body)).toEqual(['whole']);

    writeFileSync(journal(), `not json\n${readFileSync(journal(), 'utf8')}`);
    expect(() => queue({ journalPath: journal() })).toThrow(/line 1 is not JSON/);
  });

  it('keeps every acknowledged message when the sending process is killed with SIGKILL', async () => {
    const fixture = fileURLToPath(new URL('fixtures/send-until-killed.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, journal()], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.split('\n').length > 200) child.kill('SIGKILL');
    });

    const signal = await exited;
    const acknowledged = stdout.split('\n').slice(0, -1).map((line) => line.replace(/^sent /, ''));
    const after = queue({ journalPath: journal() });

    expect(signal, stderr).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
    const present = new Set(after.peekAll().map((m) => m.messageId));
    expect(acknowledged.filter((id) => !present.has(id))).toEqual([]);
  });
});

/** Waits for a condition the poller reaches asynchronously (a failure keeps it from being idle). */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('until: condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
