/**
 * SLA workflow cost: state transitions per ticket through the real local runtime (the SLA state
 * machine synthesised from the CDK stack, on the virtual clock), and the Step Functions price per
 * 1,000 tickets at list price ($0.025 per 1,000 state transitions, standard workflows,
 * https://aws.amazon.com/step-functions/pricing/ — free tier ignored).
 *
 * A mix of tickets, all on the default 24x7 policy (1 h first response, 4 h next, 24 h resolution):
 * - half answered after 10 min and resolved after 2 h;
 * - a quarter left unanswered past the first-response deadline (escalated), answered at 70 min,
 *   resolved after 5 h;
 * - a quarter answered at 10 min, the customer writes again at 30 min, answered at 50 min,
 *   resolved after 3 h.
 * Resolution is written straight to the ticket (the triage API comes with the Agent API issue).
 *
 * `npx tsx bench/sla.ts` prints the figures; `slaBench()` returns them for bench/run.ts.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../local/runtime.js';
import { indexKeys, keys } from '../functions/store/table.js';

const PRICE_PER_TRANSITION = 0.025 / 1000;
const M = 60;
const SECRET = 'bench-telegram-secret';

export interface SlaBenchResult {
  readonly tickets: number;
  readonly executions: number;
  readonly transitions: number;
  readonly transitionsPerTicket: number;
  readonly evaluationsPerTicket: number;
  readonly costPer1000Tickets: number;
  readonly escalated: number;
}

export async function slaBench(tickets = Number(process.env.BENCH_SLA_TICKETS ?? 40)): Promise<SlaBenchResult> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.CONFLUO_LOG_LEVEL = 'SILENT'; // the shared logger reads it when first imported
  const { startRuntime } = await import('../local/runtime.js');
  const { apiClient } = await import('../tests/helpers/runtime.js');
  const rt: Runtime = await startRuntime({
    env: { TELEGRAM_SECRET_TOKEN: SECRET, CONFLUO_LOG_LEVEL: 'SILENT', CONFLUO_AUTO_ACK: 'off' },
    port: 0, inMemory: true, announce: false, visibilityTimeoutMs: 5000, log: () => {},
  });
  try {
    const api = apiClient(rt.url);
    const token = await api.token('bench', 'agent');
    const settle = () => api.post('/dev/settle', {});
    const advanceTo = async (seconds: number, from: { t: number }) => {
      await settle(); // what the agents just did is processed at the time they did it
      if (seconds > from.t) await api.post('/dev/clock', { advanceSeconds: seconds - from.t });
      from.t = Math.max(from.t, seconds);
      await settle();
    };
    const ids: string[] = [];
    for (let i = 0; i < tickets; i++) {
      const fromId = 8_800_000 + i;
      await api.webhook('telegram', { headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: update(3_000_000 + i, fromId, 'Where is my parcel?') });
    }
    await settle();
    for (let i = 0; i < tickets; i++) {
      const card = (await api.get(`/api/v1/customers?identity=telegram:${8_800_000 + i}`, token)).body.items[0];
      ids.push(card.tickets[0].id);
    }
    const group = (i: number) => (i % 4 < 2 ? 'A' : i % 4 === 2 ? 'B' : 'C');
    const reply = (i: number) => api.post(`/api/v1/tickets/${ids[i]}/replies`, { text: 'On it.' }, token);
    const resolve = async (i: number) => {
      const now = (await api.get('/dev/clock')).body.epoch_ms as number;
      await rt.db.doc.send(new UpdateCommand({
        TableName: rt.db.tableName, Key: keys.ticket(ids[i]!),
        UpdateExpression: 'SET #s = :r, resolved_at = :now, gsi2pk = :g', ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': 'resolved', ':now': now, ':g': indexKeys.byStatus('resolved', 0, ids[i]!).gsi2pk },
      }));
    };
    const clock = { t: 0 };
    const each = async (g: string, f: (i: number) => Promise<unknown>) => { for (let i = 0; i < tickets; i++) if (group(i) === g) await f(i); };

    await advanceTo(10 * M, clock);
    await each('A', reply);
    await each('C', reply);
    await advanceTo(30 * M, clock);
    await each('C', (i) => api.webhook('telegram', { headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: update(4_000_000 + i, 8_800_000 + i, 'Any news?') }));
    await advanceTo(50 * M, clock);
    await each('C', reply);
    await advanceTo(70 * M, clock);
    await each('B', reply);
    await advanceTo(120 * M, clock);
    await each('A', resolve);
    await advanceTo(180 * M, clock);
    await each('C', resolve);
    await advanceTo(300 * M, clock);
    await each('B', resolve);
    await advanceTo(48 * 60 * M, clock); // every execution wakes once more and ends

    const stats = rt.workflows.stats();
    const evaluations = rt.workflows.list('sla').reduce((n, r) => n + Math.floor((r.transitions - 1) / 3), 0);
    const outbox = (await api.get('/dev/outbox')).body.items as Array<{ kind: string; ticket_id: string }>;
    return {
      tickets, executions: stats.executions, transitions: stats.transitions,
      transitionsPerTicket: stats.transitions / tickets,
      evaluationsPerTicket: evaluations / tickets,
      costPer1000Tickets: (stats.transitions / tickets) * 1000 * PRICE_PER_TRANSITION,
      escalated: new Set(outbox.filter((o) => o.kind === 'escalation').map((o) => o.ticket_id)).size,
    };
  } finally {
    await rt.stop();
  }
}

export function printSlaBench(r: SlaBenchResult): void {
  const row = (label: string, value: string) => console.log(`  ${label.padEnd(48)} ${value}`);
  console.log(`\nConfluo SLA workflow (${r.tickets} tickets, synthesised state machine on the virtual clock)\n`);
  row('executions started', `${r.executions} (${(r.executions / r.tickets).toFixed(2)} per ticket)`);
  row('state transitions per ticket', r.transitionsPerTicket.toFixed(2));
  row('evaluate invocations per ticket', r.evaluationsPerTicket.toFixed(2));
  row('tickets escalated by e-mail', String(r.escalated));
  row('Step Functions per 1,000 tickets (list price)', `$${r.costPer1000Tickets.toFixed(4)} ($0.025 per 1,000 transitions)`);
  console.log('');
}

function update(updateId: number, fromId: number, text: string): string {
  return JSON.stringify({ update_id: updateId, message: { message_id: updateId, date: 1790000000, text, from: { id: fromId, is_bot: false, first_name: 'Bench' }, chat: { id: fromId, type: 'private' } } });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  printSlaBench(await slaBench());
}
