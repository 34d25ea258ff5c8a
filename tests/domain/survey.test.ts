import { describe, expect, it } from 'vitest';
import {
  classifyLinkAnswer, classifyReply, decideSurveyStep, DEFAULT_SURVEY_SETTINGS, DEFAULT_SURVEY_TEMPLATES, surveyTemplateProblems, isLowScore, needsSurvey, parseScore, renderLowScoreAlert, renderSurveyMessage,
  scheduleSurvey, scoreButtons, scoreFromPayload, scoreFromText, surveySettingsFrom, surveyView, type SurveyRecord,
} from '../../functions/domain/survey.js';
import { surveyScore } from '../../functions/domain/kpi.js';
import { surveyRow } from '../../functions/domain/export-schema.js';
import { loadConfig } from '../../functions/runtime/config.js';

const H = 3_600_000;
const S = DEFAULT_SURVEY_SETTINGS;
const T0 = Date.UTC(2026, 10, 2, 9);
const sent = (over: Partial<SurveyRecord> = {}): SurveyRecord => ({
  ...scheduleSurvey(null, T0, S), state: 'sent', sent_at: T0 + H, expires_at: T0 + H + S.expiryMs, ...over,
});
const msg = (text: string, payload?: string) => ({ text, interaction: payload ? { payload } : null, attachments: [] });

describe('score parsing', () => {
  it('reads button payloads of both scales, and VK\'s JSON echo', () => {
    expect(scoreFromPayload('csat:5')).toEqual({ scale: 'csat', score: 5 });
    expect(scoreFromPayload('nps:0')).toEqual({ scale: 'nps', score: 0 });
    expect(scoreFromPayload('{"survey":"csat","score":2}')).toEqual({ scale: 'csat', score: 2 });
    expect(scoreFromPayload('"csat:4"')).toEqual({ scale: 'csat', score: 4 }); // VK: a JSON string literal
    expect(scoreFromPayload('csat:6')).toBeNull();
    expect(scoreFromPayload('menu:help')).toBeNull();
    expect(scoreFromPayload('{"command":"start"}')).toBeNull();
  });

  it('reads bare numbers, "n/5" forms, stars and number words in en, ru and pl', () => {
    for (const [text, score] of [['5', 5], [' 4 ', 4], ['3/5', 3], ['4 из 5', 4], ['4 na 5', 4], ['2 out of 5', 2], ['5 stars', 5], ['⭐⭐⭐⭐', 4], ['five', 5], ['Пять', 5], ['пятёрка', 5], ['pięć', 5], ['dwa!', 2]] as const) {
      expect(scoreFromText(text, 'csat'), text).toEqual({ score, comment: null });
    }
    expect(scoreFromText('10', 'nps')).toEqual({ score: 10, comment: null });
    expect(scoreFromText('dziesięć', 'nps')).toEqual({ score: 10, comment: null });
    expect(scoreFromText('0', 'nps')).toEqual({ score: 0, comment: null });
  });

  it('takes a comment after the score when punctuation or a line break separates them', () => {
    expect(scoreFromText('5. Great help, thanks', 'csat')).toEqual({ score: 5, comment: 'Great help, thanks' });
    expect(scoreFromText('2 - too slow', 'csat')).toEqual({ score: 2, comment: 'too slow' });
    expect(scoreFromText('4\nОтветили быстро', 'csat')).toEqual({ score: 4, comment: 'Ответили быстро' });
  });

  it('does not take a sentence that starts with a number, out-of-scale numbers or other words as a score', () => {
    for (const text of ['3 items are missing', '5 minutes ago I wrote', 'six', 'hello', '', '0', '6', '12', 'one more question']) {
      expect(scoreFromText(text, 'csat'), text).toBeNull();
    }
    expect(scoreFromText('11', 'nps')).toBeNull();
    expect(scoreFromText('⭐⭐⭐', 'nps')).toBeNull();
  });

  it('prefers the button payload over the label text, and ignores a payload of the other scale', () => {
    expect(parseScore(msg('5 ★', 'csat:5'), 'csat')).toEqual({ score: 5, comment: null, pressed: true });
    expect(parseScore(msg('😞 Bad', 'csat:1'), 'csat')).toEqual({ score: 1, comment: null, pressed: true });
    expect(parseScore(msg('9', 'nps:9'), 'csat')).toBeNull();
    expect(parseScore(msg('4'), 'csat')).toEqual({ score: 4, comment: null, pressed: false });
  });
});

