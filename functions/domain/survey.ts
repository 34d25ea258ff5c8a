/**
 * Close the loop (DESIGN.md §2): after a ticket is resolved, ask the customer on their channel how
 * we did (CSAT 1–5 by default, NPS 0–10 as an option), remind once, record the answer and comment,
 * and on a low score reopen the ticket with raised priority and alert the team lead. Pure: the
 * survey record, the settings, the texts, score parsing and what each workflow wake-up does.
 *
 * The survey lives on the ticket item (`ticket.survey`), the item the process λ already reads on
 * the path a message to a resolved ticket takes — so recognising an answer costs no extra read.
 * Its shape is what kpi.ts (`score`, `scale`) and export-schema.ts (`sent_at`, `reminded_at`,
 * `answered_at`, `comment`) read. Times are epoch ms.
 */
import { baseLanguage } from './acknowledgement.js';
import { renderNotificationEmail, type RawEmailRequest } from './sla/notify.js';
import type { TicketStatus } from './ticket.js';

export type SurveyScale = 'csat' | 'nps';
/**
 * `skipped`: the question was never sent because the channel's messaging window had closed
 * (`skipped_reason: 'window_closed'`; WhatsApp/Messenger/Instagram accept free-form text only
 * within 24 h of the customer's last message — channels.md §2–4).
 */
export type SurveyState = 'scheduled' | 'sent' | 'answered' | 'expired' | 'cancelled' | 'skipped';

/** `ticket.survey`: one record per ticket, replaced by the next resolution's survey (round + 1). */
export interface SurveyRecord {
  /** 1 for the first resolution's survey, +1 for each later one; names the workflow execution. */
  readonly round: number;
  readonly state: SurveyState;
  readonly scale: SurveyScale;
  /** The resolution this survey follows. */
  readonly resolved_at: number;
  /** When the question is due (resolution + delay). */
  readonly ask_at: number;
  readonly sent_at: number | null;
  readonly reminded_at: number | null;
  /** After this an answer is no longer expected (sent_at + expiry). */
  readonly expires_at: number | null;
  readonly answered_at: number | null;
  readonly score: number | null;
  readonly comment: string | null;
  /** The answer was at or under the low-score threshold. */
  readonly low: boolean | null;
  /** Whether the low score reopened the ticket (not for a closed ticket). */
  readonly reopened?: boolean;
  /** After an answer: the thank-you message and the team-lead alert are still to be done. */
  readonly followup: 'pending' | 'done' | null;
  readonly cancelled_reason?: 'reopened' | 'merged' | 'disabled';
  /** Why the question was not sent (state `skipped`). */
  readonly skipped_reason?: 'window_closed';
  /** The reminder was not sent (the window had closed by then); the survey still takes an answer. */
  readonly reminder_skipped?: 'window_closed';
}

export interface SurveySettings {
  readonly enabled: boolean;
  readonly scale: SurveyScale;
  readonly delayMs: number;
  readonly reminderMs: number;
  /** How long after asking an answer is accepted. */
  readonly expiryMs: number;
  /** How long after an answer a free-text message is taken as the survey comment. */
  readonly commentWindowMs: number;
  /** Scores at or below these are low (recovery). */
  readonly lowCsat: number;
  readonly lowNps: number;
}

export const DEFAULT_SURVEY_SETTINGS: SurveySettings = {
  enabled: true, scale: 'csat', delayMs: 3_600_000, reminderMs: 24 * 3_600_000, expiryMs: 72 * 3_600_000,
  commentWindowMs: 3_600_000, lowCsat: 2, lowNps: 6,
};

