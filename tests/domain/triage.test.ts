import { describe, expect, it } from 'vitest';
import { awaiting, matchesInbox, planTicketChange, SAVED_VIEWS, slaRisk, type InboxTicket, type TriageTicket } from '../../functions/domain/triage.js';
import { canTransition, TICKET_STATUSES } from '../../functions/domain/ticket.js';

const T0 = 1_790_000_000_000;
const ticket = (over: Partial<TriageTicket> = {}): TriageTicket => ({
  id: '01J00000000000000000000000', status: 'open', priority: 'normal', assignee: null, team: null, category: null, tags: [], updated_at: T0, ...over,
});

describe('planning a ticket change', () => {
  // DESIGN.md §2 "Status transitions", written out: from → every status it may change to.
  // (new → open, pending_customer, on_hold, resolved; the three active ones among themselves and
  // → resolved; resolved → open (reopen) or closed; closed and merged final; nothing back to new.
  // held and deflected — a conversation offered an article — only the pipeline moves: no agent.)
  const ALLOWED: Readonly<Record<string, readonly string[]>> = {
    new: ['open', 'pending_customer', 'on_hold', 'resolved'],
    open: ['pending_customer', 'on_hold', 'resolved'],
    pending_customer: ['open', 'on_hold', 'resolved'],
    on_hold: ['open', 'pending_customer', 'resolved'],
    resolved: ['open', 'closed'],
    closed: [],
    merged: [],
    held: [],
    deflected: [],
  };

  it('allows exactly the transitions of a literal matrix, in the domain and in a planned change', () => {
    expect(Object.keys(ALLOWED).sort()).toEqual([...TICKET_STATUSES].sort());
    for (const from of TICKET_STATUSES) for (const to of TICKET_STATUSES) {
      const allowed = ALLOWED[from]!.includes(to);
      expect(canTransition(from, to), `${from} → ${to}`).toBe(allowed);
      if (from === to || from === 'merged') continue;
      const plan = planTicketChange(ticket({ status: from }), { status: to }, T0 + 1);
      if (allowed) expect(plan.kind, `${from} → ${to}`).toBe('change');
      else expect(plan, `${from} → ${to}`).toMatchObject({ kind: 'refused', code: 'illegal_transition' });
    }
    // the cases a one-word slip would open
    expect(canTransition('new', 'closed')).toBe(false);
    expect(canTransition('open', 'new')).toBe(false);
    expect(canTransition('closed', 'open')).toBe(false);
    expect(canTransition('resolved', 'pending_customer')).toBe(false);
    const refused = planTicketChange(ticket({ status: 'open' }), { status: 'new' }, T0);
    expect(refused).toMatchObject({ kind: 'refused', message: expect.stringContaining('allowed: pending_customer, on_hold, resolved') });
  });

  it('never sets merged, and refuses any change to a merged ticket', () => {
    expect(planTicketChange(ticket(), { status: 'merged' }, T0)).toMatchObject({ kind: 'refused', code: 'illegal_transition', message: expect.stringContaining('/merge') });
    expect(planTicketChange(ticket({ status: 'merged' }), { priority: 'high' }, T0)).toMatchObject({ kind: 'refused', code: 'conflict' });
  });

  it('describes a resolution with status_changed {from,to} and stamps resolved_at', () => {
    const plan = planTicketChange(ticket(), { status: 'resolved' }, T0 + 5);
    expect(plan).toMatchObject({ kind: 'change', changed: ['status'], stamps: { resolved_at: T0 + 5 }, events: [{ type: 'ticket.status_changed', data: { from: 'open', to: 'resolved' } }] });
  });

  it('reopens like a customer message does: resolved_at cleared, a ticket.reopened event for a new SLA cycle', () => {
    const plan = planTicketChange(ticket({ status: 'resolved' }), { status: 'open' }, T0);
    expect(plan).toMatchObject({ kind: 'change', stamps: { resolved_at: null, reopen: true } });
    if (plan.kind === 'change') expect(plan.events.map((e) => e.type)).toEqual(['ticket.status_changed', 'ticket.reopened']);
  });

  it('emits priority_changed, assigned and updated with the shapes the SLA engine reads', () => {
    const plan = planTicketChange(ticket(), { priority: 'urgent', assignee: 'ann', team: 'billing', category: 'refund', tags: ['vip', 'vip', ' late '] }, T0);
    expect(plan.kind).toBe('change');
    if (plan.kind !== 'change') return;
    expect(plan.changed).toEqual(['priority', 'assignee', 'team', 'category', 'tags']);
    expect(plan.set.tags).toEqual(['late', 'vip']);
    expect(plan.events).toEqual([
      { type: 'ticket.priority_changed', data: { from: 'normal', to: 'urgent' } },
      { type: 'ticket.assigned', data: { assignee: 'ann', team: 'billing', previous_assignee: null } },
      { type: 'ticket.updated', data: { changed: ['category', 'tags'], category: 'refund' } },
    ]);
  });

  it('treats an unassignment as an update, not an assignment (no OLA clock starts)', () => {
    const plan = planTicketChange(ticket({ assignee: 'ann' }), { assignee: null }, T0);
    expect(plan).toMatchObject({ kind: 'change', events: [{ type: 'ticket.updated', data: { changed: ['assignee'], assignee: null } }] });
  });

  it('is no change when every field already has the value asked for', () => {
    expect(planTicketChange(ticket({ tags: ['b', 'a'], priority: 'high' }), { tags: ['a', 'b'], priority: 'high', assignee: null }, T0)).toEqual({ kind: 'unchanged' });
  });

  it('takes only category and tag corrections on a closed ticket', () => {
    expect(planTicketChange(ticket({ status: 'closed' }), { category: 'refund' }, T0).kind).toBe('change');
    expect(planTicketChange(ticket({ status: 'closed' }), { priority: 'high' }, T0)).toMatchObject({ kind: 'refused', code: 'illegal_transition' });
  });

  it('stamps a change strictly after the ticket\'s last change, never backwards', () => {
    expect(planTicketChange(ticket({ updated_at: T0 + 1000 }), { priority: 'low' }, T0)).toMatchObject({ updated_at: T0 + 1001 });
    expect(planTicketChange(ticket({ updated_at: T0 }), { priority: 'low' }, T0)).toMatchObject({ updated_at: T0 + 1 });
    expect(planTicketChange(ticket({ updated_at: T0 }), { priority: 'low' }, T0 + 5)).toMatchObject({ updated_at: T0 + 5 });
  });
});