describe('low scores', () => {
  it('are CSAT ≤ 2 and NPS ≤ 6 by default, configurable', () => {
    expect([1, 2, 3, 4, 5].map((n) => isLowScore('csat', n, S))).toEqual([true, true, false, false, false]);
    expect([0, 6, 7, 9, 10].map((n) => isLowScore('nps', n, S))).toEqual([true, true, false, false, false]);
    const strict = surveySettingsFrom(loadConfig({ CONFLUO_SURVEY_LOW_CSAT: '3', CONFLUO_SURVEY_LOW_NPS: '4' }));
    expect(isLowScore('csat', 3, strict)).toBe(true);
    expect(isLowScore('nps', 5, strict)).toBe(false);
  });

  it('settings are validated at start', () => {
    expect(() => loadConfig({ CONFLUO_SURVEY: 'stars' })).toThrow(/CONFLUO_SURVEY: must be csat, nps or off/);
    expect(() => loadConfig({ CONFLUO_SURVEY_LOW_CSAT: '7' })).toThrow(/must be 0–5/);
    expect(() => loadConfig({ CONFLUO_SURVEY_EXPIRY_HOURS: '12' })).toThrow(/must be more than CONFLUO_SURVEY_REMINDER_HOURS/);
    expect(surveySettingsFrom(loadConfig({ CONFLUO_SURVEY: 'nps', CONFLUO_SURVEY_DELAY_MINUTES: '0' }))).toMatchObject({ enabled: true, scale: 'nps', delayMs: 0 });
    expect(surveySettingsFrom(loadConfig({ CONFLUO_SURVEY: 'off' })).enabled).toBe(false);
  });
});

describe('classifying a reply on a surveyed ticket', () => {
  const resolved = (survey: SurveyRecord | null) => ({ status: 'resolved' as const, survey });

  it('a score within the window is an answer; a low one reopens a resolved (not a closed) ticket', () => {
    expect(classifyReply(resolved(sent()), msg('5'), T0 + 2 * H, S)).toEqual({ kind: 'answer', scale: 'csat', score: 5, comment: null, low: false, reopen: false });
    expect(classifyReply(resolved(sent()), msg('1 - nobody called', 'x'), T0 + 2 * H, S)).toMatchObject({ kind: 'answer', score: 1, comment: 'nobody called', low: true, reopen: true });
    expect(classifyReply({ status: 'closed', survey: sent() }, msg('', 'csat:1'), T0 + 2 * H, S)).toMatchObject({ kind: 'answer', low: true, reopen: false });
  });

  it('anything else, an expired window, a survey not yet sent or an active ticket is a normal message', () => {
    expect(classifyReply(resolved(sent()), msg('3 items are missing'), T0 + 2 * H, S)).toEqual({ kind: 'message' });
    expect(classifyReply(resolved(sent()), msg('5'), T0 + H + S.expiryMs + 1, S)).toEqual({ kind: 'message' });
    expect(classifyReply(resolved(scheduleSurvey(null, T0, S)), msg('5'), T0 + 10 * 60_000, S)).toEqual({ kind: 'message' });
    expect(classifyReply({ status: 'open', survey: sent() }, msg('5'), T0 + 2 * H, S)).toEqual({ kind: 'message' });
    expect(classifyReply(resolved(null), msg('5'), T0, S)).toEqual({ kind: 'message' });
  });

  it('takes no answer and no comment from a sender the platform does not vouch for (e-mail failing DMARC)', () => {
    const forged = { ...msg('1'), authenticated: false };
    expect(classifyReply(resolved(sent()), forged, T0 + 2 * H, S)).toEqual({ kind: 'message' });
    expect(classifyReply(resolved(sent()), { ...msg('1'), authenticated: true }, T0 + 2 * H, S)).toMatchObject({ kind: 'answer', score: 1 });
    const answered = { ...sent(), state: 'answered' as const, score: 5, answered_at: T0 + 2 * H };
    expect(classifyReply(resolved(answered), { ...msg('terrible service'), authenticated: false }, T0 + 2 * H + 60_000, S)).toEqual({ kind: 'message' });
  });

  it('free text shortly after an answer is its comment (once); a late button press is only noted', () => {
    const answered = sent({ state: 'answered', score: 4, answered_at: T0 + 2 * H, followup: 'done' });
    expect(classifyReply(resolved(answered), msg('Thanks a lot'), T0 + 2 * H + 60_000, S)).toEqual({ kind: 'comment', comment: 'Thanks a lot' });
    expect(classifyReply(resolved(answered), msg('Thanks a lot'), T0 + 2 * H + S.commentWindowMs + 1, S)).toEqual({ kind: 'message' });
    expect(classifyReply(resolved({ ...answered, comment: 'first' }), msg('more'), T0 + 2 * H + 60_000, S)).toEqual({ kind: 'message' });
    expect(classifyReply(resolved(answered), msg('2 ★', 'csat:2'), T0 + 2 * H + 60_000, S)).toEqual({ kind: 'stale-press' });
    expect(classifyReply(resolved(sent({ state: 'expired' })), msg('', 'csat:2'), T0 + 100 * H, S)).toEqual({ kind: 'stale-press' });
  });
});