/** The survey settings of the configuration (values validated by config.ts). */
export function surveySettingsFrom(config: Readonly<Record<string, string | undefined>>): SurveySettings {
  const num = (k: string, d: number) => (config[k] !== undefined && config[k] !== '' ? Number(config[k]) : d);
  const mode = config.CONFLUO_SURVEY ?? 'csat';
  return {
    enabled: mode !== 'off',
    scale: mode === 'nps' ? 'nps' : 'csat',
    delayMs: num('CONFLUO_SURVEY_DELAY_MINUTES', 60) * 60_000,
    reminderMs: num('CONFLUO_SURVEY_REMINDER_HOURS', 24) * 3_600_000,
    expiryMs: num('CONFLUO_SURVEY_EXPIRY_HOURS', 72) * 3_600_000,
    commentWindowMs: num('CONFLUO_SURVEY_COMMENT_MINUTES', 60) * 60_000,
    lowCsat: num('CONFLUO_SURVEY_LOW_CSAT', 2),
    lowNps: num('CONFLUO_SURVEY_LOW_NPS', 6),
  };
}

export const SCALE_RANGE: Readonly<Record<SurveyScale, readonly [number, number]>> = { csat: [1, 5], nps: [0, 10] };

export function inRange(scale: SurveyScale, score: number): boolean {
  const [min, max] = SCALE_RANGE[scale];
  return Number.isInteger(score) && score >= min && score <= max;
}

export function isLowScore(scale: SurveyScale, score: number, settings: Pick<SurveySettings, 'lowCsat' | 'lowNps'>): boolean {
  return score <= (scale === 'nps' ? settings.lowNps : settings.lowCsat);
}

/** A stored `ticket.survey` read back (older or foreign shapes → null). */
export function surveyOf(v: unknown): SurveyRecord | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Partial<SurveyRecord>;
  if (typeof s.round !== 'number' || typeof s.state !== 'string') return null;
  return s as SurveyRecord;
}

/** The survey of a new resolution (round after the previous one). */
export function scheduleSurvey(previous: SurveyRecord | null, resolvedAt: number, settings: SurveySettings): SurveyRecord {
  return {
    round: (previous?.round ?? 0) + 1, state: 'scheduled', scale: settings.scale, resolved_at: resolvedAt,
    ask_at: resolvedAt + settings.delayMs, sent_at: null, reminded_at: null, expires_at: null, answered_at: null,
    score: null, comment: null, low: null, followup: null,
  };
}

/** Does this resolution still need a survey? (A redelivered event finds it scheduled already.) */
export function needsSurvey(previous: SurveyRecord | null, resolvedAt: number): boolean {
  return previous === null || previous.resolved_at !== resolvedAt;
}

// ---------------------------------------------------------------------------------------------
// Buttons and score parsing

/** Button payloads: `csat:5`, `nps:10` (≤ 64 bytes: Telegram callback_data). */
export const scorePayload = (scale: SurveyScale, score: number) => `${scale}:${score}`;

export function scoreButtons(scale: SurveyScale): Array<{ label: string; payload: string }> {
  const [min, max] = SCALE_RANGE[scale];
  const out: Array<{ label: string; payload: string }> = [];
  for (let n = min; n <= max; n++) out.push({ label: scale === 'csat' ? `${n} ★` : String(n), payload: scorePayload(scale, n) });
  return out;
}

/**
 * A button press of ours: `csat:5`, `nps:9`; VK echoes payloads as JSON text — `"csat:5"` (a
 * string literal, quotes included) or `{"survey":"csat","score":5}`.
 */
export function scoreFromPayload(payload: string): { scale: SurveyScale; score: number } | null {
  if (/^"[a-z]+:\d{1,2}"$/.test(payload.trim())) return scoreFromPayload(payload.trim().slice(1, -1));
  const m = /^(csat|nps):(\d{1,2})$/.exec(payload.trim());
  if (m) return inRange(m[1] as SurveyScale, Number(m[2])) ? { scale: m[1] as SurveyScale, score: Number(m[2]) } : null;
  if (payload.trim().startsWith('{')) {
    try {
      const j = JSON.parse(payload) as { survey?: unknown; score?: unknown };
      if ((j.survey === 'csat' || j.survey === 'nps') && typeof j.score === 'number' && inRange(j.survey, j.score)) return { scale: j.survey, score: j.score };
    } catch { /* not ours */ }
  }
  return null;
}

