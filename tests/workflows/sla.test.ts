/**
 * The SLA state machine SYNTHESISED from the CDK stack (lib/sla-workflow.ts → template →
 * DefinitionString → ASL), executed by the local engine (aws-local-stepfunctions, state by state,
 * on a virtual clock) with the real sla-evaluate handler against DynamoDB Local. Scenarios are
 * data (style-anchors §3 item 14): each opens a ticket, starts its execution as the dispatch
 * reaction would, moves the clock and checks the branch taken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfluoStack } from '../../lib/confluo-stack.js';
import { SLA_STATES } from '../../lib/sla-workflow.js';
import { VirtualClock } from '../../local/clock.js';
import { aslOf, localFunctionArn, localStateMachineArn, LocalWorkflows, type Definition, type LocalLambda, type LocalStateMachine } from '../../local/workflows.js';
import { initialSla, parseSlaSettings, type FullSla } from '../../functions/domain/sla/policy.js';
import { makeSlaEvaluate, waitTimestamp } from '../../functions/handlers/sla-evaluate.js';
import type { Db } from '../../functions/store/db.js';
import { ticketItem } from '../../functions/store/inbound.js';
import { getTicket } from '../../functions/store/reads.js';
import type { TicketRecord } from '../../functions/store/records.js';
import { putSlaSettings } from '../../functions/store/sla.js';
import { freshTable } from '../helpers/ddb.js';
import { testApp } from '../infra/helpers.js';

const M = 60_000;
const H = 60 * M;
const OFFICE = parseSlaSettings({
  calendars: [{ id: 'office', time_zone: 'Europe/Warsaw', week: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ['09:00-18:00']])) }],
  policies: [{ id: 'office', calendar: 'office', targets: { first_response_minutes: 60, next_response_minutes: 240, resolution_minutes: 1440 } }],
});

interface Scenario {
  readonly name: string;
  /** Fixed "real" time of the virtual clock (it only moves when advanced). */
  readonly start: string;
  readonly settings?: typeof OFFICE;
  /** The ticket as stored; `created` is minutes from `start`. */
  readonly ticket: (t0: number) => Partial<TicketRecord>;
  readonly sla?: (t0: number) => Partial<FullSla>;
  /** Generation the execution runs with (the ticket's is 1). */
  readonly generation?: number;
  /** First wait_until (minutes from start; 0 = now). */
  readonly firstWaitMinutes: number;
  /** Clock moves (by minutes, or to an instant) and what must hold after each. */
  readonly steps: ReadonlyArray<{ readonly advanceMinutes?: number; readonly to?: string; readonly expect: (r: Result) => void }>;
}

