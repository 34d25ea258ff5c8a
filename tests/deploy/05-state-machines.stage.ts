/**
 * Stage 5 — every state machine of the template (`AWS::StepFunctions::StateMachine`), its
 * definition resolved against the emulated deployment exactly as moto holds it, validated as ASL
 * by aws-local-stepfunctions and run end to end: Task states invoke the BUNDLED task handler in its
 * Lambda-like host (with the template's environment, secrets from SSM in moto) against DynamoDB
 * Local; Wait states are overridden to 0. Each machine gets a ticket that exists in the table and
 * must reach the expected choice or end.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { initialSla } from '../../functions/domain/sla/policy.js';
import { DEFAULT_SURVEY_SETTINGS, scheduleSurvey } from '../../functions/domain/survey.js';
import type { Db } from '../../functions/store/db.js';
import { ticketItem } from '../../functions/store/inbound.js';
import { listTimeline } from '../../functions/store/reads.js';
import { getAgent, putTeam, reconcileHold, setPresence } from '../../functions/store/agents.js';
import { loadTickets } from '../../functions/store/identity.js';
import type { TicketRecord } from '../../functions/store/records.js';
import { validateDefinition, type Definition } from '../../local/workflows.js';
import { startDeployment, type Deployment } from './harness/deployment.js';
import { runDefinition, type AslRun } from './support/asl-run.js';
import { synthesize, SYNTH_CONTEXT } from './support/assembly.js';

const H = 3_600_000;
const D = 24 * H;
let seq = 0;

function ticket(over: Partial<TicketRecord>): TicketRecord {
  seq += 1;
  const id = `01JDEPLOY${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`;
  const created = over.created_at ?? Date.now();
  return {
    id, number: `C-${String(900000 + seq)}`, status: 'new', priority: 'normal', category: null, tags: [], customer_id: `CUSTDEPLOY${seq}`,
    channel: 'telegram', conversation_id: '48120077', assignee: null, team: null, sla: { ...initialSla('normal', created), generation: 1 } as TicketRecord['sla'],
    survey: null, merged_into: null, previous_ticket_id: null, created_at: created, updated_at: created, last_inbound_at: created, last_outbound_at: null,
    first_response_at: null, resolved_at: null, closed_at: null, message_count: 1, ...over,
  };
}

describe('stage 5: state machines run with the bundled task handlers', () => {
  let d: Deployment;
  let db: Db;
  const machines: Array<{ id: string; definition: Definition; taskHandler: string }> = [];
  const put = async (t: TicketRecord) => { await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) })); return t; };
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

  beforeAll(async () => {
    const workDir = inject('deployWorkDir');
    d = await startDeployment({ workDir, assembly: await synthesize(workDir), emulators: inject('deployEmulators') });
    db = d.db();
    for (const [id, r] of d.assembly.resourcesOf('AWS::StepFunctions::StateMachine')) {
      const definition = JSON.parse(d.phys.resolveString(r.Properties?.DefinitionString)) as Definition;
      const resources = Object.values(definition.States).filter((s) => s.Type === 'Task').map((s) => String(s.Resource));
      const fns = d.assembly.functions().filter((f) => resources.includes(d.phys.getAtt(f.logicalId, 'Arn')));
      machines.push({ id, definition, taskHandler: fns.map((f) => f.handlerName).join('+') });
    }
  });
  afterAll(async () => { await d?.stop(); });

  const run = (m: { definition: Definition }, input: Record<string, unknown>, stopWhenReentering?: string): Promise<AslRun> => runDefinition(m.definition, input as never, {
    executionName: `${String(input.ticket_id ?? input.agent_id)}-${randomUUID().slice(0, 8)}`,
    ...(stopWhenReentering ? { stopWhenReentering } : {}),
    task: (_state, resource) => {
      const fn = d.assembly.functions().find((f) => d.phys.getAtt(f.logicalId, 'Arn') === resource);
      if (!fn) throw new Error(`Task resource ${resource} names no function of the template`);
      return (payload) => d.hostOf(fn.logicalId).invoke(payload);
    },
  });

  /** What each task handler's machine must do (a machine whose task has no scenario fails). */
  const scenarios: Record<string, (m: { definition: Definition }) => Promise<void>> = {
    'sla-evaluate': async (m) => {
      // Unanswered for 30 days: every clock breached, escalated, nothing left to wait for.
      const old = await put(ticket({ created_at: Date.now() - 30 * D }));
      const breached = await run(m, { ticket_id: old.id, generation: 1, wait_until: iso(Date.now()) });
      expect(breached, d.logs()).toMatchObject({ status: 'SUCCEEDED', path: ['WaitUntilDue', 'Evaluate', 'Decide', 'Done'] });
      expect(breached.taskOutputs[0]).toMatchObject({ ticket_id: old.id, kind: 'done' });
      const events = (await listTimeline(db, old.id)).filter((e) => e.type === 'event').map((e) => (e as { event: string }).event);
      expect(events).toEqual(expect.arrayContaining(['sla.escalated', 'sla.breached']));
      // The escalation e-mail went out through SES (moto keeps what was sent).
      const sent = await d.sentMail();
      expect(sent.filter((m) => m.destinations.includes(SYNTH_CONTEXT.escalationEmail!) && m.raw_data.includes(old.number))).not.toHaveLength(0);

      // Opened now: nothing due yet, the machine goes back to wait until the first threshold.
      const fresh = await put(ticket({}));
      const waiting = await run(m, { ticket_id: fresh.id, generation: 1, wait_until: iso(Date.now()) }, 'WaitUntilDue');
      expect(waiting).toMatchObject({ status: 'STOPPED', path: ['WaitUntilDue', 'Evaluate', 'Decide', 'WaitUntilDue'] });
      expect(waiting.taskOutputs[0]).toMatchObject({ ticket_id: fresh.id, kind: 'wait-until' });
      expect(Date.parse(String((waiting.taskOutputs[0] as { wait_until: string }).wait_until))).toBeGreaterThan(Date.now());
    },
    'survey-step': async (m) => {
      // Asked 80 h ago and never answered: the survey expires and the machine ends.
      const resolvedAt = Date.now() - 82 * H;
      const sent = { ...scheduleSurvey(null, resolvedAt, DEFAULT_SURVEY_SETTINGS), state: 'sent', sent_at: resolvedAt + H, expires_at: resolvedAt + 73 * H };
      const expired = await put(ticket({ status: 'resolved', resolved_at: resolvedAt, created_at: resolvedAt - H, survey: sent as unknown as Record<string, unknown> }));
      const ended = await run(m, { ticket_id: expired.id, round: 1, wait_until: iso(Date.now()) });
      expect(ended, d.logs()).toMatchObject({ status: 'SUCCEEDED', path: ['WaitUntilDue', 'Step', 'Decide', 'Done'] });
      expect(ended.taskOutputs[0]).toMatchObject({ ticket_id: expired.id, kind: 'done', did: 'expired' });

      // Resolved 2 h ago, survey due 1 h after resolution: the question is queued, then the machine waits for the reminder.
      const recent = Date.now() - 2 * H;
      const due = await put(ticket({ status: 'resolved', resolved_at: recent, created_at: recent - H, survey: scheduleSurvey(null, recent, DEFAULT_SURVEY_SETTINGS) as unknown as Record<string, unknown> }));
      const asked = await run(m, { ticket_id: due.id, round: 1, wait_until: iso(Date.now()) }, 'WaitUntilDue');
      expect(asked).toMatchObject({ status: 'STOPPED', path: ['WaitUntilDue', 'Step', 'Decide', 'WaitUntilDue'] });
      expect(asked.taskOutputs[0]).toMatchObject({ ticket_id: due.id, kind: 'wait-until', did: 'asked' });
      const out = (await listTimeline(db, due.id)).filter((e) => e.type === 'message' && e.direction === 'out');
      expect(out).toEqual([expect.objectContaining({ outbound_kind: 'survey', delivery: 'queued' })]);
    },
    'assignment-offline': async (m) => {
      // Offline for 2 minutes in a team whose offline return is 1 minute: the unanswered new ticket goes back to the queue.
      const since = Date.now() - 2 * 60_000;
      const agent = `deploy-agent-${randomUUID().slice(0, 8)}`;
      await putTeam(db, { code: `deploy-${agent}`, members: [agent], auto_assign: true, offline_return_minutes: 1, now: since });
      await setPresence(db, { agentId: agent, presence: 'offline', defaultCapacity: 10, now: since, newId: () => randomUUID() });
      const held = await put(ticket({ assignee: agent, team: `deploy-${agent}` }));
      await reconcileHold(db, held.id, 10);
      expect((await getAgent(db, agent))!.load).toBe(1);
      const since2 = (await getAgent(db, agent))!.presence_at;
      const returned = await run(m, { agent_id: agent, since: since2, wait_until: iso(Date.now()) });
      expect(returned, d.logs()).toMatchObject({ status: 'SUCCEEDED', path: ['WaitUntilDue', 'ReturnTickets', 'Decide', 'Done'] });
      expect(returned.taskOutputs[0]).toMatchObject({ agent_id: agent, kind: 'done', returned: 1 });
      expect((await loadTickets(db, [held.id])).get(held.id)!.assignee ?? null).toBeNull();
      expect((await getAgent(db, agent))!.load).toBe(0);
    },
  };

  it('validates every state machine definition as ASL and runs it to the expected choice or end with its bundled task handler', async () => {
    expect(machines.length).toBeGreaterThan(0);
    const ran: string[] = [];
    for (const m of machines) {
      await validateDefinition(m.definition);
      const scenario = scenarios[m.taskHandler];
      expect(scenario, `state machine ${m.id} (task ${m.taskHandler}) has no scenario in this stage`).toBeDefined();
      await scenario!(m);
      ran.push(`${m.id} (task: ${m.taskHandler})`);
    }
    console.log(`state machines run:\n${ran.map((r) => `  ${r}`).join('\n')}`);
  });
});
