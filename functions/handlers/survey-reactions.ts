/**
 * Survey reactions of the dispatch λ (DESIGN.md §1 Workflows: one survey execution per resolution).
 *
 * - A status change to `resolved` (`ticket.status_changed` with `data.to = 'resolved'`, or
 *   `ticket.resolved` / `ticket.updated` naming the status) schedules the resolution's survey on
 *   the ticket (round + 1, a conditional write) and starts its execution, named
 *   `<ticket_id>-survey-<round>`, which first waits until the question is due.
 * - `survey.answered` (committed by the process λ with the answer) starts a short follow-up
 *   execution `<ticket_id>-survey-<round>-answer` that thanks the customer and, on a low score,
 *   alerts the team lead. The round's first execution wakes later, finds the survey answered and
 *   ends — a stale wake-up is a no-op.
 *
 * StartExecution is idempotent by name and input: a redelivered event finds the survey already
 * scheduled (same resolution) and restarts nothing; `ExecutionAlreadyExists` is ignored.
 */
import type { Clock } from '../domain/clock.js';
import { needsSurvey, scheduleSurvey, surveyOf, type SurveySettings } from '../domain/survey.js';
import { logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { getTicket } from '../store/reads.js';
import type { FeedEvent } from '../store/records.js';
import { commitSurvey } from '../store/survey.js';
import type { Reaction } from './reactions/reaction.js';
import { waitTimestamp } from './sla-evaluate.js';

/** The input of a survey execution (the state machine's first Wait reads `wait_until`). */
export interface SurveyExecutionInput { readonly ticket_id: string; readonly round: number; readonly wait_until: string }

export type StartSurveyExecution = (name: string, input: SurveyExecutionInput) => Promise<void>;

export interface SurveyReactionDeps {
  readonly db: Db;
  readonly settings: SurveySettings;
  readonly startExecution: StartSurveyExecution;
  readonly clock?: Clock;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export class SurveyReactionError extends Error {
  override readonly name = 'SurveyReactionError';
}

export const surveyExecutionName = (ticketId: string, round: number, phase?: 'answer') => `${ticketId}-survey-${round}${phase ? `-${phase}` : ''}`;

/** A feed event saying the ticket became resolved (the Agent API's contract: `ticket.status_changed` `{from, to}`). */
export function isResolvedEvent(e: Pick<FeedEvent, 'type' | 'data'>): boolean {
  if (e.type === 'ticket.resolved') return true;
  if (e.type === 'ticket.status_changed') return e.data.to === 'resolved';
  return e.type === 'ticket.updated' && e.data.status === 'resolved';
}

const MAX_ATTEMPTS = 6;

export function surveyReactions(deps: SurveyReactionDeps): Record<string, Reaction[]> {
  const log = deps.logger ?? defaultLogger;
  const { db, settings } = deps;

  async function start(name: string, input: SurveyExecutionInput): Promise<void> {
    try {
      await deps.startExecution(name, input);
    } catch (e) {
      if ((e as { name?: string })?.name !== 'ExecutionAlreadyExists') throw e;
    }
  }

  const onResolved: Reaction = async (event) => {
    if (!event.ticket_id || !isResolvedEvent(event)) return;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const ticket = await getTicket(db, event.ticket_id);
      // Reopened again (or merged) before we got here: that resolution needs no survey.
      if (!ticket || ticket.status !== 'resolved') return;
      // A phone ticket has no text channel to ask on (issue 16): Confluo sends nothing on `voice`.
      if (ticket.channel === 'voice') return;
      const resolvedAt = ticket.resolved_at ?? event.at;
      const previous = surveyOf(ticket.survey);
      let survey = previous;
      if (needsSurvey(previous, resolvedAt)) {
        if (!settings.enabled) return;
        survey = scheduleSurvey(previous, resolvedAt, settings);
        const r = await commitSurvey(db, {
          ticketId: ticket.id, survey, expected: { none: true, previousRound: previous?.round ?? null }, statuses: ['resolved'],
        });
        if (r === 'conflict') continue;
        log.info('survey scheduled', { ticket_id: ticket.id, round: survey.round, scale: survey.scale });
      }
      if (survey!.state !== 'scheduled') return; // already asked: its execution exists
      await start(surveyExecutionName(ticket.id, survey!.round), { ticket_id: ticket.id, round: survey!.round, wait_until: waitTimestamp(survey!.ask_at) });
      return;
    }
    throw new SurveyReactionError('gave up after repeated write conflicts', { cause: { ticket_id: event.ticket_id, stage: 'schedule', attempts: MAX_ATTEMPTS } });
  };

  const onAnswered: Reaction = async (event) => {
    const round = event.data.round;
    if (!event.ticket_id || typeof round !== 'number') return;
    // Due at once: the answer's second rounded down (a Wait until a past time ends immediately).
    const now = new Date(Math.floor(event.at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    await start(surveyExecutionName(event.ticket_id, round, 'answer'), { ticket_id: event.ticket_id, round, wait_until: now });
  };

  return {
    'ticket.status_changed': [onResolved],
    'ticket.resolved': [onResolved],
    'ticket.updated': [onResolved],
    'survey.answered': [onAnswered],
  };
}
