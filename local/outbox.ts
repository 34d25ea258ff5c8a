/**
 * The local outbox: every platform request, SES e-mail and SNS confirmation that would have been
 * made, in send order (DESIGN.md §4). Appended durably to a JSON-lines file when data persists.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { PlatformRequest } from '../functions/channels/channel.js';

export interface OutboxItem {
  readonly channel: string;
  readonly kind: string;
  readonly request: PlatformRequest;
  readonly ticket_id: string | null;
  readonly at: string;
  /** Set when `POST /dev/simulator` armed the answer: the status the platform gave, or that it never answered. */
  readonly simulated?: { readonly status: number } | { readonly timeout: true };
}

export class Outbox {
  private items: OutboxItem[] = [];

  constructor(private readonly file?: string) {
    if (file && existsSync(file)) {
      this.items = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as OutboxItem);
    }
  }

  record(item: OutboxItem): void {
    this.items.push(item);
    if (this.file) appendFileSync(this.file, JSON.stringify(item) + '\n');
  }

  list(): readonly OutboxItem[] { return this.items; }

  clear(): void {
    this.items = [];
    if (this.file) writeFileSync(this.file, '');
  }
}
