import { describe, expect, it } from 'vitest';
import { formatTicketNumber, isActive, TICKET_STATUSES } from '../../functions/domain/ticket.js';

describe('ticket vocabulary (DESIGN.md §2)', () => {
  it('numbers tickets as the prefix and six digits, e.g. C-000123', () => {
    expect(formatTicketNumber('C', 123)).toBe('C-000123');
    expect(formatTicketNumber('HELP', 1234567)).toBe('HELP-1234567');
  });

  it('lets a new message join a ticket in new, open, pending_customer or on_hold only', () => {
    expect(TICKET_STATUSES.filter(isActive)).toEqual(['new', 'open', 'pending_customer', 'on_hold']);
  });
});
