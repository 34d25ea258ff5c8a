/**
 * The escalation e-mail (DESIGN.md §2: escalations are e-mailed through SES). Pure: it renders a
 * raw MIME message; the caller performs it (AWS: SES SendRawEmail; local: the outbox), the same
 * "describe, then perform" split the channel adapters use.
 *
 * The message names the ticket by number and id, the clock, the level and the deadline — never
 * the customer's name, contact or message text: escalations go to a shared mailbox and the
 * ticket link is enough for the reader.
 */
import type { PendingEmail } from './policy.js';

const CLOCK_LABEL: Readonly<Record<PendingEmail['clock'], string>> = {
  first_response: 'first response',
  next_response: 'next response',
  resolution: 'resolution',
  ola: 'internal hand-off (OLA)',
};

const WHO: Readonly<Record<PendingEmail['notify'], string>> = {
  assignee: 'the assignee',
  team_lead: 'the team lead',
  supervisor: 'the supervisor',
};

export interface EscalationEmailInput {
  readonly from: string;
  readonly email: PendingEmail;
  readonly ticket: { readonly id: string; readonly number: string };
  /** Domain of the Message-ID (the From domain by default). */
  readonly messageIdDomain?: string;
}

/** A described SES SendRawEmail request (the PlatformRequest shape the outbox records). */
export interface RawEmailRequest {
  readonly method: 'POST';
  readonly url: 'ses:SendRawEmail';
  readonly headers: Record<string, string>;
  readonly body: string;
}

const rfc2822Date = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');

/** Header values are ASCII here (ids, numbers, fixed words); strip anything that could fold a header. */
const header = (v: string) => v.replace(/[\r\n]+/g, ' ');

export function escalationSubject(e: PendingEmail, ticketNumber: string): string {
  const what = e.at_percent >= 100 ? `SLA breached: ${CLOCK_LABEL[e.clock]}` : `SLA at risk: ${CLOCK_LABEL[e.clock]} at ${e.at_percent} %`;
  return `[${ticketNumber}] ${what} (escalation level ${e.level})`;
}

export function renderEscalationEmail(input: EscalationEmailInput): RawEmailRequest {
  const { email: e, ticket } = input;
  const lines = [
    `Ticket ${ticket.number} (${ticket.id}) needs attention.`,
    '',
    `Clock: ${CLOCK_LABEL[e.clock]}`,
    `Deadline: ${new Date(e.due).toISOString()}`,
    `Reached: ${e.at_percent} % of the target`,
    `Escalation level: ${e.level} (for ${WHO[e.notify]})`,
    e.raised_from ? `Priority raised: ${e.raised_from} -> ${e.priority}` : `Priority: ${e.priority}`,
    '',
    'Sent by Confluo SLA escalation.',
  ];
  return renderNotificationEmail({
    from: input.from, to: e.to, subject: escalationSubject(e, ticket.number), at: e.at, messageId: `sla-${e.id}`,
    ticketId: ticket.id, lines, ...(input.messageIdDomain ? { messageIdDomain: input.messageIdDomain } : {}),
  });
}

/**
 * A plain-text notification to the team (SLA escalations, bad survey scores): ASCII headers,
 * `Auto-Submitted: auto-generated`, the ticket id in `X-Confluo-Ticket`. Never personal data in
 * the body: the caller passes ids, numbers and fixed words.
 */
export function renderNotificationEmail(input: {
  readonly from: string; readonly to: string; readonly subject: string; readonly at: number;
  /** Local part of the Message-ID (unique per notification, stable across retries). */
  readonly messageId: string; readonly ticketId: string; readonly lines: readonly string[]; readonly messageIdDomain?: string;
}): RawEmailRequest {
  const domain = input.messageIdDomain ?? (input.from.split('@')[1] || 'confluo.localhost');
  const body = [
    `From: ${header(input.from)}`,
    `To: ${header(input.to)}`,
    `Subject: ${header(input.subject)}`,
    `Date: ${rfc2822Date(input.at)}`,
    `Message-ID: <${header(input.messageId)}@${header(domain)}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 7bit',
    'Auto-Submitted: auto-generated',
    `X-Confluo-Ticket: ${header(input.ticketId)}`,
    '',
    ...input.lines,
    '',
  ].join('\r\n');
  return { method: 'POST', url: 'ses:SendRawEmail', headers: {}, body };
}
