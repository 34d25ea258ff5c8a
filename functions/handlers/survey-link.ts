/**
 * Survey link λ: the score links of survey e-mails (README "Close the loop"), `GET|POST
 * /survey/{token}` on the public webhook API (lib/survey-link.ts; locally local/server.ts).
 *
 * - `GET` records NOTHING. Mail security scanners (Microsoft Defender Safe Links, Mimecast,
 *   Proofpoint…) fetch every link of a mail before the reader sees it, so a GET that recorded
 *   would answer every survey with the first score it lists. It shows a tiny confirmation page
 *   (the score and one button); scanners do not submit forms.
 *   https://learn.microsoft.com/en-us/defender-office-365/safe-links-about
 * - `POST` (`action=answer`) records the score through the same conditional ticket update as a
 *   typed or pressed score (store/survey.ts `commitSurveyLinkAnswer` → store/inbound.ts
 *   `surveyReplyUpdate`): the same survey fields, `survey.answered` event (`via: "link"`), a low
 *   score reopens the ticket with raised priority, and the dispatch λ starts the same follow-up
 *   (thank-you e-mail, team-lead alert). The first answer of a round stands: a second POST — the
 *   same or another score, by link, button or typed — changes nothing and shows the recorded one
 *   (the rule for a late button press, domain/survey.ts `classifyLinkAnswer`).
 * - The thank-you page offers a comment box while the comment window is open;
 *   `POST action=comment` attaches the text to the survey like a typed comment.
 * - A forged token → 403, an expired token or a survey that is no longer open → 410; nothing is
 *   stored. No secret configured (`CONFLUO_SURVEY_LINK_SECRET`) → 404, like a channel without
 *   its secret.
 *
 * Pages are plain HTML without scripts, in the survey's language (en, ru, pl), `no-store`,
 * `Referrer-Policy: no-referrer` (the token is in the URL) and a CSP allowing only inline style
 * and posting back to this origin.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { monotonicFactory } from 'ulid';
import type { Clock } from '../domain/clock.js';
import { raisePriority } from '../domain/sla/policy.js';
import { classifyLinkAnswer, commentOpen, SCALE_RANGE, surveyOf, surveySettingsFrom, type SurveyScale, type SurveySettings } from '../domain/survey.js';
import { verifySurveyToken, type SurveyLinkClaims } from '../domain/survey-token.js';
import { lambdaHandler } from '../runtime/aws-edge.js';
import { lowerCaseHeaders, rawBody } from '../runtime/http.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { getCustomer, getTicket } from '../store/reads.js';
import type { EventEntry, FeedEvent, TicketRecord } from '../store/records.js';
import { commitSurveyLinkAnswer } from '../store/survey.js';

export interface SurveyLinkDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly settings: SurveySettings;
  /** CONFLUO_SURVEY_LINK_SECRET; absent: every request answers 404. */
  readonly secret: string | undefined;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export class SurveyLinkError extends Error {
  override readonly name = 'SurveyLinkError';
}

/** Longest comment kept (a typed comment is bounded by its channel; a form is not). */
export const MAX_COMMENT = 2000;
const MAX_FORM_BYTES = 16 * 1024;
const MAX_ATTEMPTS = 5;
const PATH = /^\/survey\/([A-Za-z0-9._-]{1,200})\/?$/;

