/** Where a new inbound message goes (functions/domain/threading.ts). */
import { describe, expect, it } from 'vitest';
import { decideThread } from '../../functions/domain/threading.js';

const DAY = 86_400_000;
const T = Date.UTC(2026, 9, 5);

describe('decideThread', () => {
  it('appends to an active ticket, reopens one resolved within the window, else opens a new one after it', () => {
    expect(decideThread(null, T, 7 * DAY)).toEqual({ action: 'open', previousTicketId: null });
    expect(decideThread({ id: 't1', status: 'pending_customer' }, T, 7 * DAY)).toEqual({ action: 'append', ticketId: 't1' });
    expect(decideThread({ id: 't1', status: 'resolved', resolved_at: T - DAY }, T, 7 * DAY)).toEqual({ action: 'reopen', ticketId: 't1' });
    expect(decideThread({ id: 't1', status: 'resolved', resolved_at: T - 8 * DAY }, T, 7 * DAY)).toEqual({ action: 'open', previousTicketId: 't1' });
    expect(decideThread({ id: 't1', status: 'closed' }, T, 7 * DAY)).toEqual({ action: 'open', previousTicketId: 't1' });
  });

  it('never reopens for a sender the platform does not vouch for: a new ticket instead; an active one is still joined', () => {
    expect(decideThread({ id: 't1', status: 'resolved', resolved_at: T - DAY }, T, 7 * DAY, { mayReopen: false })).toEqual({ action: 'open', previousTicketId: 't1' });
    expect(decideThread({ id: 't1', status: 'open' }, T, 7 * DAY, { mayReopen: false })).toEqual({ action: 'append', ticketId: 't1' });
  });
});
