/**
 * In-process queues with the SQS semantics our handlers rely on, so the local runtime feeds them
 * the same `SQSEvent`s as AWS (DESIGN.md §4) — an Architect-sandbox-style shim, not an emulator of
 * the SQS API.
 *
 * Mirrored behaviour (each is referenced where it is implemented):
 * - visibility timeout: a received message is hidden, then visible again unless deleted
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
 * - FIFO: send order within a message group; a group with a message in flight is blocked
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
 * - FIFO deduplication: one message per deduplication id within 5 minutes
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-exactly-once-processing.html
 * - redrive: a message received maxReceiveCount times moves to the dead-letter queue
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 *
 * Durability (DESIGN.md §7, "a crash at any point loses nothing"): with a `journalPath`, every
 * change is appended to a JSON-lines journal, and `send` fsyncs before it returns, because the
 * ingest handler acknowledges the platform's webhook as soon as `send` returns.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template.js';

export { QueuePoller, QueuePollerError, type QueuePollerOptions, type SqsBatchHandler } from './queue-poller.js';

/** SQS keeps a FIFO deduplication id for five minutes. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;
const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000; // the SQS default
const DEFAULT_COMPACT_AFTER_LINES = 10_000;
const MAX_REASON_LENGTH = 500;

export class LocalQueueError extends Error {
  override readonly name = 'LocalQueueError';
}

export interface LocalQueueOptions {
  /** Like SQS: FIFO queue names end in `.fifo`. */
  readonly name: string;
  readonly fifo: boolean;
  /** How long a received message stays hidden. Default 30 s, as in SQS. */
  readonly visibilityTimeoutMs?: number;
  /** Redrive policy: after this many receives the next receive moves the message to `dlq`. Required with `dlq`. */
  readonly maxReceiveCount?: number;
  /** Without a DLQ a failing message is retried for ever, like an SQS queue without a redrive policy. */
  readonly dlq?: LocalQueue;
  /** JSON-lines journal that makes the queue survive a restart. Default: in memory only. */
  readonly journalPath?: string;
  /** FIFO: derive the deduplication id from the body when none is sent (SQS `ContentBasedDeduplication`). Default false. */
  readonly contentBasedDeduplication?: boolean;
  /** Compact the journal after this many appended lines. Default 10,000. */
  readonly compactAfterLines?: number;
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

export interface SendInput {
  readonly body: string;
  /** Required on FIFO queues (SQS `MessageGroupId`). */
  readonly groupId?: string;
  /** FIFO only (SQS `MessageDeduplicationId`). */
  readonly deduplicationId?: string;
  /** String message attributes. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Why and when a message left its source queue. */
export interface DeadLetterInfo {
  readonly sourceQueue: string;
  readonly sourceArn: string;
  readonly movedAt: number;
  /** Receives in the source queue. */
  readonly receiveCount: number;
  /** The last failure recorded with `fail`, or a note that none was. */
  readonly reason: string;
}

/** A message as `peekAll` shows it (for /dev inspection and tests). */
export interface QueueMessageView {
  readonly messageId: string;
  readonly body: string;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
  readonly sequenceNumber: string;
  readonly sentAt: number;
  readonly receiveCount: number;
  readonly state: 'visible' | 'inFlight';
  /** While in flight: when the message becomes visible again. */
  readonly visibleAt: number | undefined;
  readonly lastFailure: string | undefined;
  readonly deadLetter: DeadLetterInfo | undefined;
}

export interface DeadLetterEntry extends DeadLetterInfo {
  readonly messageId: string;
  readonly groupId: string | undefined;
  readonly body: string;
}

export interface QueueStats {
  readonly name: string;
  /** Messages waiting to be received (SQS `ApproximateNumberOfMessages`; there is no delay here). */
  readonly depth: number;
  /** Received, neither deleted nor visible again (`ApproximateNumberOfMessagesNotVisible`). */
  readonly inFlight: number;
  /** Of those in flight: hidden on purpose until a later time (a consumer's ChangeMessageVisibility backoff). */
  readonly delayed: number;
  /** Messages in the dead-letter queue; 0 without one. */
  readonly dlqDepth: number;
}

/** What the journal stores about a message; the in-flight state is deliberately not stored. */
interface StoredMessage {
  messageId: string;
  body: string;
  groupId?: string;
  deduplicationId?: string;
  attributes?: Record<string, string>;
  sequenceNumber: string;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  lastFailure?: string;
  deadLetter?: DeadLetterInfo;
}

interface Message extends StoredMessage {
  /**
   * Set while in flight: the handle of the current receive and when the message shows again;
   * `delayed` once the consumer chose that time itself (ChangeMessageVisibility: a backoff);
   * `held` while the invocation that received it still runs (`hold`).
   */
  inFlight?: { receiptHandle: string; visibleAt: number; delayed?: boolean; held?: boolean };
}

type JournalRecord =
  | { op: 'send'; m: StoredMessage }
  | { op: 'receive'; id: string; at: number }
  | { op: 'fail'; id: string; reason: string }
  | { op: 'delete'; id: string }
  | { op: 'dead-lettered'; id: string }
  | { op: 'purge' }
  | { op: 'dedup'; key: string; id: string; at: number }
  | { op: 'seq'; next: number };

export class LocalQueue {
  readonly name: string;
  readonly fifo: boolean;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number | undefined;
  readonly dlq: LocalQueue | undefined;
  private readonly contentBasedDeduplication: boolean;
  private readonly now: () => number;
  private readonly journal: Journal | undefined;
  /** Insertion order is send order, which FIFO delivery follows. */
  private readonly messages = new Map<string, Message>();
  private readonly byReceiptHandle = new Map<string, Message>();
  /** deduplication id → first message with it; insertion order is time order. */
  private readonly dedup = new Map<string, { messageId: string; at: number }>();
  private readonly listeners = new Set<() => void>();
  private nextSequence = 1;
  private wake: { timer: NodeJS.Timeout; at: number } | undefined;
  private notifyScheduled = false;
  private isClosed = false;