/** Number words of the supported languages (a whole message, e.g. "пять", "five", "pięć"). */
const WORDS: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  'ноль': 0, 'один': 1, 'одна': 1, 'единица': 1, 'два': 2, 'двойка': 2, 'три': 3, 'тройка': 3, 'четыре': 4, 'четверка': 4, 'четвёрка': 4,
  'пять': 5, 'пятерка': 5, 'пятёрка': 5, 'шесть': 6, 'семь': 7, 'восемь': 8, 'девять': 9, 'десять': 10,
  jeden: 1, jedna: 1, dwa: 2, trzy: 3, cztery: 4, 'pięć': 5, piec: 5, 'sześć': 6, szesc: 6, siedem: 7, osiem: 8,
  'dziewięć': 9, dziewiec: 9, 'dziesięć': 10, dziesiec: 10,
};

/**
 * A typed score: the whole message is a number ("5", "5/5", "5 из 5", "4 stars", "★★★★",
 * "пять"), or a number followed by punctuation or a line break and a comment ("5. Great help",
 * "2 - too slow"). "3 items are missing" is NOT a score: a number followed by words is a message.
 */
export function scoreFromText(text: string, scale: SurveyScale): { score: number; comment: string | null } | null {
  const t = text.normalize('NFC').trim();
  if (t === '') return null;
  const stars = /^[⭐★]{1,5}$/u.exec(t.replace(/\uFE0F/g, ''));
  if (stars && scale === 'csat') return { score: [...t.replace(/\uFE0F/g, '')].length, comment: null };
  const word = /^([\p{L}]+)[\s.!]*$/u.exec(t);
  if (word) {
    const n = WORDS[word[1]!.toLowerCase()];
    return n !== undefined && inRange(scale, n) ? { score: n, comment: null } : null;
  }
  const m = /^(\d{1,2})(?:\s*(?:\/\s*(?:5|10)|(?:из|na|of|out of|z)\s+(?:5|10)|(?:stars?|звезд[аы]?|звёзд[аы]?|gwiazd(?:ka|ki|ek)?|★|⭐)))?\s*(?:$|[\r\n]+|[.,;:!)\u2013\u2014-]+\s*)([\s\S]*)$/u.exec(t);
  if (!m) return null;
  const n = Number(m[1]);
  if (!inRange(scale, n)) return null;
  const comment = m[2]!.trim();
  return { score: n, comment: comment === '' ? null : comment };
}

/** The score a message gives (a button payload of the survey's scale wins over its text). */
export function parseScore(msg: { readonly text: string; readonly interaction: { readonly payload: string } | null }, scale: SurveyScale): { score: number; comment: string | null; pressed: boolean } | null {
  if (msg.interaction) {
    const p = scoreFromPayload(msg.interaction.payload);
    if (p) return p.scale === scale ? { score: p.score, comment: null, pressed: true } : null;
  }
  const typed = scoreFromText(msg.text, scale);
  return typed ? { ...typed, pressed: false } : null;
}

// ---------------------------------------------------------------------------------------------
// What an inbound message on a surveyed ticket is

export type SurveyReply =
  /** A score within the window: recorded, not a new ticket, not a reopen. */
  | { readonly kind: 'answer'; readonly scale: SurveyScale; readonly score: number; readonly comment: string | null; readonly low: boolean; readonly reopen: boolean }
  /** Free text shortly after the answer: attached to the survey as its comment. */
  | { readonly kind: 'comment'; readonly comment: string }
  /** A press of a survey button that no longer counts (answered, expired): kept on the timeline only. */
  | { readonly kind: 'stale-press' }
  /** Anything else: a normal message (which reopens a resolved ticket and cancels the survey). */
  | { readonly kind: 'message' };