describe('the workflow step decision', () => {
  const t = (survey: SurveyRecord | null, status: 'resolved' | 'open' | 'closed' | 'merged' = 'resolved') => ({ status, survey });

  it('waits until the question is due, asks, reminds once after 24 h, expires after 72 h', () => {
    const scheduled = scheduleSurvey(null, T0, S);
    expect(scheduled).toMatchObject({ round: 1, state: 'scheduled', ask_at: T0 + H, scale: 'csat' });
    expect(decideSurveyStep(t(scheduled), 1, T0 + 10_000, S)).toEqual({ kind: 'wait', at: T0 + H });
    expect(decideSurveyStep(t(scheduled), 1, T0 + H, S)).toEqual({ kind: 'ask', expires_at: T0 + H + 72 * H, next_at: T0 + 25 * H });
    const s = sent();
    expect(decideSurveyStep(t(s), 1, T0 + 2 * H, S)).toEqual({ kind: 'wait', at: T0 + 25 * H });
    expect(decideSurveyStep(t(s), 1, T0 + 25 * H, S)).toEqual({ kind: 'remind', next_at: T0 + 73 * H });
    const reminded = { ...s, reminded_at: T0 + 25 * H };
    expect(decideSurveyStep(t(reminded), 1, T0 + 30 * H, S)).toEqual({ kind: 'wait', at: T0 + 73 * H });
    expect(decideSurveyStep(t(reminded), 1, T0 + 73 * H, S)).toEqual({ kind: 'expire' });
  });

  it('is a no-op for a stale round or a finished survey, follows up a fresh answer, cancels on reopen or merge', () => {
    expect(decideSurveyStep(t(sent({ round: 2 })), 1, T0, S)).toEqual({ kind: 'done', reason: 'stale' });
    expect(decideSurveyStep(undefined, 1, T0, S)).toEqual({ kind: 'done', reason: 'missing' });
    expect(decideSurveyStep(t(sent({ state: 'answered', followup: 'pending' }), 'open'), 1, T0, S)).toEqual({ kind: 'follow-up' });
    expect(decideSurveyStep(t(sent({ state: 'answered', followup: 'done' })), 1, T0, S)).toEqual({ kind: 'done', reason: 'finished' });
    expect(decideSurveyStep(t(sent({ state: 'expired' })), 1, T0, S)).toEqual({ kind: 'done', reason: 'finished' });
    expect(decideSurveyStep(t(sent(), 'open'), 1, T0 + 2 * H, S)).toEqual({ kind: 'cancel', reason: 'reopened' });
    expect(decideSurveyStep(t(scheduleSurvey(null, T0, S), 'merged'), 1, T0, S)).toEqual({ kind: 'cancel', reason: 'merged' });
    expect(decideSurveyStep(t(scheduleSurvey(null, T0, S), 'closed'), 1, T0 + H, S).kind).toBe('ask');
  });

  it('schedules one survey per resolution (round + 1), nothing twice for the same one', () => {
    const first = scheduleSurvey(null, T0, S);
    expect(needsSurvey(null, T0)).toBe(true);
    expect(needsSurvey(first, T0)).toBe(false);
    expect(needsSurvey(first, T0 + 5 * H)).toBe(true);
    expect(scheduleSurvey(first, T0 + 5 * H, S)).toMatchObject({ round: 2, resolved_at: T0 + 5 * H });
  });
});