  constructor(options: LocalQueueOptions) {
    const { name, fifo, dlq, maxReceiveCount } = options;
    const who = `LocalQueue(${name})`;
    if (!/^[A-Za-z0-9_-]+(\.fifo)?$/.test(name) || name.length > 80 || name.endsWith('.fifo') !== fifo) {
      throw new LocalQueueError(`${who}: invalid name (up to 80 of [A-Za-z0-9_-]; FIFO queues, and only they, end in .fifo)`, { cause: { name, fifo } });
    }
    if (dlq && dlq.fifo !== fifo) throw new LocalQueueError(`${who}: the dead-letter queue must be of the same type (FIFO or standard)`, { cause: { dlq: dlq.name } });
    if (dlq && (maxReceiveCount === undefined || !Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000)) {
      throw new LocalQueueError(`${who}: a dead-letter queue needs maxReceiveCount between 1 and 1000`, { cause: { maxReceiveCount } });
    }
    this.name = name;
    this.fifo = fifo;
    this.dlq = dlq;
    this.maxReceiveCount = maxReceiveCount;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
    if (!(this.visibilityTimeoutMs >= 0)) throw new LocalQueueError(`${who}: visibilityTimeoutMs must be ≥ 0`, { cause: { visibilityTimeoutMs: this.visibilityTimeoutMs } });
    this.contentBasedDeduplication = options.contentBasedDeduplication ?? false;
    this.now = options.now ?? Date.now;
    if (options.journalPath !== undefined) {
      this.journal = new Journal(options.journalPath, options.compactAfterLines ?? DEFAULT_COMPACT_AFTER_LINES);
      for (const record of this.journal.read()) this.apply(record);
      // Restore time order (compaction writes dedup entries before the sends) so pruning can stop early.
      const entries = [...this.dedup].sort(([, a], [, b]) => a.at - b.at);
      this.dedup.clear();
      for (const [key, entry] of entries) this.dedup.set(key, entry);
      // Start from a clean file: this also drops a line torn by a crash mid-write.
      this.compact();
    }
  }

