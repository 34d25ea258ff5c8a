/**
 * Survey step λ: the one task of the survey state machine (lib/survey-workflow.ts). Input
 * `{ticket_id, round}`; it loads the ticket as it is now, asks the domain what this wake-up does
 * (functions/domain/survey.ts `decideSurveyStep`), commits it, and tells the state machine to
 * `wait-until` a time or that it is `done`.
 *
 * - ask: the question (CSAT 1–5 or NPS 0–10) is queued on the channel and conversation the
 *   customer last wrote from, with native buttons where the channel has them and a "reply with a
 *   number" text elsewhere; the survey becomes `sent` in the same transaction;
 * - remind: once, `reminderMs` after asking; expire: `expiryMs` after asking, unanswered;
 * - cancel: the ticket was reopened (or merged) before the survey was answered;
 * - follow-up: after an answer (recorded by the process λ) the thank-you message is queued and,
 *   on a low score, the team lead is e-mailed (SES; locally the outbox, kind `escalation`).
 *
 * Race-free: every write is conditional on the survey's round and state (and for the follow-up on
 * `followup = pending`); a lost race reloads and decides again, a stale wake-up (another round, a
 * finished survey) answers `done` or waits again and writes nothing. The alert e-mail is sent
 * before the follow-up is committed: at least once, never lost.
 */
import { z } from 'zod';
import { monotonicFactory } from 'ulid';
import { channelByName } from '../channels/registry.js';
import type { ChannelAdapter } from '../channels/channel.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { RawEmailRequest } from '../domain/sla/notify.js';
import {
  decideSurveyStep, renderLowScoreAlert, renderSurveyMessage, surveyOf, surveySettingsFrom,
  type SurveyMessageKind, type SurveyRecord, type SurveySettings, type SurveyTemplates,
} from '../domain/survey.js';
import { awsConfig, awsDb, lazyHandler } from '../runtime/aws.js';
import { logger as defaultLogger } from '../runtime/logger.js';
import { performInAws } from '../runtime/perform.js';
import type { Db } from '../store/db.js';
import { getTicket, listCustomerItems } from '../store/reads.js';
import type { EventEntry, FeedEvent, MessageEntry, TicketRecord } from '../store/records.js';
import { commitSurvey } from '../store/survey.js';
import { keys } from '../store/table.js';
import { waitTimestamp } from './sla-evaluate.js';

export const SurveyStepInput = z.object({
  ticket_id: z.string().min(1),
  round: z.number().int().positive(),
  /** `$$.Execution.Name`, for logs. */
  execution: z.string().optional(),
});
export type SurveyStepInput = z.infer<typeof SurveyStepInput>;

/** What the state machine branches on (Choice on `kind`, Wait on `wait_until`). */
export interface SurveyStepOutput {
  readonly ticket_id: string;
  readonly round: number;
  readonly kind: 'wait-until' | 'done';
  readonly wait_until: string | null;
  /** What this step did (logs, tests). */
  readonly did: 'asked' | 'reminded' | 'expired' | 'cancelled' | 'followed-up' | 'waited' | 'stale' | 'missing' | 'finished';
}

export interface SurveyStepDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly settings: SurveySettings;
  /** Sends a described e-mail (AWS: SES SendRawEmail; local: the outbox, kind `escalation`). */
  readonly sendEmail: (request: RawEmailRequest, meta: { readonly ticket_id: string }) => Promise<void>;
  /** ESCALATION_EMAIL: the team lead's address for low-score alerts. */
  readonly escalationEmail?: string | undefined;
  /** EMAIL_FROM: the sender; without it (or a recipient) no alert e-mail is sent (timeline only). */
  readonly emailFrom?: string | undefined;
  readonly templates?: SurveyTemplates;
  readonly channel?: (name: string) => ChannelAdapter | undefined;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export class SurveyStepError extends Error {
  override readonly name = 'SurveyStepError';
}