describe('texts', () => {
  it('renders the question with the ticket number in en, ru and pl, with buttons or a typed-number hint', () => {
    const en = renderSurveyMessage({ kind: 'question', scale: 'csat', ticketNumber: 'C-000042', language: 'en-GB', buttons: true });
    expect(en.text).toBe('Your request C-000042 has been resolved. How satisfied are you with our help, from 1 (very dissatisfied) to 5 (very satisfied)?');
    expect(en.buttons).toEqual(scoreButtons('csat'));
    expect(en.buttons!.map((b) => b.payload)).toEqual(['csat:1', 'csat:2', 'csat:3', 'csat:4', 'csat:5']);
    const ru = renderSurveyMessage({ kind: 'question', scale: 'csat', ticketNumber: 'C-000042', language: 'ru', buttons: false });
    expect(ru).toEqual({ text: expect.stringContaining('Ваш запрос C-000042 решён.'), language: 'ru' });
    expect(ru.text.endsWith('\nОтветьте числом от 1 до 5.')).toBe(true);
    const pl = renderSurveyMessage({ kind: 'reminder', scale: 'nps', ticketNumber: 'C-000042', language: 'pl', buttons: false });
    expect(pl.text).toContain('zgłoszeniu C-000042');
    expect(pl.text.endsWith('Odpowiedz liczbą od 0 do 10.')).toBe(true);
    expect(renderSurveyMessage({ kind: 'thanks', scale: 'csat', ticketNumber: 'C-7', language: 'xx', buttons: true })).toEqual({ text: expect.stringContaining('request C-7'), language: 'en' });
    expect(renderSurveyMessage({ kind: 'thanks_low', scale: 'csat', ticketNumber: 'C-7', language: 'ru', buttons: true }).text).toContain('снова открыли');
    expect(scoreButtons('nps')).toHaveLength(11);
  });

  it('the alert e-mail names ticket, score and actions, never the comment text', () => {
    const mail = renderLowScoreAlert({
      from: 'support@example.com', to: 'lead@example.com', at: T0,
      ticket: { id: '01TICKET', number: 'C-000042', priority: 'high' }, raisedFrom: 'normal',
      survey: { round: 1, scale: 'csat', score: 1, reopened: true, comment: 'Anna was rude, call me on +48 600 100 200' },
    }).body;
    expect(mail).toContain('Subject: [C-000042] Low CSAT score: 1 of 5\r\n');
    expect(mail).toContain('Message-ID: <survey-01TICKET-1@example.com>');
    expect(mail).toContain('Priority raised: normal -> high');
    expect(mail).not.toContain('Anna');
    expect(mail).not.toContain('600');
  });
});

describe('the survey record is what KPIs and the export read', () => {
  it('gives scale and score to kpi.ts and a row to the export', () => {
    const answered = sent({ state: 'answered', score: 2, answered_at: T0 + 2 * H, comment: 'slow' });
    expect(surveyScore(answered as unknown as Record<string, unknown>)).toEqual({ scale: 'csat', score: 2 });
    expect(surveyScore(sent() as unknown as Record<string, unknown>)).toBeNull();
    const row = surveyRow({ id: 't1', customer_id: 'c1', channel: 'telegram', survey: answered } as never, { messageText: true, customerProfile: false, erased: false });
    expect(row).toMatchObject({ scale: 'csat', score: 2, sent_at: T0 + H, answered_at: T0 + 2 * H, reminded_at: null, comment: 'slow' });
  });

  it('shows the API shape: ISO times, state and answer, no workflow bookkeeping; older shapes too', () => {
    const view = surveyView({ ...sent({ state: 'answered', score: 2, answered_at: T0 + 2 * H, followup: 'done' }), answer_message_id: 'm1' });
    expect(view).toMatchObject({ round: 1, state: 'answered', scale: 'csat', score: 2, sent_at: '2026-11-02T10:00:00.000Z', answered_at: '2026-11-02T11:00:00.000Z', reminded_at: null });
    expect(view).not.toHaveProperty('followup');
    expect(view).not.toHaveProperty('answer_message_id');
    expect(surveyView({ sent_at: T0, score: 9, scale: 'nps' })).toMatchObject({ state: 'answered', scale: 'nps', score: 9, sent_at: '2026-11-02T09:00:00.000Z' });
    expect(surveyView(null)).toBeNull();
  });
});