/**
 * `msg.authenticated` false (an e-mail that failed DMARC, `senderAuthenticated`): never an answer
 * or a comment — whoever forged the customer's address must not score the ticket (a low score
 * reopens it and alerts the team lead). E-mail customers of unauthenticated domains answer
 * through the survey's signed links instead.
 */
export function classifyReply(
  ticket: { readonly status: TicketStatus; readonly survey: unknown },
  msg: { readonly text: string; readonly interaction: { readonly payload: string } | null; readonly attachments?: readonly unknown[]; readonly authenticated?: boolean },
  now: number,
  settings: SurveySettings,
): SurveyReply {
  const s = surveyOf(ticket.survey);
  if (!s || (ticket.status !== 'resolved' && ticket.status !== 'closed')) return { kind: 'message' };
  if (msg.authenticated === false) return { kind: 'message' };
  if (s.state === 'sent' && s.expires_at !== null && now <= s.expires_at) {
    const parsed = parseScore(msg, s.scale);
    if (parsed) {
      const low = isLowScore(s.scale, parsed.score, settings);
      return { kind: 'answer', scale: s.scale, score: parsed.score, comment: parsed.comment, low, reopen: low && ticket.status === 'resolved' };
    }
    return { kind: 'message' };
  }
  const pressed = msg.interaction ? scoreFromPayload(msg.interaction.payload) : null;
  if (pressed && (s.state === 'answered' || s.state === 'expired')) return { kind: 'stale-press' };
  if (s.state === 'answered' && ticket.status === 'resolved' && s.comment === null && s.answered_at !== null
    && now <= s.answered_at + settings.commentWindowMs && msg.text.trim() !== '' && !(msg.attachments?.length)) {
    return { kind: 'comment', comment: msg.text.trim() };
  }
  return { kind: 'message' };
}

// ---------------------------------------------------------------------------------------------
// A score link of a survey e-mail (functions/handlers/survey-link.ts)

/** The link's answer, decided like a typed or pressed score (`classifyReply`). */
export type LinkAnswer =
  /** Recorded now: the same fields and events as a typed score; a low score reopens the ticket. */
  | { readonly kind: 'answer'; readonly scale: SurveyScale; readonly score: number; readonly low: boolean; readonly reopen: boolean }
  /**
   * The round is answered already (by this link, another link, a button or a typed number): the
   * first answer stands and nothing changes — the rule for a late button press (`stale-press`).
   */
  | { readonly kind: 'answered'; readonly score: number | null; readonly commentOpen: boolean }
  /** Nothing to answer any more: another round, expired, cancelled (the customer wrote again), skipped, no ticket. */
  | { readonly kind: 'closed'; readonly reason: 'missing' | 'stale' | 'expired' | 'cancelled' | 'skipped' };

/** Whether a free-text comment is still taken for an answered survey (within the comment window, none yet). */
export function commentOpen(s: SurveyRecord, now: number, settings: Pick<SurveySettings, 'commentWindowMs'>): boolean {
  return s.state === 'answered' && s.comment === null && s.answered_at !== null && now <= s.answered_at + settings.commentWindowMs;
}

/**
 * What a click-through of a score link does (`current`: the ticket is still its customer's
 * current ticket — only then may a low score reopen it, as one active ticket per customer holds;
 * otherwise the score is recorded and the team lead alerted, as for a closed ticket).
 */
