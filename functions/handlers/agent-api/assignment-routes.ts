/**
 * Agent API: agents and teams for automatic assignment (issue 15; README "Automatic assignment").
 * An agent sets their own presence; a supervisor sets capacities, skills and teams. Agent ids are
 * the Cognito `sub` of the agent's token (what `assignee` holds).
 */
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { DEFAULT_CAPACITY, PRESENCES } from '../../domain/assignment.js';
import { CHANNELS } from '../../domain/inbound.js';
import type { Db } from '../../store/db.js';
import { configureAgent, drainQueue, drainTeamsOf, getAgent, listAgents, listTeams, putTeam, queueDepth, setPresence, type AgentRecord, type TeamRecord } from '../../store/agents.js';
import { route, type RouteDef } from './router.js';

export interface AssignmentRouteDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** CONFLUO_AGENT_DEFAULT_CAPACITY. */
  readonly defaultCapacity?: number;
}

const isoTime = z.string().meta({ format: 'date-time' });
const Code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'expected 1-64 letters, digits, _ . : -');
const AgentId = z.string().min(1).max(100);
const Language = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'expected a language tag such as en, ru or pt-BR');

export const AgentOut = z.object({
  id: z.string().meta({ description: 'the agent\'s Cognito `sub` (what a ticket\'s `assignee` holds)' }),
  name: z.string().nullable(),
  presence: z.enum(PRESENCES),
  presence_since: isoTime.nullable(),
  capacity: z.number().int().meta({ description: 'most active tickets the agent takes automatically' }),
  load: z.number().int().meta({ description: 'active tickets assigned to the agent now' }),
  languages: z.array(z.string()),
  channels: z.array(z.string()),
  teams: z.array(z.string()),
}).meta({ id: 'Agent' });

export const AgentList = z.object({ items: z.array(AgentOut) }).meta({ id: 'AgentList' });

export const PresenceBody = z.strictObject({ presence: z.enum(PRESENCES) }).meta({ id: 'PresenceRequest' });

export const AgentSettingsBody = z.strictObject({
  capacity: z.number().int().min(0).max(1000).optional(),
  languages: z.array(Language).max(20).optional().meta({ description: 'languages the agent answers in; [] = any' }),
  channels: z.array(z.enum(CHANNELS)).max(20).optional().meta({ description: 'channels the agent works; [] = any' }),
}).refine((b) => Object.keys(b).length > 0, { message: 'give at least one of capacity, languages, channels' }).meta({ id: 'AgentSettings' });

export const TeamOut = z.object({
  code: z.string(),
  members: z.array(z.string()),
  auto_assign: z.boolean(),
  offline_return_minutes: z.number().int().nullable(),
  queued: z.number().int().meta({ description: 'tickets waiting for a free member' }),
}).meta({ id: 'Team' });

export const TeamList = z.object({ items: z.array(TeamOut) }).meta({ id: 'TeamList' });

export const TeamBody = z.strictObject({
  members: z.array(AgentId).max(500).optional(),
  auto_assign: z.boolean().optional().meta({ description: 'assign new and reopened unassigned tickets of the team automatically (default off)' }),
  offline_return_minutes: z.number().int().min(1).max(10_080).nullable().optional().meta({ description: 'minutes after which an offline member\'s unanswered new tickets go back to the queue; null = never' }),
}).meta({ id: 'TeamSettings' });

const AgentIdParam = z.strictObject({ id: AgentId });
const TeamParam = z.strictObject({ code: Code });

const iso = (ms: number) => new Date(ms).toISOString();

function agentView(a: AgentRecord, teams: readonly TeamRecord[]) {
  return {
    id: a.id, name: a.name ?? null, presence: a.presence, presence_since: a.presence_at ? iso(a.presence_at) : null,
    capacity: a.capacity, load: a.load, languages: [...(a.languages ?? [])], channels: [...(a.channels ?? [])],
    teams: teams.filter((t) => t.members.includes(a.id)).map((t) => t.code),
  };
}

export function assignmentRoutes(deps: AssignmentRouteDeps): RouteDef[] {
  const { db } = deps;
  const defaultCapacity = deps.defaultCapacity ?? DEFAULT_CAPACITY;
  const ulid = monotonicFactory();
  const writer = () => { const now = deps.clock.now(); return { now, newId: (at: number) => ulid(at), defaultCapacity }; };
  return [
    route({
      method: 'GET', path: '/agents', summary: 'Agents: presence, capacity, active load, skills and teams', role: 'agent',
      responses: { 200: AgentList },
      handle: async () => {
        const [agents, teams] = await Promise.all([listAgents(db), listTeams(db)]);
        return { status: 200, body: { items: agents.map((a) => agentView(a, teams)) } };
      },
    }),
    route({
      method: 'PUT', path: '/agents/me/presence', summary: 'Set your presence: `available` takes tickets automatically (teams with automatic assignment), `away` and `offline` do not', role: 'agent',
      body: PresenceBody, responses: { 200: AgentOut },
      handle: async ({ body, caller }) => {
        const agent = await setPresence(db, { agentId: caller.sub, presence: body.presence, ...(caller.name ? { name: caller.name } : {}), ...writer() });
        return { status: 200, body: agentView(agent, await listTeams(db)) };
      },
    }),
    route({
      method: 'PUT', path: '/agents/{id}', summary: 'Set an agent\'s capacity and skills (languages, channels)', role: 'supervisor',
      params: AgentIdParam, body: AgentSettingsBody, responses: { 200: AgentOut },
      handle: async ({ params, body }) => {
        const before = await getAgent(db, params.id);
        const agent = await configureAgent(db, { agentId: params.id, ...body, defaultCapacity, now: deps.clock.now() });
        // More capacity or other skills may let the agent take tickets that waited.
        if (agent.presence === 'available' && (!before || agent.capacity > before.capacity || body.languages || body.channels)) await drainTeamsOf(db, agent.id, writer());
        return { status: 200, body: agentView(agent, await listTeams(db)) };
      },
    }),
    route({
      method: 'GET', path: '/teams', summary: 'Teams: members, automatic assignment, offline return and queue length', role: 'agent',
      responses: { 200: TeamList },
      handle: async () => {
        const teams = await listTeams(db);
        const items = await Promise.all(teams.map(async (t) => ({ code: t.code, members: t.members, auto_assign: t.auto_assign, offline_return_minutes: t.offline_return_minutes, queued: await queueDepth(db, t.code) })));
        return { status: 200, body: { items } };
      },
    }),
    route({
      method: 'PUT', path: '/teams/{code}', summary: 'Create or change a team: members, automatic assignment (off by default), offline return minutes', role: 'supervisor',
      params: TeamParam, body: TeamBody, responses: { 200: TeamOut },
      handle: async ({ params, body }) => {
        // Turned on, the team's backlog joins its queue (putTeam); free members take it now.
        const team = await putTeam(db, { code: params.code, ...body, now: deps.clock.now() });
        if (team.auto_assign) await drainQueue(db, team.code, writer());
        return { status: 200, body: { code: team.code, members: team.members, auto_assign: team.auto_assign, offline_return_minutes: team.offline_return_minutes, queued: await queueDepth(db, team.code) } };
      },
    }),
  ];
}
