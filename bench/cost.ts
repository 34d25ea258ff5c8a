/**
 * List-price cost per 1,000,000 inbound messages with one agent reply each (README "Scale"), from
 * what the other sections measured: DynamoDB capacity units per message and per reply
 * (`ReturnConsumedCapacity: INDEXES`, bench/capacity.ts), Lambda invocations and time per function
 * (local runtime, bench/pipeline.ts), Step Functions transitions per ticket (bench/sla.ts).
 *
 * Prices: AWS list prices, us-east-1, as published on the pricing pages on 2026-12-07 (free tiers
 * ignored):
 * - API Gateway HTTP API: $1.00 per million requests (first 300 M) — https://aws.amazon.com/api-gateway/pricing/
 * - Lambda arm64: $0.0000133334 per GB-second, $0.20 per million requests — https://aws.amazon.com/lambda/pricing/
 * - SQS FIFO: $0.50 per million requests (each 64 KB chunk) — https://aws.amazon.com/sqs/pricing/
 * - DynamoDB on-demand: $0.625 per million write request units, $0.125 per million read request
 *   units; reading the stream from Lambda is free — https://aws.amazon.com/dynamodb/pricing/on-demand/
 * - Step Functions standard: $0.025 per 1,000 state transitions — https://aws.amazon.com/step-functions/pricing/
 * - SES: $0.10 per 1,000 e-mails — https://aws.amazon.com/ses/pricing/
 * - EventBridge Scheduler (the alternative SLA timer, not built): $1.00 per million scheduled
 *   invocations after 14 million free a month — https://aws.amazon.com/eventbridge/pricing/
 * Amazon Connect chat, for comparison: $0.010 per message — https://aws.amazon.com/connect/pricing/
 */
import { row } from './support.js';

export const PRICES = {
  apiGatewayPerRequest: 1.0 / 1e6,
  lambdaPerGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1e6,
  sqsFifoPerRequest: 0.5 / 1e6,
  dynamoPerWru: 0.625 / 1e6,
  dynamoPerRru: 0.125 / 1e6,
  stepFunctionsPerTransition: 0.025 / 1000,
  sesPerEmail: 0.1 / 1000,
  schedulerPerInvocation: 1.0 / 1e6,
} as const;

/** Memory of each function (lib/: processing 512 MB, agent-api 512 MB, the rest the 256 MB default). */
const MEMORY_MB: Readonly<Record<string, number>> = { process: 512, 'agent-api': 512 };

export interface CostInputs {
  /** Capacity units per inbound message and per agent reply. */
  readonly inbound: { readonly wcu: number; readonly rcu: number };
  readonly reply: { readonly wcu: number; readonly rcu: number };
  /** Per function: Lambda ms per invocation and invocations per message-with-reply. */
  readonly lambda: ReadonlyMap<string, { readonly msPerInvocation: number; readonly perMessage: number }>;
  /** Step Functions transitions per ticket, and tickets per inbound message. */
  readonly transitionsPerTicket: number;
  readonly ticketsPerMessage: number;
  /** Wake-ups (sla-evaluate invocations) per ticket, which one-shot schedules would replace one for one. */
  readonly evaluationsPerTicket?: number;
}