  /** An ARN shaped like SQS's, in the local account and region (records carry it as `eventSourceARN`). */
  get arn(): string { return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${this.name}`; }
  get url(): string { return `local://${this.name}`; }
  get closed(): boolean { return this.isClosed; }

  /** Durable (journal fsynced) before it returns. A FIFO duplicate within 5 minutes answers the first message's id. */
  send(input: SendInput): { messageId: string } {
    this.assertOpen('send');
    const now = this.now();
    let deduplicationId: string | undefined;
    if (this.fifo) {
      if (!input.groupId) throw new LocalQueueError(`LocalQueue(${this.name}).send: a FIFO queue needs groupId`);
      deduplicationId = input.deduplicationId ?? (this.contentBasedDeduplication ? createHash('sha256').update(input.body).digest('hex') : undefined);
      if (!deduplicationId) {
        throw new LocalQueueError(`LocalQueue(${this.name}).send: pass deduplicationId or enable contentBasedDeduplication (as SQS requires)`);
      }
      this.pruneDedup(now);
      const first = this.dedup.get(deduplicationId);
      if (first) return { messageId: first.messageId };
    }
    const message: Message = {
      messageId: randomUUID(),
      body: input.body,
      ...(this.fifo ? { groupId: input.groupId, deduplicationId } : {}),
      ...(input.attributes ? { attributes: { ...input.attributes } } : {}),
      sequenceNumber: this.takeSequenceNumber(),
      sentAt: now,
      receiveCount: 0,
    };
    this.journal?.append({ op: 'send', m: message }, { durable: true });
    this.messages.set(message.messageId, message);
    if (deduplicationId) this.dedup.set(deduplicationId, { messageId: message.messageId, at: now });
    this.compactIfDue();
    this.notify();
    return { messageId: message.messageId };
  }

  /**
   * Up to `max` visible messages, each with a fresh receipt handle, hidden for the visibility
   * timeout. FIFO: within a group in send order, and nothing from a group that already has a
   * message in flight; several groups (and several messages of one group) may share a batch.
   */
  receive(max = 1): SQSRecord[] {
    this.assertOpen('receive');
    if (!Number.isInteger(max) || max < 1) throw new LocalQueueError(`LocalQueue(${this.name}).receive: max must be a positive integer`, { cause: { max } });
    const now = this.now();
    this.releaseExpired(now);
    const blockedGroups = new Set<string>();
    if (this.fifo) for (const m of this.messages.values()) if (m.inFlight) blockedGroups.add(m.groupId!);
    const records: SQSRecord[] = [];
    // A linear scan is fine for a local runtime; SQS itself gives no such guarantee to copy.
    for (const m of this.messages.values()) {
      if (records.length >= max) break;
      if (m.inFlight || (this.fifo && blockedGroups.has(m.groupId!))) continue;
      if (this.dlq && m.receiveCount >= this.maxReceiveCount!) {
        // SQS redrive happens on the receive after the maxReceiveCount-th; the group's next message
        // can then be delivered, so a poison message never blocks its group for ever.
        this.moveToDeadLetterQueue(m, now);
        continue;
      }
      records.push(this.markReceived(m, now));
    }
    this.compactIfDue();
    this.scheduleWake();
    return records;
  }

  /**
   * Deletes the message received with this handle. Returns false when the handle is no longer
   * current (the visibility timeout expired, or the message is gone): the message was then, or
   * will be, delivered again — the at-least-once case every consumer must tolerate.
   */
  delete(receiptHandle: string): boolean {
    this.assertOpen('delete');
    this.releaseExpired(this.now());
    const m = this.byReceiptHandle.get(receiptHandle);
    if (!m) return false;
    this.journal?.append({ op: 'delete', id: m.messageId });
    this.byReceiptHandle.delete(receiptHandle);
    this.messages.delete(m.messageId);
    this.compactIfDue();
    this.scheduleWake();
    this.notify(); // the message's FIFO group is unblocked
    return true;
  }

  /** SQS `ChangeMessageVisibility`: hide an in-flight message for `ms` from now (0 = visible now). */
  changeVisibility(receiptHandle: string, ms: number): void {
    this.assertOpen('changeVisibility');
    const now = this.now();
    this.releaseExpired(now);
    const m = this.byReceiptHandle.get(receiptHandle);
    if (!m?.inFlight) throw new LocalQueueError(`LocalQueue(${this.name}).changeVisibility: the message is not in flight under this receipt handle`, { cause: { receiptHandle } });
    if (!(ms >= 0)) throw new LocalQueueError(`LocalQueue(${this.name}).changeVisibility: ms must be ≥ 0`, { cause: { ms } });
    m.inFlight.visibleAt = now + ms;
    m.inFlight.delayed = ms > 0;
    if (this.releaseExpired(now) > 0) this.notify();
    this.scheduleWake();
  }

  /**
   * Keeps a received message hidden while the invocation that received it runs, even past its
   * visibility timeout; `unhold` lets the timeout (or a visibility the consumer set) apply again.
   *
   * Why: the deployed queues' visibility timeout is 6× their consumer's function timeout (lib/),
   * so in AWS a message can never reappear while its invocation still runs — the function ends or
   * is stopped first. Tests shorten the timeout to see retries quickly; without the hold, a slow
   * invocation on a loaded machine would meet a second copy of its own message, a case the
   * deployed system cannot produce.
   */
  hold(receiptHandle: string): void {
    const m = this.byReceiptHandle.get(receiptHandle);
    if (m?.inFlight) m.inFlight.held = true;
  }

  unhold(receiptHandle: string): void {
    const m = this.byReceiptHandle.get(receiptHandle);
    if (!m?.inFlight?.held) return;
    delete m.inFlight.held;
    if (this.releaseExpired(this.now()) > 0) this.notify();
    this.scheduleWake();
  }

  /**
   * Look at the clock again: with a `now` that can jump (the local runtime's virtual clock), the
   * messages whose visibility ran out in the jump become visible at once, not when the timer set
   * in real time fires.
   */
  recheck(): void {
    if (this.isClosed) return;
    if (this.releaseExpired(this.now()) > 0) this.notify();
    this.scheduleWake();
  }

  /**
   * Records why the last attempt at a message failed; shown in its dead-letter entry. SQS has no
   * such call — the reason is the local runtime's replacement for reading the Lambda's logs.
   * Pass a short, non-personal description (error class and message).
   */
  fail(messageId: string, reason: string): void {
    this.assertOpen('fail');
    const m = this.messages.get(messageId);
    if (!m) return;
    const short = reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
    this.journal?.append({ op: 'fail', id: messageId, reason: short });
    m.lastFailure = short;
    this.compactIfDue();
  }

  /** SQS `PurgeQueue`: drops every message (the deduplication history is kept). */
  purge(): void {
    this.assertOpen('purge');
    this.journal?.append({ op: 'purge' }, { durable: true });
    this.messages.clear();
    this.byReceiptHandle.clear();
    this.scheduleWake();
  }

  stats(): QueueStats {
    this.releaseExpired(this.now());
    let inFlight = 0;
    let delayed = 0;
    for (const m of this.messages.values()) {
      if (m.inFlight) inFlight++;
      if (m.inFlight?.delayed) delayed++;
    }
    return { name: this.name, depth: this.messages.size - inFlight, inFlight, delayed, dlqDepth: this.dlq?.messages.size ?? 0 };
  }

  peekAll(): QueueMessageView[] {
    this.releaseExpired(this.now());
    return [...this.messages.values()].map((m) => ({
      messageId: m.messageId,
      body: m.body,
      groupId: m.groupId,
      deduplicationId: m.deduplicationId,
      sequenceNumber: m.sequenceNumber,
      sentAt: m.sentAt,
      receiveCount: m.receiveCount,
      state: m.inFlight ? 'inFlight' : 'visible',
      visibleAt: m.inFlight?.visibleAt,
      lastFailure: m.lastFailure,
      deadLetter: m.deadLetter,
    }));
  }

  /** On a dead-letter queue: its messages with why they were moved, oldest first. */
  dlqEntries(): DeadLetterEntry[] {
    const entries: DeadLetterEntry[] = [];
    for (const m of this.messages.values()) {
      if (m.deadLetter) entries.push({ messageId: m.messageId, groupId: m.groupId, body: m.body, ...m.deadLetter });
      // Dead-lettered by the consumer itself (SendMessage to the DLQ with a `reason` attribute).
      else if (m.attributes?.reason) {
        entries.push({ messageId: m.messageId, groupId: m.groupId, body: m.body, sourceQueue: m.attributes.source_queue ?? '', sourceArn: '', movedAt: m.sentAt, receiveCount: Number(m.attributes.receive_count ?? 0), reason: m.attributes.reason });
      }
    }
    return entries;
  }

  /** Called (asynchronously, coalesced) whenever a message may have become receivable. Returns the unsubscribe. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Stops the timers, compacts and closes the journal. Reading stays possible; changes throw. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = undefined;
    this.listeners.clear();
    if (this.journal) {
      this.compact();
      this.journal.close();
    }
  }

  /** Receives a message redriven from `source` (same id, as in SQS). Idempotent: a crash between
   * this durable send and the source's own record would otherwise move it twice on restart. */
  private acceptDeadLetter(m: StoredMessage, deadLetter: DeadLetterInfo): void {
    this.assertOpen('dead-letter');
    if (this.messages.has(m.messageId)) return;
    const moved: Message = {
      messageId: m.messageId,
      body: m.body,
      ...(m.groupId !== undefined ? { groupId: m.groupId, deduplicationId: m.deduplicationId } : {}),
      ...(m.attributes ? { attributes: m.attributes } : {}),
      sequenceNumber: this.takeSequenceNumber(),
      sentAt: m.sentAt,
      receiveCount: 0,
      deadLetter,
    };
    this.journal?.append({ op: 'send', m: moved }, { durable: true });
    this.messages.set(moved.messageId, moved);
    this.compactIfDue();
    this.notify();
  }

  private moveToDeadLetterQueue(m: Message, now: number): void {
    const reason = m.lastFailure ?? `maxReceiveCount ${this.maxReceiveCount} reached; no failure reason recorded`;
    this.dlq!.acceptDeadLetter(m, { sourceQueue: this.name, sourceArn: this.arn, movedAt: now, receiveCount: m.receiveCount, reason });
    this.journal?.append({ op: 'dead-lettered', id: m.messageId });
    this.messages.delete(m.messageId);
  }

  private markReceived(m: Message, now: number): SQSRecord {
    // Not fsynced: a receive count lost to a power cut only costs one extra attempt.
    this.journal?.append({ op: 'receive', id: m.messageId, at: now });
    m.receiveCount += 1;
    m.firstReceiveAt ??= now;
    const receiptHandle = Buffer.from(`${this.name} ${m.messageId} ${randomUUID()}`).toString('base64url');
    m.inFlight = { receiptHandle, visibleAt: now + this.visibilityTimeoutMs };
    this.byReceiptHandle.set(receiptHandle, m);
    return {
      messageId: m.messageId,
      receiptHandle,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: 'AIDALOCALCONFLUO',
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
        ...(this.fifo ? { SequenceNumber: m.sequenceNumber, MessageGroupId: m.groupId, MessageDeduplicationId: m.deduplicationId } : {}),
        ...(m.deadLetter ? { DeadLetterQueueSourceArn: m.deadLetter.sourceArn } : {}),
      },
      messageAttributes: toMessageAttributes(m.attributes),
      md5OfBody: createHash('md5').update(m.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: LOCAL_REGION,
    };
  }

  /** Makes in-flight messages whose visibility timeout has passed visible again; returns how many. */
  private releaseExpired(now: number): number {
    let released = 0;
    for (const m of this.messages.values()) {
      if (m.inFlight && !m.inFlight.held && m.inFlight.visibleAt <= now) {
        this.byReceiptHandle.delete(m.inFlight.receiptHandle);
        delete m.inFlight;
        released++;
      }
    }
    return released;
  }

  /** One timer for the earliest visibility expiry, so consumers wake without polling. */
  private scheduleWake(): void {
    if (this.isClosed) return;
    let at = Infinity;
    for (const m of this.messages.values()) if (m.inFlight && !m.inFlight.held && m.inFlight.visibleAt < at) at = m.inFlight.visibleAt;
    if (this.wake && this.wake.at === at) return;
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = undefined;
    if (at === Infinity) return;
    const timer = setTimeout(() => {
      this.wake = undefined;
      if (this.releaseExpired(this.now()) > 0) this.notify();
      this.scheduleWake();
    }, Math.max(0, at - this.now()));
    this.wake = { timer, at };
  }

  /** Listeners run in a later microtask, never inside a queue method (a handler may call `send`). */
  private notify(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    queueMicrotask(() => {
      this.notifyScheduled = false;
      for (const listener of [...this.listeners]) listener();
    });
  }

  private pruneDedup(now: number): void {
    for (const [key, entry] of this.dedup) {
      if (now - entry.at < DEDUPLICATION_WINDOW_MS) break;
      this.dedup.delete(key);
    }
  }

  private takeSequenceNumber(): string {
    return String(this.nextSequence++).padStart(20, '0'); // SQS sequence numbers are long digit strings
  }

  private assertOpen(operation: string): void {
    if (this.isClosed) throw new LocalQueueError(`LocalQueue(${this.name}).${operation}: the queue is closed`);
  }

  private apply(record: JournalRecord): void {
    const m = 'id' in record ? this.messages.get(record.id) : undefined;
    switch (record.op) {
      case 'send':
        this.messages.set(record.m.messageId, { ...record.m });
        this.nextSequence = Math.max(this.nextSequence, Number(record.m.sequenceNumber) + 1);
        if (record.m.deduplicationId && !record.m.deadLetter) this.dedup.set(record.m.deduplicationId, { messageId: record.m.messageId, at: record.m.sentAt });
        break;
      case 'receive':
        // The message was received; whether it was in flight at the crash does not matter:
        // it is visible again now, with its receive count kept.
        if (m) { m.receiveCount += 1; m.firstReceiveAt ??= record.at; }
        break;
      case 'fail':
        if (m) m.lastFailure = record.reason;
        break;
      case 'delete':
      case 'dead-lettered':
        this.messages.delete(record.id);
        break;
      case 'purge':
        this.messages.clear();
        break;
      case 'dedup':
        this.dedup.set(record.key, { messageId: record.id, at: record.at });
        break;
      case 'seq':
        this.nextSequence = Math.max(this.nextSequence, record.next);
        break;
    }
  }

  /** Called once a change is applied in memory, so the rewrite includes it. */
  private compactIfDue(): void {
    if (this.journal?.needsCompaction) this.compact();
  }

  /** Rewrites the journal as the live state: sequence counter, deduplication history, messages. */
  private compact(): void {
    this.pruneDedup(this.now());
    const records: JournalRecord[] = [{ op: 'seq', next: this.nextSequence }];
    for (const [key, { messageId, at }] of this.dedup) {
      // A live message's own send record restores its entry; gone ones must keep theirs.
      if (!this.messages.has(messageId)) records.push({ op: 'dedup', key, id: messageId, at });
    }
    for (const message of this.messages.values()) {
      const { inFlight: _inFlight, ...stored } = message;
      records.push({ op: 'send', m: stored });
    }
    this.journal!.rewrite(records);
  }
}

/** Append-only JSON-lines file; compaction writes a temp file, fsyncs it and renames it over. */
class Journal {
  private fd: number | undefined;
  private linesSinceCompaction = 0;