export function classifyLinkAnswer(
  ticket: { readonly status: TicketStatus; readonly survey: unknown } | undefined,
  claims: { readonly round: number; readonly scale: SurveyScale; readonly score: number },
  now: number,
  settings: SurveySettings,
  current: boolean,
): LinkAnswer {
  if (!ticket || ticket.status === 'merged') return { kind: 'closed', reason: 'missing' };
  const s = surveyOf(ticket.survey);
  if (!s || s.round !== claims.round || s.scale !== claims.scale) return { kind: 'closed', reason: 'stale' };
  if (s.state === 'answered') return { kind: 'answered', score: s.score, commentOpen: commentOpen(s, now, settings) };
  if (s.state === 'sent') {
    if (s.expires_at !== null && now > s.expires_at) return { kind: 'closed', reason: 'expired' };
    // Reopened by a message or an agent: the survey is being cancelled (its next wake-up does it).
    if (ticket.status !== 'resolved' && ticket.status !== 'closed') return { kind: 'closed', reason: 'cancelled' };
    const low = isLowScore(s.scale, claims.score, settings);
    return { kind: 'answer', scale: s.scale, score: claims.score, low, reopen: low && ticket.status === 'resolved' && current };
  }
  return { kind: 'closed', reason: s.state === 'expired' ? 'expired' : s.state === 'skipped' ? 'skipped' : s.state === 'scheduled' ? 'stale' : 'cancelled' };
}

// ---------------------------------------------------------------------------------------------
// The workflow step: what a wake-up does

export type SurveyStep =
  | { readonly kind: 'done'; readonly reason: 'stale' | 'missing' | 'finished' }
  | { readonly kind: 'cancel'; readonly reason: 'reopened' | 'merged' | 'disabled' }
  | { readonly kind: 'wait'; readonly at: number }
  | { readonly kind: 'ask'; readonly expires_at: number; readonly next_at: number }
  | { readonly kind: 'remind'; readonly next_at: number }
  | { readonly kind: 'expire' }
  | { readonly kind: 'follow-up' };

/**
 * Decide one wake-up of the survey execution `round` (pure). A stale wake-up — another round, a
 * survey already finished, a time not yet come — does nothing but wait or end, so executions
 * never race: the ticket's survey record is the only state and every write is conditional on it.
 */
export function decideSurveyStep(
  ticket: { readonly status: TicketStatus; readonly survey: unknown } | undefined,
  round: number,
  now: number,
  settings: SurveySettings,
): SurveyStep {
  if (!ticket) return { kind: 'done', reason: 'missing' };
  const s = surveyOf(ticket.survey);
  if (!s || s.round !== round) return { kind: 'done', reason: 'stale' };
  const surveyable = ticket.status === 'resolved' || ticket.status === 'closed';
  switch (s.state) {
    case 'scheduled':
      if (ticket.status === 'merged') return { kind: 'cancel', reason: 'merged' };
      if (!surveyable) return { kind: 'cancel', reason: 'reopened' };
      if (!settings.enabled) return { kind: 'cancel', reason: 'disabled' };
      if (now < s.ask_at) return { kind: 'wait', at: s.ask_at };
      return { kind: 'ask', expires_at: now + settings.expiryMs, next_at: Math.min(now + settings.reminderMs, now + settings.expiryMs) };
    case 'sent': {
      if (ticket.status === 'merged') return { kind: 'cancel', reason: 'merged' };
      if (!surveyable) return { kind: 'cancel', reason: 'reopened' };
      const expires = s.expires_at ?? (s.sent_at ?? now) + settings.expiryMs;
      if (now >= expires) return { kind: 'expire' };
      if (s.reminded_at === null && !s.reminder_skipped) {
        const remindAt = (s.sent_at ?? now) + settings.reminderMs;
        if (now >= remindAt) return { kind: 'remind', next_at: expires };
        return { kind: 'wait', at: Math.min(remindAt, expires) };
      }
      return { kind: 'wait', at: expires };
    }
    case 'answered':
      return s.followup === 'pending' ? { kind: 'follow-up' } : { kind: 'done', reason: 'finished' };
    default:
      return { kind: 'done', reason: 'finished' };
  }
}

// ---------------------------------------------------------------------------------------------
// Texts