type Lang = 'en' | 'ru' | 'pl';
const TEXT: Readonly<Record<Lang, Readonly<Record<string, string>>>> = {
  en: {
    title: 'Rate request {n}', yours: 'Your score', of: 'of', submit: 'Send my score', thanks: 'Thank you for rating request {n}!',
    thanksLow: 'Thank you for your feedback on request {n}. We are sorry we fell short: we have reopened your request and a team lead will get back to you.',
    recorded: 'Your score for request {n} is recorded: {s}.', already: 'Only the first answer counts.',
    commentAsk: 'Would you like to tell us more?', commentSend: 'Send comment', commentThanks: 'Thank you for your comment.',
    commentClosed: 'A comment can no longer be added to this survey.', forged: 'This link is not valid.',
    closed: 'This survey is closed.', expired: 'This survey link has expired.', notFound: 'Not found.', tooBig: 'The comment is too long.', empty: 'The comment is empty.',
  },
  ru: {
    title: 'Оценка запроса {n}', yours: 'Ваша оценка', of: 'из', submit: 'Отправить оценку', thanks: 'Спасибо за оценку запроса {n}!',
    thanksLow: 'Спасибо за отзыв о запросе {n}. Нам жаль, что мы не оправдали ожиданий: мы снова открыли ваш запрос, и руководитель группы свяжется с вами.',
    recorded: 'Ваша оценка запроса {n} записана: {s}.', already: 'Учитывается только первый ответ.',
    commentAsk: 'Хотите рассказать подробнее?', commentSend: 'Отправить комментарий', commentThanks: 'Спасибо за комментарий.',
    commentClosed: 'К этому опросу больше нельзя добавить комментарий.', forged: 'Эта ссылка недействительна.',
    closed: 'Этот опрос закрыт.', expired: 'Срок действия ссылки истёк.', notFound: 'Не найдено.', tooBig: 'Комментарий слишком длинный.', empty: 'Комментарий пуст.',
  },
  pl: {
    title: 'Oceń zgłoszenie {n}', yours: 'Twoja ocena', of: 'z', submit: 'Wyślij ocenę', thanks: 'Dziękujemy za ocenę zgłoszenia {n}!',
    thanksLow: 'Dziękujemy za opinię o zgłoszeniu {n}. Przykro nam, że nie spełniliśmy oczekiwań: ponownie otworzyliśmy Twoje zgłoszenie i kierownik zespołu się z Tobą skontaktuje.',
    recorded: 'Twoja ocena zgłoszenia {n} została zapisana: {s}.', already: 'Liczy się tylko pierwsza odpowiedź.',
    commentAsk: 'Chcesz nam powiedzieć więcej?', commentSend: 'Wyślij komentarz', commentThanks: 'Dziękujemy za komentarz.',
    commentClosed: 'Do tej ankiety nie można już dodać komentarza.', forged: 'Ten link jest nieprawidłowy.',
    closed: 'Ta ankieta jest zamknięta.', expired: 'Ten link wygasł.', notFound: 'Nie znaleziono.', tooBig: 'Komentarz jest za długi.', empty: 'Komentarz jest pusty.',
  },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));

const langOf = (v: unknown): Lang => {
  const base = typeof v === 'string' ? v.toLowerCase().split(/[-_]/)[0] : '';
  return base === 'ru' || base === 'pl' ? base : 'en';
};

const scoreText = (lang: Lang, scale: SurveyScale, score: number) => {
  const [, max] = SCALE_RANGE[scale];
  return `${score} ${TEXT[lang].of} ${max}${scale === 'csat' ? ` ${'★'.repeat(score)}${'☆'.repeat(max - score)}` : ''}`;
};

function page(status: number, lang: Lang, title: string, body: string): APIGatewayProxyStructuredResultV2 {
  const html = `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta name="robots" content="noindex,nofollow"><title>${escapeHtml(title)}</title>`
    + '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}'
    + 'button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#1f6feb;color:#fff;cursor:pointer}'
    + 'textarea{width:100%;box-sizing:border-box;font:inherit;min-height:6rem}.score{font-size:1.6rem}</style></head>'
    + `<body><main>${body}</main></body></html>`;
  return {
    statusCode: status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'x-robots-tag': 'noindex, nofollow',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    },
    body: html,
  };
}

const message = (status: number, lang: Lang, key: string) => page(status, lang, TEXT[lang][key]!, `<p>${escapeHtml(TEXT[lang][key]!)}</p>`);

