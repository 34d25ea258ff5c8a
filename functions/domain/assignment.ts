/**
 * Automatic assignment (issue 15), pure: who may take a ticket, who takes it, and when an offline
 * agent's tickets go back to the team's queue. The store (functions/store/agents.ts) commits the
 * choice as ONE conditional transaction — the ticket still unassigned, the agent still available
 * with exactly the load it was chosen at — so a lost race re-reads and chooses again.
 *
 * Choice: among the team's members who are `available`, below capacity and have the skills the
 * ticket needs (a member without listed languages or channels takes any), the one with the fewest
 * active tickets; ties go to the one assigned least recently (round robin), then by id.
 */

export const PRESENCES = ['available', 'away', 'offline'] as const;
export type Presence = (typeof PRESENCES)[number];

/** The capacity of an agent no supervisor has set one for (CONFLUO_AGENT_DEFAULT_CAPACITY). */
export const DEFAULT_CAPACITY = 10;

/** What assignment reads of an agent. */
export interface AgentState {
  readonly id: string;
  readonly presence: Presence;
  /** Most active tickets the agent takes automatically. */
  readonly capacity: number;
  /** Active tickets the agent holds now (auto or by hand). */
  readonly load: number;
  /** Languages (BCP 47 primary subtags, lower case) the agent answers in; empty = any. */
  readonly languages?: readonly string[];
  /** Channels the agent works; empty = any. */
  readonly channels?: readonly string[];
  /** When the agent last received a ticket automatically (round robin among equals); 0 = never. */
  readonly last_assigned_at?: number;
}

/** What a ticket asks of its agent. */
export interface TicketNeeds {
  readonly channel: string;
  /** The customer's language on the ticket's channel, when known. */
  readonly language?: string | null;
}

/** A team's assignment settings (`PUT /api/v1/teams/{code}`). */
export interface TeamSettings {
  readonly code: string;
  readonly members: readonly string[];
  /** Off by default: tickets of the team wait for an agent to take them by hand. */
  readonly auto_assign: boolean;
  /** Minutes after which an offline member's unanswered `new` tickets go back to the queue; null = never. */
  readonly offline_return_minutes: number | null;
}

const primary = (lang: string) => lang.toLowerCase().split(/[-_]/)[0]!;

/** Whether `agent` has the skills `needs` asks for (an unknown language asks for none). */
export function hasSkills(agent: Pick<AgentState, 'languages' | 'channels'>, needs: TicketNeeds): boolean {
  const channels = agent.channels ?? [];
  if (channels.length > 0 && !channels.includes(needs.channel)) return false;
  const languages = agent.languages ?? [];
  if (languages.length > 0 && needs.language) return languages.map(primary).includes(primary(needs.language));
  return true;
}

/** Whether `agent` may take one more ticket automatically. */
export function canTake(agent: AgentState): boolean {
  return agent.presence === 'available' && agent.load < agent.capacity;
}

/** The agent who takes a ticket needing `needs`, or null when nobody is free (it waits in the queue). */
export function chooseAgent(agents: readonly AgentState[], needs: TicketNeeds): AgentState | null {
  let best: AgentState | null = null;
  for (const a of agents) {
    if (!canTake(a) || !hasSkills(a, needs)) continue;
    if (best === null || before(a, best)) best = a;
  }
  return best;
}

function before(a: AgentState, b: AgentState): boolean {
  if (a.load !== b.load) return a.load < b.load;
  const la = a.last_assigned_at ?? 0;
  const lb = b.last_assigned_at ?? 0;
  if (la !== lb) return la < lb;
  return a.id < b.id;
}

/**
 * When an agent who went offline at `offlineSince` loses their unanswered tickets of each team
 * (teams with automatic assignment and an offline return only), and when to look again.
 */
export function offlineReturnPlan(teams: readonly TeamSettings[], agentId: string, offlineSince: number, now: number): { readonly due: string[]; readonly next: number | null } {
  const due: string[] = [];
  let next: number | null = null;
  for (const t of teams) {
    if (!t.auto_assign || t.offline_return_minutes === null || !t.members.includes(agentId)) continue;
    const at = offlineSince + t.offline_return_minutes * 60_000;
    if (at <= now) due.push(t.code);
    else next = next === null ? at : Math.min(next, at);
  }
  return { due, next };
}
