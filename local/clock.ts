/**
 * The virtual clock of the local runtime: real time plus an offset that `POST /dev/clock`
 * advances. Persisted in the data directory, so a restart keeps the virtual "now".
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { Clock } from '../functions/domain/clock.js';

export class VirtualClock implements Clock {
  private offsetMs = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly file?: string, private readonly real: () => number = Date.now) {
    if (file) {
      try { this.offsetMs = Number(JSON.parse(readFileSync(file, 'utf8')).offset_ms) || 0; } catch { /* first start */ }
    }
  }

  now(): number { return this.real() + this.offsetMs; }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('VirtualClock.advance: the clock only moves forward');
    this.offsetMs += ms;
    if (this.file) {
      writeFileSync(`${this.file}.tmp`, JSON.stringify({ offset_ms: this.offsetMs }));
      renameSync(`${this.file}.tmp`, this.file);
    }
    for (const l of this.listeners) l();
  }

  /** Called after every advance (timers that follow the virtual clock re-arm). */
  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  view() { const now = this.now(); return { now: new Date(now).toISOString(), epoch_ms: now }; }
}