  constructor(readonly path: string, private readonly compactAfterLines: number) {
    mkdirSync(dirname(path), { recursive: true });
  }

  read(): JournalRecord[] {
    if (!existsSync(this.path)) return [];
    const lines = readFileSync(this.path, 'utf8').split('\n');
    const records: JournalRecord[] = [];
    lines.forEach((line, index) => {
      if (line === '') return;
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch (error) {
        // A torn last line is a write cut short by a crash; `send` had not returned, so nothing
        // acknowledged is lost by skipping it. A bad line anywhere else is corruption.
        if (index === lines.length - 1) return;
        throw new LocalQueueError(`LocalQueue journal ${this.path}: line ${index + 1} is not JSON`, { cause: error });
      }
    });
    return records;
  }

  /**
   * Every append reaches the OS before returning, so it survives the process being killed;
   * `durable` also fsyncs, so it survives a power cut. Only sends (and purges) need that: a lost
   * delete or receive count means one more delivery, which at-least-once consumers tolerate.
   */
  append(record: JournalRecord, { durable = false } = {}): void {
    try {
      this.fd ??= openSync(this.path, 'a');
      writeFileSync(this.fd, `${JSON.stringify(record)}\n`);
      if (durable) fsyncSync(this.fd);
    } catch (error) {
      throw new LocalQueueError(`LocalQueue journal ${this.path}: cannot append the ${record.op} record`, { cause: error });
    }
    this.linesSinceCompaction++;
  }

  get needsCompaction(): boolean { return this.linesSinceCompaction >= this.compactAfterLines; }

  rewrite(records: readonly JournalRecord[]): void {
    const temp = `${this.path}.tmp`;
    const fd = openSync(temp, 'w');
    try {
      writeFileSync(fd, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.close();
    renameSync(temp, this.path);
    fsyncDirectory(dirname(this.path));
    this.linesSinceCompaction = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Makes a rename durable on POSIX; not possible (nor needed) on every platform. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a directory; NTFS journals the rename itself.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function toMessageAttributes(attributes: Record<string, string> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' };
  }
  return out;
}