export function makeSurveyLink(deps: SurveyLinkDeps) {
  const log = deps.logger ?? defaultLogger;
  const { db, settings } = deps;
  const ulid = monotonicFactory();

  const fill = (s: string, n: string, score?: string) => s.replace('{n}', n).replace('{s}', score ?? '');

  function commentForm(lang: Lang): string {
    const t = TEXT[lang];
    return `<form method="post"><input type="hidden" name="action" value="comment"><p><label for="c">${escapeHtml(t.commentAsk!)}</label></p>`
      + `<textarea id="c" name="comment" maxlength="${MAX_COMMENT}" required></textarea><p><button type="submit">${escapeHtml(t.commentSend!)}</button></p></form>`;
  }

  /** The thank-you page: the recorded score, the low-score apology, the comment box while it is open. */
  function thanksPage(ticket: TicketRecord, lang: Lang, opts: { readonly first: boolean; readonly claimed?: number }): APIGatewayProxyStructuredResultV2 {
    const s = surveyOf(ticket.survey)!;
    const t = TEXT[lang];
    const recorded = s.score === null ? '' : scoreText(lang, s.scale, s.score);
    const lines = [
      `<h1>${escapeHtml(fill(s.low && s.reopened ? t.thanksLow! : t.thanks!, ticket.number))}</h1>`,
      `<p>${escapeHtml(fill(t.recorded!, ticket.number, recorded))}</p>`,
      ...(!opts.first && opts.claimed !== undefined && opts.claimed !== s.score ? [`<p>${escapeHtml(t.already!)}</p>`] : []),
      ...(commentOpen(s, deps.clock.now(), settings) ? [commentForm(lang)] : []),
    ];
    return page(200, lang, fill(t.title!, ticket.number), lines.join(''));
  }

  function confirmPage(ticket: TicketRecord, claims: SurveyLinkClaims, lang: Lang): APIGatewayProxyStructuredResultV2 {
    const t = TEXT[lang];
    return page(200, lang, fill(t.title!, ticket.number),
      `<h1>${escapeHtml(fill(t.title!, ticket.number))}</h1><p>${escapeHtml(t.yours!)}:</p><p class="score">${escapeHtml(scoreText(lang, claims.scale, claims.score))}</p>`
      + `<form method="post"><input type="hidden" name="action" value="answer"><button type="submit">${escapeHtml(t.submit!)}</button></form>`);
  }

  const closedPage = (reason: string, lang: Lang) => message(410, lang, reason === 'expired' ? 'expired' : 'closed');

  async function isCurrent(ticket: TicketRecord): Promise<boolean> {
    const c = await getCustomer(db, ticket.customer_id);
    return !!c && c.current_ticket_id === ticket.id && !c.merged_into && !c.erased_at;
  }

  const events = (ticket: TicketRecord, now: number, type: string, timeline: Record<string, unknown>, feed: Record<string, unknown> = timeline): { t: EventEntry; f: FeedEvent } => ({
    t: { type: 'event', id: ulid(now), ticket_id: ticket.id, at: now, event: type, data: timeline },
    f: { id: ulid(now), type, at: now, ticket_id: ticket.id, customer_id: ticket.customer_id, data: feed },
  });

  async function answer(claims: SurveyLinkClaims): Promise<APIGatewayProxyStructuredResultV2> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const ticket = await getTicket(db, claims.ticket_id);
      const lang = langOf((surveyOf(ticket?.survey) as { language?: unknown } | null)?.language);
      const now = deps.clock.now();
      const probe = classifyLinkAnswer(ticket, claims, now, settings, true);
      if (probe.kind === 'closed') return closedPage(probe.reason, lang);
      if (probe.kind === 'answered') return thanksPage(ticket!, lang, { first: false, claimed: claims.score });
      const t = ticket!;
      // Only a reopen needs to know whether the ticket is still the customer's current one.
      const d = probe.reopen ? classifyLinkAnswer(t, claims, now, settings, await isCurrent(t)) : probe;
      if (d.kind !== 'answer') continue;
      const s = surveyOf(t.survey)!;
      const data = { round: s.round, scale: d.scale, score: d.score, low: d.low, reopened: d.reopen, comment: false, via: 'link' };
      const answered = events(t, now, 'survey.answered', data, { ...data, channel: t.channel });
      const list = [answered];
      const priority = raisePriority(t.priority, 1);
      if (d.reopen) {
        list.push(events(t, now, 'ticket.reopened', { reason: 'survey_low_score', score: d.score }, { channel: t.channel, reason: 'survey_low_score' }));
        list.push(events(t, now, 'ticket.priority_changed', { from: t.priority, to: priority, reason: 'survey_low_score' }));
      }
      const r = await commitSurveyLinkAnswer(db, {
        ticket: t, now,
        plan: {
          action: 'survey', ticketId: t.id, round: s.round, expectState: 'sent',
          surveySet: {
            state: 'answered', score: d.score, answered_at: now, comment: null, low: d.low, reopened: d.reopen, followup: 'pending', answered_via: 'link',
            ...(d.reopen ? { raised_from: t.priority } : {}),
          },
          ...(d.reopen ? { reopen: { priority, from: t.priority } } : {}),
        },
        timeline: list.map((e) => e.t),
        // The priority change is a feed event only, as on the inbound path (process.ts).
        feed: list.map((e) => e.f),
      });
      if (r === 'conflict') continue;
      log.info('survey answered by link', { ticket_id: t.id, round: s.round, score: d.score, reopened: d.reopen });
      return thanksPage((await getTicket(db, t.id)) ?? t, lang, { first: true });
    }
    throw new SurveyLinkError('gave up after repeated write conflicts', { cause: { ticket_id: claims.ticket_id, round: claims.round, stage: 'answer', attempts: MAX_ATTEMPTS } });
  }

  async function comment(claims: SurveyLinkClaims, text: string): Promise<APIGatewayProxyStructuredResultV2> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const ticket = await getTicket(db, claims.ticket_id);
      const s = surveyOf(ticket?.survey);
      const lang = langOf((s as { language?: unknown } | null)?.language);
      if (!ticket || ticket.status === 'merged' || !s || s.round !== claims.round || s.scale !== claims.scale) return closedPage('stale', lang);
      const now = deps.clock.now();
      if (s.state !== 'answered') return closedPage(s.state === 'expired' ? 'expired' : 'closed', lang);
      if (!commentOpen(s, now, settings)) return message(409, lang, 'commentClosed');
      // Attached like a typed comment (process.ts): the survey's `comment`, a `survey.commented`
      // event — the text itself only on the survey, never in events or logs.
      const ev = events(ticket, now, 'survey.commented', { round: s.round, via: 'link' });
      const r = await commitSurveyLinkAnswer(db, {
        ticket, now,
        plan: {
          action: 'survey', ticketId: ticket.id, round: s.round, expectState: 'answered', requireNoComment: true,
          surveySet: { comment: text, commented_at: now },
          // After a low score the ticket is open again: the comment still belongs to the survey.
          statuses: ['resolved', 'closed', 'open', 'pending_customer', 'on_hold', 'new'],
        },
        timeline: [ev.t], feed: [ev.f],
      });
      if (r === 'conflict') continue;
      log.info('survey commented by link', { ticket_id: ticket.id, round: s.round });
      return message(200, lang, 'commentThanks');
    }
    throw new SurveyLinkError('gave up after repeated write conflicts', { cause: { ticket_id: claims.ticket_id, round: claims.round, stage: 'comment', attempts: MAX_ATTEMPTS } });
  }

  return async function surveyLink(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const method = event.requestContext.http.method.toUpperCase();
    const token = event.pathParameters?.token ?? PATH.exec(event.rawPath)?.[1];
    if (!deps.secret || !token) return message(404, 'en', 'notFound');
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      const refused = message(405, 'en', 'notFound');
      return { ...refused, headers: { ...refused.headers, allow: 'GET, POST' } };
    }
    try {
      const check = verifySurveyToken(token, deps.secret, deps.clock.now());
      if (!check.ok && check.reason === 'forged') {
        log.warn('survey link refused', { reason: 'forged' });
        return message(403, 'en', 'forged');
      }
      const claims = check.ok ? check.claims : check.claims;
      if (!check.ok) {
        const s = surveyOf((await getTicket(db, claims.ticket_id))?.survey);
        return closedPage('expired', langOf((s as { language?: unknown } | null)?.language));
      }
      if (method === 'GET' || method === 'HEAD') {
        // Read only: a prefetching scanner changes nothing.
        const ticket = await getTicket(db, claims.ticket_id);
        const lang = langOf((surveyOf(ticket?.survey) as { language?: unknown } | null)?.language);
        const d = classifyLinkAnswer(ticket, claims, deps.clock.now(), settings, true);
        if (d.kind === 'closed') return closedPage(d.reason, lang);
        if (d.kind === 'answered') return thanksPage(ticket!, lang, { first: false, claimed: claims.score });
        return confirmPage(ticket!, claims, lang);
      }
      const raw = rawBody(event);
      if (raw.length > MAX_FORM_BYTES) return message(413, 'en', 'tooBig');
      const type = lowerCaseHeaders(event.headers)['content-type'] ?? '';
      const form = type.startsWith('application/x-www-form-urlencoded') || type === '' ? new URLSearchParams(raw.toString('utf8')) : new URLSearchParams();
      if (form.get('action') === 'comment') {
        const text = (form.get('comment') ?? '').replace(/\r\n?/g, '\n').trim();
        if (text === '') return message(400, 'en', 'empty');
        if ([...text].length > MAX_COMMENT) return message(413, 'en', 'tooBig');
        return await comment(claims, text);
      }
      return await answer(claims);
    } catch (e) {
      log.error('survey link failed', { method, ...errorFacts(e) });
      return page(500, 'en', 'Error', '<p>Something went wrong. Please try again later.</p>');
    }
  };
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeSurveyLink({ db: platform.db(config), clock: platform.clock, settings: surveySettingsFrom(config), secret: config.CONFLUO_SURVEY_LINK_SECRET });
});