describe('planning a ticket change, field by field (DESIGN.md §2–§3, the event table of functions/domain/triage.ts)', () => {
  const change = (t: TriageTicket, patch: Parameters<typeof planTicketChange>[1], now = T0) => {
    const plan = planTicketChange(t, patch, now);
    if (plan.kind !== 'change') throw new Error(`expected a change, got ${JSON.stringify(plan)}`);
    return plan;
  };

  it('refuses any change to a merged ticket as a conflict that points to the ticket it went into', () => {
    expect(planTicketChange(ticket({ status: 'merged' }), { tags: ['x'] }, T0)).toEqual({ kind: 'refused', code: 'conflict', message: expect.stringContaining('merged into another') });
  });

  it('stores tags trimmed, without blanks or duplicates, sorted', () => {
    expect(change(ticket(), { tags: [' vip ', '', '   ', 'late', 'vip'] }).set).toEqual({ tags: ['late', 'vip'] });
  });

  it('compares with the stored values: equal team, category or tags are no change', () => {
    expect(planTicketChange(ticket({ team: 'billing', category: 'refund', tags: ['vip'] }), { team: 'billing', category: 'refund', tags: ['vip'] }, T0)).toEqual({ kind: 'unchanged' });
  });

  it('reads a stored ticket without tags, team or category (attributes left out) as empty', () => {
    const stored = { ...ticket(), tags: undefined, team: undefined, category: undefined } as unknown as TriageTicket;
    expect(planTicketChange(stored, { tags: [], team: null, category: null }, T0)).toEqual({ kind: 'unchanged' });
    // the optimistic condition expects what is stored: no tags
    expect(change(stored, { tags: ['vip'] }).expected).toEqual({ tags: [] });
  });

  it('expects the stored values, as stored, for its optimistic condition', () => {
    const plan = change(ticket({ tags: ['b', 'a'], priority: 'normal', assignee: 'ann' }), { tags: ['c'], priority: 'high', assignee: 'bob' });
    expect(plan.expected).toEqual({ priority: 'normal', assignee: 'ann', tags: ['b', 'a'] });
    expect(plan.set).toEqual({ priority: 'high', assignee: 'bob', tags: ['c'] });
    expect(plan.changed).toEqual(['priority', 'assignee', 'tags']);
  });

  it('takes category or tag corrections on a closed ticket, alone or together, and refuses anything else with them', () => {
    expect(change(ticket({ status: 'closed' }), { tags: ['late'] }).changed).toEqual(['tags']);
    expect(change(ticket({ status: 'closed' }), { category: 'refund', tags: ['late'] }).changed).toEqual(['category', 'tags']);
    expect(planTicketChange(ticket({ status: 'closed' }), { category: 'refund', priority: 'high' }, T0))
      .toEqual({ kind: 'refused', code: 'illegal_transition', message: 'a closed ticket only takes category and tag corrections' });
  });

  it('says which statuses a refused transition could have gone to, or that the status is final', () => {
    expect(planTicketChange(ticket({ status: 'resolved' }), { status: 'pending_customer' }, T0))
      .toEqual({ kind: 'refused', code: 'illegal_transition', message: 'status resolved cannot change to pending_customer (allowed: open, closed)' });
    expect(planTicketChange(ticket({ status: 'new' }), { status: 'closed' }, T0))
      .toMatchObject({ message: 'status new cannot change to closed (allowed: open, pending_customer, on_hold, resolved)' });
    expect(planTicketChange(ticket({ status: 'closed' }), { status: 'open' }, T0))
      .toEqual({ kind: 'refused', code: 'illegal_transition', message: 'status closed cannot change to open (closed is final)' });
  });

  it('stamps resolved_at on a resolution, closed_at on a close, and nothing on other status changes', () => {
    expect(change(ticket(), { status: 'resolved' }, T0 + 5).stamps).toEqual({ resolved_at: T0 + 5 });
    expect(change(ticket({ status: 'resolved' }), { status: 'closed' }, T0 + 5).stamps).toEqual({ closed_at: T0 + 5 });
    const hold = change(ticket(), { status: 'on_hold' }, T0 + 5);
    expect(hold.stamps).toEqual({});
    expect(hold.events).toEqual([{ type: 'ticket.status_changed', data: { from: 'open', to: 'on_hold' } }]);
    // only resolved → open is a reopen; on_hold → open is not
    const back = change(ticket({ status: 'on_hold' }), { status: 'open' });
    expect(back.stamps).toEqual({});
    expect(back.events).toEqual([{ type: 'ticket.status_changed', data: { from: 'on_hold', to: 'open' } }]);
  });

  it('describes an agent\'s reopen as status_changed then reopened {reason: agent}', () => {
    expect(change(ticket({ status: 'resolved' }), { status: 'open' }).events).toEqual([
      { type: 'ticket.status_changed', data: { from: 'resolved', to: 'open' } },
      { type: 'ticket.reopened', data: { reason: 'agent' } },
    ]);
  });

  it('assigns to a team alone (no previous assignee named), to an agent within the stored team, and reassigns naming the previous agent', () => {
    expect(change(ticket(), { team: 'billing' }).events).toEqual([{ type: 'ticket.assigned', data: { assignee: null, team: 'billing' } }]);
    expect(change(ticket({ team: 'billing' }), { assignee: 'ann' }).events).toEqual([{ type: 'ticket.assigned', data: { assignee: 'ann', team: 'billing', previous_assignee: null } }]);
    expect(change(ticket({ assignee: 'ann', team: 'billing' }), { assignee: 'bob' }).events).toEqual([{ type: 'ticket.assigned', data: { assignee: 'bob', team: 'billing', previous_assignee: 'ann' } }]);
  });

  it('treats removing the team, or the agent and the team, as an update naming what was cleared', () => {
    expect(change(ticket({ team: 'billing' }), { team: null }).events).toEqual([{ type: 'ticket.updated', data: { changed: ['team'], team: null } }]);
    expect(change(ticket({ assignee: 'ann', team: 'billing' }), { assignee: null, team: null }).events)
      .toEqual([{ type: 'ticket.updated', data: { changed: ['assignee', 'team'], assignee: null, team: null } }]);
    // an assignment with a cleared team is an assignment; the cleared team is in its data
    expect(change(ticket({ team: 'billing' }), { assignee: 'ann', team: null }).events)
      .toEqual([{ type: 'ticket.assigned', data: { assignee: 'ann', team: null, previous_assignee: null } }]);
    // tags only: no category in the data
    expect(change(ticket(), { tags: ['vip'] }).events).toEqual([{ type: 'ticket.updated', data: { changed: ['tags'] } }]);
  });
});