interface Result {
  readonly status: string;
  readonly state: string | null;
  readonly waitUntil: string | null;
  readonly ticket: TicketRecord;
  readonly emails: number;
  readonly transitions: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'breach → escalate: the first response is breached, escalated and the priority raised; the execution waits for the next step',
    start: '2026-06-08T10:00:00Z', ticket: () => ({}), firstWaitMinutes: 48,
    steps: [
      { advanceMinutes: 30, expect: (r) => { expect(r).toMatchObject({ status: 'RUNNING', state: SLA_STATES.wait, emails: 0 }); expect(r.ticket.sla?.escalation_level).toBe(0); } },
      { advanceMinutes: 31, expect: (r) => {
        expect(r).toMatchObject({ status: 'RUNNING', state: SLA_STATES.wait, waitUntil: '2026-06-08T11:30:00.000Z', emails: 1 });
        expect(r.ticket).toMatchObject({ priority: 'high', sla: { breached: ['first_response'], escalation_level: 2 } });
        expect(r.transitions).toBe(4); // wait, evaluate, decide, wait
      } },
      { advanceMinutes: 30, expect: (r) => { expect(r.ticket.sla?.escalation_level).toBe(3); expect(r.emails).toBe(2); } },
    ],
  },
  {
    name: 'answered in time → done: a ticket answered and resolved before the wake-up ends the execution',
    start: '2026-06-08T10:00:00Z', firstWaitMinutes: 48,
    ticket: (t0) => ({ status: 'resolved', first_response_at: t0 + 10 * M, last_outbound_at: t0 + 10 * M, resolved_at: t0 + 20 * M }),
    steps: [{ advanceMinutes: 49, expect: (r) => {
      expect(r).toMatchObject({ status: 'SUCCEEDED', emails: 0, transitions: 4 }); // wait, evaluate, decide, done
      expect(r.ticket.sla).toMatchObject({ breached: [], escalation_level: 0, wake_at: null });
    } }],
  },
  {
    name: 'after hours → next business day: Friday 17:55 in a Mon–Fri 09–18 Warsaw calendar is not due before Monday 09:55',
    start: '2026-06-05T15:55:00Z', settings: OFFICE, ticket: () => ({}), firstWaitMinutes: 0,
    steps: [
      { advanceMinutes: 0, expect: (r) => {
        expect(r).toMatchObject({ status: 'RUNNING', state: SLA_STATES.wait, waitUntil: '2026-06-08T07:43:00.000Z' }); // 80 % step, Monday 09:43 CEST
        expect(iso(r.ticket.sla!.first_response_due)).toBe('2026-06-08T07:55:00.000Z');
      } },
      { to: '2026-06-06T12:00:00Z', expect: (r) => { expect(r).toMatchObject({ transitions: 4 }); expect(r.ticket.sla?.escalation_level).toBe(0); } }, // Saturday: nothing ran
      { to: '2026-06-08T07:54:00Z', expect: (r) => { expect(r.ticket.sla).toMatchObject({ escalation_level: 1, breached: [] }); } }, // Monday 09:54: warned only
      { to: '2026-06-08T07:55:00Z', expect: (r) => { expect(r.ticket.sla).toMatchObject({ escalation_level: 2, breached: ['first_response'] }); } },
    ],
  },
  {
    name: 'stale generation → done: a re-targeted ticket ends the old execution without acting',
    start: '2026-06-08T10:00:00Z', ticket: () => ({}), generation: 1, sla: () => ({ generation: 2 }), firstWaitMinutes: 48,
    steps: [{ advanceMinutes: 120, expect: (r) => {
      expect(r).toMatchObject({ status: 'SUCCEEDED', emails: 0 });
      expect(r.ticket.sla).toMatchObject({ breached: [], escalation_level: 0, rev: 0 });
    } }],
  },
  {
    name: 'merged ticket → clock carried over: the surviving ticket breaches from the earliest start',
    start: '2026-06-08T10:30:00Z', firstWaitMinutes: 0,
    ticket: (t0) => ({ created_at: t0 }), sla: (t0) => ({ started_at: t0 - 30 * M, resolution_since: t0 - 30 * M, awaiting_since: t0 - 30 * M }),
    steps: [
      { advanceMinutes: 0, expect: (r) => { expect(r.waitUntil).toBe('2026-06-08T10:48:00.000Z'); } },
      { advanceMinutes: 31, expect: (r) => { expect(r.ticket.sla).toMatchObject({ breached: ['first_response'], escalation_level: 2 }); } },
    ],
  },
];