describe('score links and survey texts', () => {
  const resolved = (survey: SurveyRecord | null) => ({ status: 'resolved' as const, survey });
  const four = { round: 1, scale: 'csat' as const, score: 4 };

  it('records a link answer only for the open round of its scale; the first answer stands', () => {
    expect(classifyLinkAnswer(resolved(sent()), four, T0 + 2 * H, S, true)).toEqual({ kind: 'answer', scale: 'csat', score: 4, low: false, reopen: false });
    expect(classifyLinkAnswer(resolved(sent()), { ...four, score: 1 }, T0 + 2 * H, S, true)).toMatchObject({ kind: 'answer', low: true, reopen: true });
    // not the customer's current ticket any more, or closed: recorded and alerted, not reopened
    expect(classifyLinkAnswer(resolved(sent()), { ...four, score: 1 }, T0 + 2 * H, S, false)).toMatchObject({ kind: 'answer', low: true, reopen: false });
    expect(classifyLinkAnswer({ status: 'closed', survey: sent() }, { ...four, score: 1 }, T0 + 2 * H, S, true)).toMatchObject({ kind: 'answer', reopen: false });
    const answered = sent({ state: 'answered', score: 5, answered_at: T0 + 2 * H });
    expect(classifyLinkAnswer(resolved(answered), four, T0 + 2.5 * H, S, true)).toEqual({ kind: 'answered', score: 5, commentOpen: true });
    expect(classifyLinkAnswer(resolved(answered), four, T0 + 3.5 * H, S, true)).toEqual({ kind: 'answered', score: 5, commentOpen: false });
    expect(classifyLinkAnswer(resolved({ ...answered, comment: 'ok' }), four, T0 + 2.5 * H, S, true)).toMatchObject({ commentOpen: false });
  });

  it('closes a link answer for another round or scale, an expired, cancelled or skipped survey, a reopened or missing ticket', () => {
    const at = T0 + 2 * H;
    expect(classifyLinkAnswer(resolved(sent({ round: 2 })), four, at, S, true)).toEqual({ kind: 'closed', reason: 'stale' });
    expect(classifyLinkAnswer(resolved(sent({ scale: 'nps' })), four, at, S, true)).toEqual({ kind: 'closed', reason: 'stale' });
    expect(classifyLinkAnswer(resolved(sent()), four, T0 + H + S.expiryMs + 1, S, true)).toEqual({ kind: 'closed', reason: 'expired' });
    expect(classifyLinkAnswer(resolved(sent({ state: 'expired' })), four, at, S, true)).toEqual({ kind: 'closed', reason: 'expired' });
    expect(classifyLinkAnswer(resolved(sent({ state: 'cancelled' })), four, at, S, true)).toEqual({ kind: 'closed', reason: 'cancelled' });
    expect(classifyLinkAnswer(resolved(sent({ state: 'skipped' })), four, at, S, true)).toEqual({ kind: 'closed', reason: 'skipped' });
    expect(classifyLinkAnswer({ status: 'open', survey: sent() }, four, at, S, true)).toEqual({ kind: 'closed', reason: 'cancelled' });
    expect(classifyLinkAnswer({ status: 'merged', survey: sent() }, four, at, S, true)).toEqual({ kind: 'closed', reason: 'missing' });
    expect(classifyLinkAnswer(undefined, four, at, S, true)).toEqual({ kind: 'closed', reason: 'missing' });
  });

  it('waits for the expiry instead of reminding when the reminder was skipped (window closed)', () => {
    const s = sent({ reminder_skipped: 'window_closed' });
    expect(decideSurveyStep(resolved(s), 1, T0 + 30 * H, S)).toEqual({ kind: 'wait', at: s.expires_at });
    expect(decideSurveyStep(resolved(sent({ state: 'skipped', skipped_reason: 'window_closed' })), 1, T0 + 30 * H, S)).toEqual({ kind: 'done', reason: 'finished' });
  });

  it('lists one link per score under an e-mail question, keeping the typed-number hint', () => {
    const links = [1, 2, 3, 4, 5].map((score) => ({ score, url: `https://hooks.example/survey/t${score}` }));
    const { text } = renderSurveyMessage({ kind: 'question', scale: 'csat', ticketNumber: 'C-000042', buttons: false, language: 'pl', links });
    expect(text.split('\n').filter((l) => l.includes('/survey/'))).toEqual(links.map((l) => `${l.score} ${'★'.repeat(l.score)}${'☆'.repeat(5 - l.score)}  ${l.url}`));
    expect(text).toContain('C-000042');
    expect(text.endsWith('Odpowiedz liczbą od 1 do 5.')).toBe(true);
  });

  it('fills variables written with spaces and refuses unknown variables and stray braces in survey texts', () => {
    const templates = { en: { ...DEFAULT_SURVEY_TEMPLATES.en!, thanks: 'Thanks for {{ ticket.number }}!' } };
    expect(renderSurveyMessage({ kind: 'thanks', scale: 'csat', ticketNumber: 'C-7', buttons: false, templates }).text).toBe('Thanks for C-7!');
    expect(surveyTemplateProblems(DEFAULT_SURVEY_TEMPLATES)).toEqual([]);
    expect(surveyTemplateProblems({ ru: { ...DEFAULT_SURVEY_TEMPLATES.ru!, reminder: { csat: 'Привет, {{customer.first_name}}', nps: 'ok {{max}' } } })).toEqual([
      'ru.reminder.csat: unknown variable {{customer.first_name}} (known: {{ticket.number}}, {{min}}, {{max}})',
      "ru.reminder.nps: unbalanced '{{' or '}}': write variables as {{ticket.number}}",
    ]);
  });
});
