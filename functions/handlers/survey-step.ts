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
 * - messaging windows: WhatsApp, Messenger and Instagram take free-form text only within 24 h of
 *   the customer's last message (channels.md §2–4), counted from when they sent it
 *   (functions/domain/reply-window.ts). Outside it, on WhatsApp, a question or reminder goes out as
 *   the registered template marked for it (`use_for: survey / reminder` in `PUT
 *   /api/v1/whatsapp/templates`; the customer answers with a number, which opens the window
 *   again). Without one — and on Messenger/Instagram, where automated messages may not use the
 *   HUMAN_AGENT tag — a question is not sent: the round becomes `skipped` (`window_closed`,
 *   timeline event `survey.skipped`), no reminder follows; a reminder is skipped the same way
 *   (`survey.reminder_skipped`) while the survey keeps taking an answer until it expires. The
 *   window is the one the Agent API refuses a reply outside of (`replyWindowOf`, HTTP 409).
 * - e-mail: with `links` configured the question and the reminder list one signed link per score
 *   (`<public URL>/survey/<token>`, functions/domain/survey-token.ts; the token expires with the
 *   survey) above the "reply with a number" hint.
 * - texts: the survey templates stored through `PUT /api/v1/survey/templates`, else the built-in ones.
 *
 * Race-free: every write is conditional on the survey's round and state (and for the follow-up on
 * `followup = pending`); a lost race reloads and decides again, a stale wake-up (another round, a
 * finished survey) answers `done` or waits again and writes nothing. The alert e-mail is sent
 * before the follow-up is committed: at least once, never lost.
 */