export function printCost(x: CostInputs): void {
  const M = 1_000_000;
  const lambdaRequests = [...x.lambda.values()].reduce((s, f) => s + f.perMessage, 0);
  const gbSeconds = [...x.lambda.entries()].reduce((s, [name, f]) => s + f.perMessage * (f.msPerInvocation / 1000) * ((MEMORY_MB[name] ?? 256) / 1024), 0);
  const sqsInvocations = (x.lambda.get('process')?.perMessage ?? 0) + (x.lambda.get('send')?.perMessage ?? 0);
  const items: Array<[string, number, string]> = [
    ['API Gateway (HTTP API)', 2 * M * PRICES.apiGatewayPerRequest, 'the webhook and the reply POST'],
    ['Lambda arm64 (measured durations)', M * (gbSeconds * PRICES.lambdaPerGbSecond + lambdaRequests * PRICES.lambdaPerRequest), `${(gbSeconds * 1000).toFixed(0)} GB-ms, ${lambdaRequests.toFixed(2)} invocations per message`],
    ['SQS FIFO', M * (2 + 2 * sqsInvocations) * PRICES.sqsFifoPerRequest, 'a send per message and per reply, a receive and a delete per batch'],
    ['DynamoDB on-demand', M * ((x.inbound.wcu + x.reply.wcu) * PRICES.dynamoPerWru + (x.inbound.rcu + x.reply.rcu) * PRICES.dynamoPerRru), `${(x.inbound.wcu + x.reply.wcu).toFixed(1)} WRU, ${(x.inbound.rcu + x.reply.rcu).toFixed(1)} RRU per message with its reply`],
    ['Step Functions (SLA workflow)', M * x.ticketsPerMessage * x.transitionsPerTicket * PRICES.stepFunctionsPerTransition, `${x.transitionsPerTicket.toFixed(1)} transitions per ticket, ${x.ticketsPerMessage} tickets per message`],
    ['SES', 0, 'Telegram replies send no e-mail; every reply by e-mail would add $100'],
  ];
  const total = items.reduce((s, [, v]) => s + v, 0);
  const [top, topCost] = [...items].sort((a, b) => b[1] - a[1])[0]!;
  console.log('Cost per 1,000,000 inbound messages with one agent reply each (list prices, us-east-1, 2026-12-07; free tiers ignored)\n');
  for (const [name, cost, note] of items) row(name, `$${cost.toFixed(2)}  (${note})`);
  row('total', `$${total.toFixed(2)} per 1M messages (Amazon Connect chat: $10,000)`);
  row('largest item', `${top}: $${topCost.toFixed(2)} (${(100 * topCost / total).toFixed(0)} %)`);
  row('what would halve it', HALVING[top] ?? '');
  // The SLA timer, analysed: the standard workflow already waits until the next threshold (a Wait
  // costs nothing while it waits); what is paid is 3 transitions per wake-up (Wait, Evaluate,
  // Decide) and 1 per execution's end. Express workflows cannot wait longer than 5 minutes.
  const sfn = items.find(([n]) => n.startsWith('Step Functions'))![1];
  if (x.evaluationsPerTicket !== undefined) {
    const scheduler = M * x.ticketsPerMessage * x.evaluationsPerTicket * PRICES.schedulerPerInvocation;
    row('SLA timer on EventBridge Scheduler instead', `$${scheduler.toFixed(2)} instead of $${sfn.toFixed(2)} (one one-shot at() schedule per wake-up, ${x.evaluationsPerTicket.toFixed(2)} per ticket, $1.00 per million; not built)`);
    row('total with that timer', `$${(total - sfn + scheduler).toFixed(2)}`);
  }
  // The $5 target against what this design pays whatever it is tuned to: two API requests and the
  // FIFO traffic, and a transactional commit (2 write units per item up to 1 KB).
  const fixed = 2 * M * PRICES.apiGatewayPerRequest + M * (2 + 2 * sqsInvocations) * PRICES.sqsFifoPerRequest;
  row('floor before storage and compute', `$${fixed.toFixed(2)} (API Gateway + SQS); each item a message's transaction writes adds $${(2 * M * PRICES.dynamoPerWru).toFixed(2)}, so ≤ $5 leaves room for one item and no Lambda time`);
  console.log('');
}

const HALVING: Readonly<Record<string, string>> = {
  'DynamoDB on-demand': 'provisioned capacity with auto scaling at a steady load (the folds are done: 4 items for a known customer, README "Scale"); then fewer condition checks (each bills as a write) and fewer GSI copies of the ticket (3, all attributes projected)',
  'Lambda arm64 (measured durations)': 'shorter invocations: DynamoDB Local under load is far slower than DynamoDB (~5 ms a call), so AWS durations are lower; then larger batches for process and send',
  'Step Functions (SLA workflow)': 'a timer priced per wake-up instead of per transition: EventBridge Scheduler one-shot schedules (below); Express workflows cannot wait past 5 minutes, and the standard workflow already waits until the next threshold instead of polling',
  'API Gateway (HTTP API)': 'nothing cheaper fronts a webhook; it is already the HTTP API price',
  'SQS FIFO': 'larger batches (receive/delete per 10 messages)',
};
