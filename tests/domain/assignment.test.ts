/**
 * Choosing an agent (functions/domain/assignment.ts): the available member with the fewest active
 * tickets under capacity who has the skills; ties round robin; nobody above capacity; loads
 * balanced whatever the order tickets arrive in.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chooseAgent, hasSkills, offlineReturnPlan, type AgentState, type TeamSettings } from '../../functions/domain/assignment.js';

const agent = (id: string, over: Partial<AgentState> = {}): AgentState => ({ id, presence: 'available', capacity: 10, load: 0, ...over });

describe('chooseAgent', () => {
  it('picks the available member with the fewest active tickets', () => {
    const got = chooseAgent([agent('a', { load: 3 }), agent('b', { load: 1 }), agent('c', { load: 0, presence: 'away' }), agent('d', { load: 0, presence: 'offline' })], { channel: 'telegram' });
    expect(got?.id).toBe('b');
  });

  it('never picks an agent at capacity, and answers null when nobody is free', () => {
    expect(chooseAgent([agent('a', { load: 2, capacity: 2 }), agent('b', { load: 5, capacity: 6 })], { channel: 'email' })?.id).toBe('b');
    expect(chooseAgent([agent('a', { load: 2, capacity: 2 }), agent('b', { presence: 'away' })], { channel: 'email' })).toBeNull();
  });

  it('breaks ties round robin: the one assigned least recently', () => {
    expect(chooseAgent([agent('a', { load: 1, last_assigned_at: 50 }), agent('b', { load: 1, last_assigned_at: 20 }), agent('c', { load: 1, last_assigned_at: 90 })], { channel: 'vk' })?.id).toBe('b');
  });

  it('needs the skills: channel listed, language by primary subtag; an agent without skills takes any', () => {
    const ru = agent('ru', { languages: ['ru'], channels: ['telegram'] });
    expect(hasSkills(ru, { channel: 'telegram', language: 'ru-RU' })).toBe(true);
    expect(hasSkills(ru, { channel: 'telegram', language: 'pl' })).toBe(false);
    expect(hasSkills(ru, { channel: 'email', language: 'ru' })).toBe(false);
    expect(hasSkills(ru, { channel: 'telegram', language: null })).toBe(true);
    expect(chooseAgent([ru, agent('any', { load: 4 })], { channel: 'telegram', language: 'pl' })?.id).toBe('any');
  });

  it('assigning tickets one by one never exceeds a capacity and keeps loads within one of each other', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ capacity: fc.integer({ min: 0, max: 12 }), load: fc.constant(0) }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 120 }),
      (specs, tickets) => {
        let agents = specs.map((s, i) => agent(`a${i}`, { capacity: s.capacity, load: 0 }));
        let assigned = 0;
        for (let n = 0; n < tickets; n++) {
          const a = chooseAgent(agents, { channel: 'telegram' });
          if (!a) break;
          assigned += 1;
          agents = agents.map((x) => (x.id === a.id ? { ...x, load: x.load + 1, last_assigned_at: n + 1 } : x));
        }
        const total = specs.reduce((s, x) => s + x.capacity, 0);
        expect(assigned).toBe(Math.min(tickets, total));
        for (const a of agents) expect(a.load).toBeLessThanOrEqual(a.capacity);
        // Balanced: an agent with room left never has two more than anyone.
        const open = agents.filter((a) => a.load < a.capacity);
        for (const a of agents) for (const b of open) expect(a.load - b.load).toBeLessThanOrEqual(1);
      },
    ));
  });

  it('round robin spreads equal loads over every member in turn', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), (n) => {
      let agents = Array.from({ length: n }, (_, i) => agent(`a${i}`));
      const order: string[] = [];
      for (let k = 0; k < n; k++) {
        const a = chooseAgent(agents, { channel: 'email' })!;
        order.push(a.id);
        agents = agents.map((x) => (x.id === a.id ? { ...x, load: x.load + 1, last_assigned_at: k + 1 } : x));
      }
      expect(new Set(order).size).toBe(n);
    }));
  });
});

describe('offlineReturnPlan', () => {
  const team = (code: string, minutes: number | null, over: Partial<TeamSettings> = {}): TeamSettings => ({ code, members: ['a'], auto_assign: true, offline_return_minutes: minutes, ...over });

  it('names the teams whose offline return is due and when the next one is', () => {
    const teams = [team('t5', 5), team('t30', 30), team('never', null), team('manual', 1, { auto_assign: false }), team('other', 1, { members: ['b'] })];
    expect(offlineReturnPlan(teams, 'a', 0, 4 * 60_000)).toEqual({ due: [], next: 5 * 60_000 });
    expect(offlineReturnPlan(teams, 'a', 0, 5 * 60_000)).toEqual({ due: ['t5'], next: 30 * 60_000 });
    expect(offlineReturnPlan(teams, 'a', 0, 31 * 60_000)).toEqual({ due: ['t5', 't30'], next: null });
  });
});