export interface SurveyTemplate {
  readonly question: Readonly<Record<SurveyScale, string>>;
  readonly reminder: Readonly<Record<SurveyScale, string>>;
  /** Appended where the channel has no buttons (SMS, e-mail, web chat). */
  readonly reply_hint: string;
  readonly thanks: string;
  readonly thanks_low: string;
}
export type SurveyTemplates = Readonly<Record<string, SurveyTemplate>>;

/** The variables survey texts may use (anything else is refused when templates are saved). */
export const SURVEY_TEMPLATE_VARIABLES = ['ticket.number', 'min', 'max'] as const;
const SURVEY_VARIABLE = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** What is wrong with one survey text (empty: nothing). */
export function surveyTextProblems(text: string): string[] {
  const problems: string[] = [];
  for (const m of text.matchAll(SURVEY_VARIABLE)) {
    if (!(SURVEY_TEMPLATE_VARIABLES as readonly string[]).includes(m[1]!)) {
      problems.push(`unknown variable {{${m[1]}}} (known: ${SURVEY_TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')})`);
    }
  }
  if (/\{\{|\}\}/.test(text.replace(SURVEY_VARIABLE, ''))) problems.push("unbalanced '{{' or '}}': write variables as {{ticket.number}}");
  return problems;
}

/**
 * What is wrong with survey texts (empty: nothing): an unknown `{{variable}}` or a stray `{{`/`}}`,
 * named by language and field (`ru.question.csat: unknown variable {{customer.name}}`).
 */
export function surveyTemplateProblems(templates: SurveyTemplates): string[] {
  const problems: string[] = [];
  const check = (where: string, text: string) => { for (const p of surveyTextProblems(text)) problems.push(`${where}: ${p}`); };
  for (const [lang, t] of Object.entries(templates)) {
    for (const scale of ['csat', 'nps'] as const) {
      check(`${lang}.question.${scale}`, t.question[scale]);
      check(`${lang}.reminder.${scale}`, t.reminder[scale]);
    }
    for (const k of ['reply_hint', 'thanks', 'thanks_low'] as const) check(`${lang}.${k}`, t[k]);
  }
  return problems;
}