import { z } from 'zod';
import { monotonicFactory } from 'ulid';
import { channelByName } from '../channels/registry.js';
import { replyWindowOf, type ChannelAdapter } from '../channels/channel.js';
import { windowAnchor } from '../domain/reply-window.js';
import { firstNameOf } from '../domain/template.js';
import { fillWhatsAppTemplate, templateFor, type FilledTemplate } from '../domain/whatsapp-template.js';
import { getWhatsAppTemplates } from '../store/whatsapp-templates.js';
import type { Clock } from '../domain/clock.js';
import type { RawEmailRequest } from '../domain/sla/notify.js';
import {
  decideSurveyStep, DEFAULT_SURVEY_TEMPLATES, renderLowScoreAlert, renderSurveyMessage, SCALE_RANGE, surveyOf, surveySettingsFrom,
  type SurveyMessageKind, type SurveyRecord, type SurveySettings, type SurveyTemplates,
} from '../domain/survey.js';
import { signSurveyToken } from '../domain/survey-token.js';
import { lambdaHandler } from '../runtime/aws.js';
import { logger as defaultLogger } from '../runtime/logger.js';
import { alertEmailSender } from '../runtime/perform.js';
import type { Db } from '../store/db.js';
import { getTicket, listCustomerItems } from '../store/reads.js';
import type { EventEntry, FeedEvent, IdentityRecord, MessageEntry, TicketRecord } from '../store/records.js';
import { commitSurvey, getSurveyTemplates } from '../store/survey.js';
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
  readonly did: 'asked' | 'reminded' | 'expired' | 'cancelled' | 'followed-up' | 'waited' | 'stale' | 'missing' | 'finished' | 'skipped' | 'reminder-skipped';
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
  /** Fixed survey texts (tests); otherwise the stored ones (`PUT /api/v1/survey/templates`) or the built-in ones. */
  readonly templates?: SurveyTemplates;
  /**
   * Score links in survey e-mails: `CONFLUO_SURVEY_LINK_SECRET` and the public base URL
   * (`CONFLUO_PUBLIC_URL`; locally the runtime's own URL). Absent: e-mail asks for a typed number.
   */
  readonly links?: { readonly secret: string; readonly baseUrl: () => string };
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

  /** The identity the survey goes to: the ticket's conversation on its channel. */
  async function recipient(ticket: TicketRecord): Promise<IdentityRecord | undefined> {
    const { identities } = await listCustomerItems(db, ticket.customer_id);
    return identities.find((i) => i.channel === ticket.channel && i.conversation_id === ticket.conversation_id)
      ?? identities.find((i) => i.channel === ticket.channel);
  }

  /** Has the channel's free-form window (24 h on the Meta channels) closed for this conversation? */
  function windowClosed(ticket: TicketRecord, identity: IdentityRecord | undefined, now: number): boolean {
    const adapter = lookup(ticket.channel);
    if (!adapter) return false;
    const window = replyWindowOf(adapter, { conversation_id: ticket.conversation_id, ...(identity?.reply_context ? { context: identity.reply_context } : {}) });
    if (window === null) return false;
    const last = windowAnchor(identity) ?? ticket.last_inbound_at;
    return typeof last !== 'number' || now - last > window * 1000;
  }

  /** One signed link per score for an e-mail question or reminder (valid until the survey expires). */
  function scoreLinks(ticket: TicketRecord, s: SurveyRecord, expiresAt: number | null) {
    if (!deps.links || ticket.channel !== 'email' || expiresAt === null) return undefined;
    const base = deps.links.baseUrl().replace(/\/+$/, '');
    const [min, max] = SCALE_RANGE[s.scale];
    const links: Array<{ score: number; url: string }> = [];
    for (let score = min; score <= max; score++) {
      links.push({ score, url: `${base}/survey/${signSurveyToken({ ticket_id: ticket.id, round: s.round, scale: s.scale, score, expires_at: expiresAt }, deps.links.secret)}` });
    }
    return links;
  }

  /**
   * The registered WhatsApp template a question or reminder goes out as once the window has
   * closed, filled for this ticket; undefined when the channel has none (or a value is missing).
   */
  async function windowTemplate(ticket: TicketRecord, use: 'survey' | 'reminder', identity: IdentityRecord | undefined): Promise<FilledTemplate | undefined> {
    if (!lookup(ticket.channel)?.capabilities.templates) return undefined;
    const t = templateFor((await getWhatsAppTemplates(db)).items, use, identity?.language);
    if (!t) return undefined;
    const r = fillWhatsAppTemplate(t, { 'customer.first_name': firstNameOf(identity?.display_name), 'customer.name': identity?.display_name ?? null, 'ticket.number': ticket.number });
    if (!r.ok) log.warn('survey template lacks a value', { ticket_id: ticket.id, template: t.name, missing: r.missing });
    return r.ok ? r.value : undefined;
  }

  /** The customer message of a survey (deterministic id per ticket, round and kind); as a WhatsApp template when `template` is given. */
  async function outbound(ticket: TicketRecord, s: SurveyRecord, kind: SurveyMessageKind, now: number, identity: IdentityRecord | undefined, expiresAt: number | null = null, template?: FilledTemplate): Promise<{ entry: MessageEntry; feed: FeedEvent; language: string }> {
    const buttons = lookup(ticket.channel)?.capabilities.buttons ?? false;
    const templates = deps.templates ?? (await getSurveyTemplates(db))?.templates ?? DEFAULT_SURVEY_TEMPLATES;
    const links = kind === 'question' || kind === 'reminder' ? scoreLinks(ticket, s, expiresAt) : undefined;
    const rendered = renderSurveyMessage({
      kind, scale: s.scale, ticketNumber: ticket.number, language: identity?.language, buttons, templates,
      ...(links ? { links } : {}),
    });
    const id = `survey-${ticket.id}-${s.round}-${kind === 'thanks_low' ? 'thanks' : kind}`;
    const outboundKind = kind === 'reminder' ? 'reminder' : 'survey';
    const entry: MessageEntry = {
      type: 'message', id, ticket_id: ticket.id, at: now, channel: ticket.channel, direction: 'out', external_message_id: null,
      conversation_id: ticket.conversation_id, text: template ? template.text : rendered.text, attachments: [], interaction: null, edited: false, sent_at: now,
      delivery: 'queued', outbound_kind: outboundKind, author: 'system',
      extras: {
        language: template ? template.language : rendered.language, survey_round: s.round, survey_message: kind,
        ...(template ? { wa_template: { name: template.name, language: template.language, parameters: template.parameters } } : rendered.buttons ? { buttons: rendered.buttons } : {}),
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
        const identity = await recipient(t);
        const closed = windowClosed(t, identity, now);
        const template = closed ? await windowTemplate(t, d.kind === 'ask' ? 'survey' : 'reminder', identity) : undefined;
        if (closed && !template) {
          // Free-form text would be refused by the platform (WhatsApp 131047 / 63016 via Twilio,
          // Messenger/Instagram outside the standard window): record why, send nothing.
          const ask = d.kind === 'ask';
          const ev = event(t, now, ask ? 'survey.skipped' : 'survey.reminder_skipped', { round: s.round, reason: 'window_closed', channel: t.channel });
          const r = await commitSurvey(db, {
            ticketId: t.id, expected,
            set: ask ? { state: 'skipped', skipped_reason: 'window_closed', channel: t.channel } : { reminder_skipped: 'window_closed' },
            ...(ask ? {} : { expectFields: { reminded_at: null } }),
            timeline: [ev.timeline], feed: [ev.feed], statuses: ['resolved', 'closed'],
          });
          if (r === 'conflict') continue;
          log.info(ask ? 'survey skipped' : 'survey reminder skipped', { ticket_id: t.id, round: s.round, channel: t.channel, reason: 'window_closed' });
          return ask ? done('skipped') : waitUntil(d.next_at, 'reminder-skipped');
        }
        const msg = await outbound(t, s, d.kind === 'ask' ? 'question' : 'reminder', now, identity, d.kind === 'ask' ? d.expires_at : s.expires_at, template);
        const set = d.kind === 'ask'
          ? { state: 'sent', sent_at: now, expires_at: d.expires_at, channel: t.channel, language: msg.language }
          : { reminded_at: now };
        const r = await commitSurvey(db, {
          ticketId: t.id, expected, set, outbound: { entry: msg.entry, feed: msg.feed },
          ...(d.kind === 'remind' ? { expectFields: { reminded_at: null } } : {}),
          statuses: ['resolved', 'closed'],
        });
        if (r === 'conflict') continue;
        log.info(d.kind === 'ask' ? 'survey asked' : 'survey reminded', { ticket_id: t.id, round: s.round, channel: t.channel, scale: s.scale, ...(template ? { template: template.name } : {}) });
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
      const identity = await recipient(t);
      // A thank-you outside the window would be refused like the question (a button press or a
      // typed score opens a new window, so this is rare: a late click on an e-mail link of a
      // ticket that moved to WhatsApp, say).
      const thank = !windowClosed(t, identity, now);
      const msg = thank ? await outbound(t, s, s.low && s.reopened ? 'thanks_low' : 'thanks', now, identity) : undefined;
      const events = s.low ? [event(t, now, 'survey.alerted', { round: s.round, score: s.score, scale: s.scale, emailed: alertedAt !== null })] : [];
      const r = await commitSurvey(db, {
        ticketId: t.id, expected, expectFields: { followup: 'pending' },
        set: { followup: 'done', ...(thank ? { thanked_at: now } : { thanks_skipped: 'window_closed' }), ...(alertedAt !== null ? { alerted_at: alertedAt } : {}) },
        ...(msg ? { outbound: { entry: msg.entry, feed: msg.feed } } : {}),
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

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeSurveyStep({
    db: platform.db(config), clock: platform.clock, settings: surveySettingsFrom(config),
    escalationEmail: config.ESCALATION_EMAIL, emailFrom: config.EMAIL_FROM,
    sendEmail: alertEmailSender(platform.perform(config)),
    ...(config.CONFLUO_SURVEY_LINK_SECRET && config.CONFLUO_PUBLIC_URL
      ? { links: { secret: config.CONFLUO_SURVEY_LINK_SECRET, baseUrl: () => config.CONFLUO_PUBLIC_URL! } } : {}),
  });
});