describe('SLA state machine (synthesised definition)', () => {
  let definition: Definition;
  let smArn: string;
  let fnArn: string;
  const dirs: string[] = [];

  beforeAll(() => {
    const stack = new ConfluoStack(testApp(), 'Confluo');
    const template = Template.fromStack(stack).toJSON();
    const smId = stack.getLogicalId(stack.slaWorkflow.stateMachine.node.defaultChild as never);
    const fnId = stack.getLogicalId(stack.slaWorkflow.evaluateFunction.node.defaultChild as never);
    definition = aslOf(template as never, smId);
    smArn = localStateMachineArn(smId);
    fnArn = localFunctionArn(fnId);
  });
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  const machine = (evaluate: LocalLambda): LocalStateMachine => ({ name: 'sla', arn: smArn, definition, lambdas: { [fnArn]: evaluate } });

  it('is the definition of lib/sla-workflow.ts: wait on $.wait_until, evaluate, decide', () => {
    expect(definition.StartAt).toBe(SLA_STATES.wait);
    expect(definition.States[SLA_STATES.wait]).toMatchObject({ Type: 'Wait', TimestampPath: '$.wait_until', Next: SLA_STATES.evaluate });
    expect(definition.States[SLA_STATES.evaluate]).toMatchObject({ Type: 'Task', Resource: fnArn, Next: SLA_STATES.decide });
    expect(Object.keys(definition.States).sort()).toEqual(Object.values(SLA_STATES).sort());
  });

  for (const sc of SCENARIOS) {
    it(sc.name, async () => {
      const { db } = await freshTable('wf');
      if (sc.settings) await putSlaSettings(db, sc.settings);
      const t0 = Date.parse(sc.start);
      const clock = new VirtualClock(undefined, () => t0);
      let emails = 0;
      const evaluate = makeSlaEvaluate({ db, clock, escalationEmail: 'lead@example.com', emailFrom: 'sla@example.com', sendEmail: async () => { emails += 1; } });
      const ticket = await seedTicket(db, t0, sc.ticket(t0), sc.sla?.(t0) ?? {});
      const engine = new LocalWorkflows({ clock, machines: [machine(evaluate)] });
      const generation = sc.generation ?? 1;
      const name = `${ticket.id}-${generation}`;
      await engine.startExecution('sla', name, { ticket_id: ticket.id, generation, wait_until: waitTimestamp(t0 + sc.firstWaitMinutes * M) });
      await engine.whenIdle();
      for (const step of sc.steps) {
        clock.advance(step.to !== undefined ? Date.parse(step.to) - clock.now() : step.advanceMinutes! * M);
        await engine.whenIdle();
        const rec = engine.get('sla', name)!;
        step.expect({ status: rec.status, state: rec.state, waitUntil: iso(rec.waitUntil), ticket: (await getTicket(db, ticket.id))!, emails, transitions: rec.transitions });
      }
      await engine.stop();
    });
  }

  it('fails on a decision the workflow does not know (the Choice default)', async () => {
    const clock = new VirtualClock(undefined, () => Date.parse('2026-06-08T10:00:00Z'));
    const engine = new LocalWorkflows({ clock, machines: [machine(async (p) => ({ ...(p as object), kind: 'maybe', wait_until: null }))] });
    await engine.startExecution('sla', 'T-1', { ticket_id: 'T', generation: 1, wait_until: waitTimestamp(clock.now()) });
    await engine.whenIdle();
    expect(engine.get('sla', 'T-1')).toMatchObject({ status: 'FAILED', error: { error: 'UnknownDecision' } });
    await engine.stop();
  });

  it('retries a failing evaluate (Retry on States.TaskFailed) and counts the retry as a transition', async () => {
    const clock = new VirtualClock(undefined, () => Date.parse('2026-06-08T10:00:00Z'));
    let calls = 0;
    const flaky: LocalLambda = async (p) => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      return { ...(p as object), kind: 'done', wait_until: null };
    };
    const engine = new LocalWorkflows({ clock, machines: [machine(flaky)], retryDelayMs: 1 });
    await engine.startExecution('sla', 'T-1', { ticket_id: 'T', generation: 1, wait_until: waitTimestamp(clock.now()) });
    await engine.whenIdle();
    expect(engine.get('sla', 'T-1')).toMatchObject({ status: 'SUCCEEDED', transitions: 5 });
    expect(calls).toBe(2);
    await engine.stop();
  });

  it('supplies $$.Execution.Name to the task, and is idempotent by execution name', async () => {
    const clock = new VirtualClock(undefined, () => Date.parse('2026-06-08T10:00:00Z'));
    const seen: unknown[] = [];
    const engine = new LocalWorkflows({ clock, machines: [machine(async (p) => { seen.push(p); return { ...(p as object), kind: 'done', wait_until: null }; })] });
    const input = { ticket_id: 'T', generation: 4, wait_until: waitTimestamp(clock.now() + H) };
    expect(await engine.startExecution('sla', 'T-4', input)).toMatchObject({ started: true });
    expect(await engine.startExecution('sla', 'T-4', input)).toMatchObject({ started: false });
    await expect(engine.startExecution('sla', 'T-4', { ...input, wait_until: waitTimestamp(clock.now()) })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(engine.dueCount()).toBe(0);
    clock.advance(H);
    await engine.whenIdle();
    expect(seen).toEqual([{ ticket_id: 'T', generation: 4, execution: 'T-4' }]);
    await engine.stop();
  });

  it('continues a waiting execution after a restart (persisted in the data directory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'confluo-wf-'));
    dirs.push(dir);
    const file = join(dir, 'workflows.json');
    const clock = new VirtualClock(undefined, () => Date.parse('2026-06-08T10:00:00Z'));
    let calls = 0;
    const done: LocalLambda = async (p) => { calls += 1; return { ...(p as object), kind: 'done', wait_until: null }; };
    const first = new LocalWorkflows({ clock, machines: [machine(done)], file });
    await first.startExecution('sla', 'T-1', { ticket_id: 'T', generation: 1, wait_until: waitTimestamp(clock.now() + H) });
    await first.whenIdle();
    await first.stop();
    const second = new LocalWorkflows({ clock, machines: [machine(done)], file });
    expect(second.get('sla', 'T-1')).toMatchObject({ status: 'RUNNING', state: SLA_STATES.wait });
    clock.advance(H);
    await second.whenIdle();
    expect(second.get('sla', 'T-1')).toMatchObject({ status: 'SUCCEEDED' });
    expect(calls).toBe(1);
    await second.stop();
  });
});

let seq = 0;
async function seedTicket(db: Db, t0: number, over: Partial<TicketRecord>, sla: Partial<FullSla>): Promise<TicketRecord> {
  seq += 1;
  const created = over.created_at ?? t0;
  const t: TicketRecord = {
    id: `01J0000000000000000000W${String(seq).padStart(3, '0')}`, number: `C-${String(seq).padStart(6, '0')}`, status: 'new', priority: 'normal',
    category: null, tags: [], customer_id: 'CUST', channel: 'telegram', conversation_id: 'c', assignee: null, team: null,
    sla: { ...initialSla('normal', created), generation: 1, ...sla }, survey: null, merged_into: null, previous_ticket_id: null,
    created_at: created, updated_at: created, last_inbound_at: created, last_outbound_at: null, first_response_at: null, resolved_at: null,
    closed_at: null, message_count: 1, ...over,
  };
  await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) }));
  return t;
}