/** Variables: `{{ticket.number}}`, `{{min}}`, `{{max}}`. */
export const DEFAULT_SURVEY_TEMPLATES: SurveyTemplates = {
  en: {
    question: {
      csat: 'Your request {{ticket.number}} has been resolved. How satisfied are you with our help, from 1 (very dissatisfied) to 5 (very satisfied)?',
      nps: 'Your request {{ticket.number}} has been resolved. How likely are you to recommend us to a friend or colleague, from 0 (not at all) to 10 (extremely likely)?',
    },
    reminder: {
      csat: 'A quick reminder about request {{ticket.number}}: how satisfied are you with our help, from 1 to 5? Your answer helps us improve.',
      nps: 'A quick reminder about request {{ticket.number}}: how likely are you to recommend us, from 0 to 10? Your answer helps us improve.',
    },
    reply_hint: 'Reply with a number from {{min}} to {{max}}.',
    thanks: 'Thank you for rating request {{ticket.number}}! If you would like to add a comment, just reply to this message.',
    thanks_low: 'Thank you for your feedback on request {{ticket.number}}. We are sorry we fell short: we have reopened your request and a team lead will get back to you.',
  },
  ru: {
    question: {
      csat: 'Ваш запрос {{ticket.number}} решён. Насколько вы довольны нашей помощью — от 1 (совсем недоволен) до 5 (очень доволен)?',
      nps: 'Ваш запрос {{ticket.number}} решён. Насколько вероятно, что вы порекомендуете нас другу или коллеге, — от 0 (точно нет) до 10 (обязательно)?',
    },
    reminder: {
      csat: 'Напоминаем о запросе {{ticket.number}}: насколько вы довольны нашей помощью, от 1 до 5? Ваш ответ помогает нам стать лучше.',
      nps: 'Напоминаем о запросе {{ticket.number}}: насколько вероятно, что вы нас порекомендуете, от 0 до 10? Ваш ответ помогает нам стать лучше.',
    },
    reply_hint: 'Ответьте числом от {{min}} до {{max}}.',
    thanks: 'Спасибо за оценку запроса {{ticket.number}}! Если хотите добавить комментарий, просто ответьте на это сообщение.',
    thanks_low: 'Спасибо за отзыв о запросе {{ticket.number}}. Нам жаль, что мы не оправдали ожиданий: мы снова открыли ваш запрос, и руководитель группы свяжется с вами.',
  },
  pl: {
    question: {
      csat: 'Twoje zgłoszenie {{ticket.number}} zostało rozwiązane. Jak bardzo jesteś zadowolony z naszej pomocy — od 1 (bardzo niezadowolony) do 5 (bardzo zadowolony)?',
      nps: 'Twoje zgłoszenie {{ticket.number}} zostało rozwiązane. Jak bardzo prawdopodobne jest, że polecisz nas znajomemu — od 0 (wcale) do 10 (na pewno)?',
    },
    reminder: {
      csat: 'Przypominamy o zgłoszeniu {{ticket.number}}: jak oceniasz naszą pomoc w skali od 1 do 5? Twoja odpowiedź pomaga nam być lepszymi.',
      nps: 'Przypominamy o zgłoszeniu {{ticket.number}}: jak bardzo prawdopodobne jest, że nas polecisz, w skali od 0 do 10? Twoja odpowiedź pomaga nam być lepszymi.',
    },
    reply_hint: 'Odpowiedz liczbą od {{min}} do {{max}}.',
    thanks: 'Dziękujemy za ocenę zgłoszenia {{ticket.number}}! Jeśli chcesz dodać komentarz, po prostu odpowiedz na tę wiadomość.',
    thanks_low: 'Dziękujemy za opinię o zgłoszeniu {{ticket.number}}. Przykro nam, że nie spełniliśmy oczekiwań: ponownie otworzyliśmy Twoje zgłoszenie i kierownik zespołu się z Tobą skontaktuje.',
  },
};

export type SurveyMessageKind = 'question' | 'reminder' | 'thanks' | 'thanks_low';

/** The language we have texts for (`pt-BR` → `pt` → en when missing). */
export function surveyLanguage(language: string | undefined, templates: SurveyTemplates = DEFAULT_SURVEY_TEMPLATES): string {
  const base = baseLanguage(language);
  return templates[base] ? base : 'en';
}

/**
 * A survey message: its text in the customer's language with the ticket number, and the score
 * buttons for the question and the reminder. `buttons: false` (SMS, e-mail, web chat) asks for a
 * typed number instead.
 */
export function renderSurveyMessage(args: {
  readonly kind: SurveyMessageKind; readonly scale: SurveyScale; readonly ticketNumber: string;
  readonly language?: string | undefined; readonly buttons: boolean; readonly templates?: SurveyTemplates;
  /**
   * E-mail: one signed link per score (functions/domain/survey-token.ts), listed under the
   * question; the "reply with a number" hint stays (a typed answer still counts).
   */
  readonly links?: ReadonlyArray<{ readonly score: number; readonly url: string }>;
}): { text: string; language: string; buttons?: Array<{ label: string; payload: string }> } {
  const templates = args.templates ?? DEFAULT_SURVEY_TEMPLATES;
  const language = surveyLanguage(args.language, templates);
  const t = templates[language] ?? DEFAULT_SURVEY_TEMPLATES.en!;
  const [min, max] = SCALE_RANGE[args.scale];
  const values: Readonly<Record<string, string>> = { 'ticket.number': args.ticketNumber, min: String(min), max: String(max) };
  const fill = (s: string) => s.replace(SURVEY_VARIABLE, (whole, name: string) => values[name] ?? whole);
  if (args.kind === 'thanks' || args.kind === 'thanks_low') return { text: fill(t[args.kind]), language };
  const body = fill(args.kind === 'question' ? t.question[args.scale] : t.reminder[args.scale]);
  if (args.buttons) return { text: body, language, buttons: scoreButtons(args.scale) };
  if (args.links?.length) {
    const label = (n: number) => (args.scale === 'csat' ? `${n} ${'★'.repeat(n)}${'☆'.repeat(max - n)}` : String(n).padStart(2, ' '));
    return { text: `${body}\n\n${args.links.map((l) => `${label(l.score)}  ${l.url}`).join('\n')}\n\n${fill(t.reply_hint)}`, language };
  }
  return { text: `${body}\n${fill(t.reply_hint)}`, language };
}