const inbox = (over: Partial<InboxTicket> = {}): InboxTicket => ({
  status: 'open', priority: 'normal', channel: 'telegram', assignee: null, last_inbound_at: T0, last_outbound_at: null, first_response_at: null, sla: null, ...over,
});

describe('inbox filters', () => {
  it('knows whose turn it is', () => {
    expect(awaiting(inbox())).toBe('agent');
    expect(awaiting(inbox({ last_outbound_at: T0 + 1 }))).toBe('customer');
    expect(awaiting(inbox({ status: 'pending_customer' }))).toBe('customer');
    expect(awaiting(inbox({ status: 'resolved' }))).toBeNull();
    expect(awaiting(inbox({ last_inbound_at: T0 + 5, last_outbound_at: T0 + 1 }))).toBe('agent');
  });

  it('calls a ticket at risk when a running clock passed its first escalation step, breached when any clock breached', () => {
    expect(slaRisk(inbox({ sla: { breached: [], marks: {} } }))).toBe('ok');
    expect(slaRisk(inbox({ sla: { breached: [], marks: { first_response: { level: 1, breached: false } } } }))).toBe('at_risk');
    expect(slaRisk(inbox({ sla: { breached: ['first_response'], marks: { first_response: { level: 2, breached: true } } } }))).toBe('breached');
    // answered since: the first-response mark no longer counts
    expect(slaRisk(inbox({ first_response_at: T0, sla: { breached: [], awaiting_since: null, marks: { first_response: { level: 1, breached: false } } } }))).toBe('ok');
    expect(slaRisk(inbox({ first_response_at: T0, sla: { breached: [], awaiting_since: T0 + 9, marks: { [`next_response@${T0 + 9}`]: { level: 1, breached: false } } } }))).toBe('at_risk');
    // stored records leave null fields out
    const { first_response_at: _f, ...stored } = inbox({ sla: { breached: [], marks: { first_response: { level: 1, breached: false } } } });
    expect(slaRisk(stored as InboxTicket)).toBe('at_risk');
    expect(slaRisk(inbox({ status: 'resolved', sla: { breached: [], marks: { first_response: { level: 1, breached: false } } } }))).toBe('ok');
  });

  it('combines filters; without status it hides merged tickets; q searches subject and customer name', () => {
    expect(matchesInbox(inbox({ status: 'merged' }), {})).toBe(false);
    expect(matchesInbox(inbox({ status: 'merged' }), { status: ['merged'] })).toBe(true);
    expect(matchesInbox(inbox({ assignee: 'ann' }), { assignee: 'ann', channel: ['telegram', 'email'], priority: ['normal'] })).toBe(true);
    expect(matchesInbox(inbox(), { assignee: null, awaiting: 'customer' })).toBe(false);
    expect(matchesInbox(inbox({ subject: 'Refund for order 42' }), { q: 'REFUND' })).toBe(true);
    expect(matchesInbox(inbox(), { q: 'kowal' }, 'Anna Kowalska')).toBe(true);
    expect(matchesInbox(inbox(), { q: 'kowal' }, null)).toBe(false);
    expect(matchesInbox(inbox({ customer_id: 'C1' }), { customer: 'C1' })).toBe(true);
    expect(matchesInbox(inbox({ customer_id: 'C1' }), { customer: 'C2' })).toBe(false);
  });

  it('defines the saved views over active tickets', () => {
    expect(matchesInbox(inbox({ assignee: 'ann' }), SAVED_VIEWS.mine('ann'))).toBe(true);
    expect(matchesInbox(inbox({ assignee: 'ann', status: 'resolved' }), SAVED_VIEWS.mine('ann'))).toBe(false);
    expect(matchesInbox(inbox(), SAVED_VIEWS.unassigned())).toBe(true);
    expect(matchesInbox(inbox({ last_outbound_at: T0 + 1 }), SAVED_VIEWS.awaiting_reply())).toBe(false);
  });
});