const MAX_ATTEMPTS = 6;

export function makeSurveyStep(deps: SurveyStepDeps) {
  const log = deps.logger ?? defaultLogger;
  const lookup = deps.channel ?? channelByName;
  const { db, settings } = deps;
  const ulid = monotonicFactory();

  /** The customer message of a survey (deterministic id per ticket, round and kind). */
  async function outbound(ticket: TicketRecord, s: SurveyRecord, kind: SurveyMessageKind, now: number): Promise<{ entry: MessageEntry; feed: FeedEvent; language: string }> {
    const { identities } = await listCustomerItems(db, ticket.customer_id);
    const identity = identities.find((i) => i.channel === ticket.channel && i.conversation_id === ticket.conversation_id)
      ?? identities.find((i) => i.channel === ticket.channel);
    const buttons = lookup(ticket.channel)?.capabilities.buttons ?? false;
    const rendered = renderSurveyMessage({
      kind, scale: s.scale, ticketNumber: ticket.number, language: identity?.language, buttons,
      ...(deps.templates ? { templates: deps.templates } : {}),
    });
    const id = `survey-${ticket.id}-${s.round}-${kind === 'thanks_low' ? 'thanks' : kind}`;
    const outboundKind = kind === 'reminder' ? 'reminder' : 'survey';
    const entry: MessageEntry = {
      type: 'message', id, ticket_id: ticket.id, at: now, channel: ticket.channel, direction: 'out', external_message_id: null,
      conversation_id: ticket.conversation_id, text: rendered.text, attachments: [], interaction: null, edited: false, sent_at: now,
      delivery: 'queued', outbound_kind: outboundKind, author: 'system',
      extras: {
        language: rendered.language, survey_round: s.round, survey_message: kind,
        ...(rendered.buttons ? { buttons: rendered.buttons } : {}),
        ...(identity ? { identity_external_id: identity.external_id } : {}),
      },
    };
    const feed: FeedEvent = {
      id: `${id}-queued`, type: 'outbound.queued', at: now, ticket_id: ticket.id, customer_id: ticket.customer_id,
      data: { channel: ticket.channel, message_id: id, entry_sk: keys.timelineEntry(ticket.id, now, id).sk, kind: outboundKind },
    };
    return { entry, feed, language: rendered.language };
  }

  const event = (ticket: TicketRecord, now: number, type: string, data: Record<string, unknown>): { timeline: EventEntry; feed: FeedEvent } => ({
    timeline: { type: 'event', id: ulid(now), ticket_id: ticket.id, at: now, event: type, data },
    feed: { id: ulid(now), type, at: now, ticket_id: ticket.id, customer_id: ticket.customer_id, data },
  });

  async function step(input: SurveyStepInput): Promise<SurveyStepOutput> {
    const base = { ticket_id: input.ticket_id, round: input.round };
    const done = (did: SurveyStepOutput['did']): SurveyStepOutput => ({ ...base, kind: 'done', wait_until: null, did });
    const waitUntil = (at: number, did: SurveyStepOutput['did']): SurveyStepOutput => ({ ...base, kind: 'wait-until', wait_until: waitTimestamp(at), did });
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const ticket = await getTicket(db, input.ticket_id);
      const now = deps.clock.now();
      const d = decideSurveyStep(ticket, input.round, now, settings);
      if (d.kind === 'done') {
        if (d.reason === 'stale') log.info('survey stale wake-up', { ticket_id: input.ticket_id, round: input.round, execution_id: input.execution });
        return done(d.reason);
      }
      if (d.kind === 'wait') return waitUntil(d.at, 'waited');
      const t = ticket!;
      const s = surveyOf(t.survey)!;
      const expected = { round: s.round, state: s.state };

      if (d.kind === 'cancel' || d.kind === 'expire') {
        const state = d.kind === 'cancel' ? 'cancelled' : 'expired';
        const ev = event(t, now, `survey.${state}`, { round: s.round, ...(d.kind === 'cancel' ? { reason: d.reason } : {}) });
        const r = await commitSurvey(db, {
          ticketId: t.id, expected, set: { state, ...(d.kind === 'cancel' ? { cancelled_reason: d.reason } : {}) },
          timeline: [ev.timeline], feed: [ev.feed],
        });
        if (r === 'conflict') continue;
        log.info(`survey ${state}`, { ticket_id: t.id, round: s.round });
        return done(d.kind === 'cancel' ? 'cancelled' : 'expired');
      }

      if (d.kind === 'ask' || d.kind === 'remind') {
        const msg = await outbound(t, s, d.kind === 'ask' ? 'question' : 'reminder', now);
        const set = d.kind === 'ask'
          ? { state: 'sent', sent_at: now, expires_at: d.expires_at, channel: t.channel, language: msg.language }
          : { reminded_at: now };
        const r = await commitSurvey(db, {
          ticketId: t.id, expected, set, outbound: { entry: msg.entry, feed: msg.feed },
          ...(d.kind === 'remind' ? { expectFields: { reminded_at: null } } : {}),
          statuses: ['resolved', 'closed'],
        });
        if (r === 'conflict') continue;
        log.info(d.kind === 'ask' ? 'survey asked' : 'survey reminded', { ticket_id: t.id, round: s.round, channel: t.channel, scale: s.scale });
        return waitUntil(d.next_at, d.kind === 'ask' ? 'asked' : 'reminded');
      }

      // follow-up: the thank-you, and the team lead's alert on a low score
      let alertedAt: number | null = null;
      const to = deps.escalationEmail;
      if (s.low && deps.emailFrom && to && !(s as { alerted_at?: number }).alerted_at) {
        const request = renderLowScoreAlert({
          from: deps.emailFrom, to, at: now, ticket: { id: t.id, number: t.number, priority: t.priority }, survey: s,
          raisedFrom: (s as { raised_from?: string }).raised_from,
        });
        await deps.sendEmail(request, { ticket_id: t.id });
        alertedAt = now;
        log.info('survey low score alerted', { ticket_id: t.id, round: s.round, score: s.score });
      }
      const msg = await outbound(t, s, s.low && s.reopened ? 'thanks_low' : 'thanks', now);
      const events = s.low ? [event(t, now, 'survey.alerted', { round: s.round, score: s.score, scale: s.scale, emailed: alertedAt !== null })] : [];
      const r = await commitSurvey(db, {
        ticketId: t.id, expected, expectFields: { followup: 'pending' },
        set: { followup: 'done', thanked_at: now, ...(alertedAt !== null ? { alerted_at: alertedAt } : {}) },
        outbound: { entry: msg.entry, feed: msg.feed },
        timeline: events.map((e) => e.timeline), feed: events.map((e) => e.feed),
      });
      if (r === 'conflict') continue;
      return done('followed-up');
    }
    throw new SurveyStepError('gave up after repeated write conflicts', { cause: { ticket_id: input.ticket_id, round: input.round, stage: 'commit', attempts: MAX_ATTEMPTS } });
  }

  const handler = async (event: unknown): Promise<SurveyStepOutput> => {
    const parsed = SurveyStepInput.safeParse(event);
    if (!parsed.success) throw new SurveyStepError('input is not {ticket_id, round}', { cause: { stage: 'input', paths: parsed.error.issues.map((i) => i.path.join('.')) } });
    return step(parsed.data);
  };
  return Object.assign(handler, { step });
}

export const handler = lazyHandler(async () => {
  const config = await awsConfig();
  return makeSurveyStep({
    db: awsDb(config), clock: systemClock, settings: surveySettingsFrom(config),
    escalationEmail: config.ESCALATION_EMAIL, emailFrom: config.EMAIL_FROM,
    sendEmail: async (request) => { await performInAws(request); },
  });
});