// ---------------------------------------------------------------------------------------------
// The team-lead alert on a low score

/** The alert e-mail on a low score: ticket number and id, scale, score, what was done — no customer data, no comment text. */
export function renderLowScoreAlert(args: {
  readonly from: string; readonly to: string; readonly at: number;
  readonly ticket: { readonly id: string; readonly number: string; readonly priority: string };
  readonly survey: Pick<SurveyRecord, 'round' | 'scale' | 'score' | 'reopened' | 'comment'>;
  readonly raisedFrom?: string | undefined;
}): RawEmailRequest {
  const { ticket, survey } = args;
  const [, max] = SCALE_RANGE[survey.scale];
  const lines = [
    `Ticket ${ticket.number} (${ticket.id}) received a low ${survey.scale.toUpperCase()} score: ${survey.score} of ${max}.`,
    '',
    survey.reopened ? 'The ticket was reopened.' : 'The ticket was not reopened (it is closed).',
    args.raisedFrom && args.raisedFrom !== ticket.priority ? `Priority raised: ${args.raisedFrom} -> ${ticket.priority}` : `Priority: ${ticket.priority}`,
    survey.comment ? 'The customer left a comment: see the ticket timeline.' : 'No comment yet.',
    '',
    'Sent by Confluo close-the-loop survey.',
  ];
  return renderNotificationEmail({
    from: args.from, to: args.to, at: args.at, messageId: `survey-${ticket.id}-${survey.round}`, ticketId: ticket.id, lines,
    subject: `[${ticket.number}] Low ${survey.scale.toUpperCase()} score: ${survey.score} of ${max}`,
  });
}

// ---------------------------------------------------------------------------------------------
// The API shape

const SURVEY_TIMES = ['ask_at', 'sent_at', 'reminded_at', 'expires_at', 'answered_at'] as const;

/**
 * `ticket.survey` as the Agent API shows it (DESIGN.md §3: `{sent_at, score, scale, comment,
 * reminded_at}`, ISO times): the state and answer, without the workflow's bookkeeping.
 */
export function surveyView(v: unknown): Record<string, unknown> | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Record<string, unknown>;
  const iso = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? new Date(x).toISOString() : null);
  const out: Record<string, unknown> = {
    round: typeof s.round === 'number' ? s.round : null,
    state: typeof s.state === 'string' ? s.state : (typeof s.score === 'number' ? 'answered' : null),
    scale: s.scale === 'nps' ? 'nps' : 'csat',
    score: typeof s.score === 'number' ? s.score : null,
    comment: typeof s.comment === 'string' ? s.comment : null,
    low: typeof s.low === 'boolean' ? s.low : null,
    reopened: s.reopened === true,
  };
  for (const k of SURVEY_TIMES) out[k] = iso(s[k]);
  if (typeof s.channel === 'string') out.channel = s.channel;
  if (typeof s.cancelled_reason === 'string') out.cancelled_reason = s.cancelled_reason;
  if (typeof s.skipped_reason === 'string') out.skipped_reason = s.skipped_reason;
  if (typeof s.reminder_skipped === 'string') out.reminder_skipped = s.reminder_skipped;
  return out;
}
