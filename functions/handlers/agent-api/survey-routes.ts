/**
 * Agent API: the survey texts (issue 8 "Templates", README "Close the loop").
 *
 * `GET /survey/templates` (agent) — the texts in force per language (stored, or the built-in en,
 * ru, pl) with the variables they may use; `PUT /survey/templates` (admin) — replace them. Every
 * language gives the question and the reminder for both scales, the "reply with a number" hint
 * and both thank-yous; `en`, `ru` and `pl` must be present (English is the fallback of every
 * other language, and a PUT must not silently drop a language customers are asked in today). An
 * unknown variable or a stray `{{` is a 400. The write is conditional on the version read (409
 * on a lost race); the survey step reads the stored texts for every message it sends.
 */
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { DEFAULT_SURVEY_TEMPLATES, SURVEY_TEMPLATE_VARIABLES, surveyTextProblems } from '../../domain/survey.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { getSurveyTemplates, putSurveyTemplates } from '../../store/survey.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody } from './schemas.js';

export interface SurveyRouteDeps { readonly db: Db; readonly clock: Clock }

/** Languages a PUT must keep (the built-in ones). */
export const REQUIRED_SURVEY_LANGUAGES = ['en', 'ru', 'pl'] as const;

const isoTime = z.string().meta({ format: 'date-time' });
const SurveyText = z.string().trim().min(1).max(1000).superRefine((text, ctx) => {
  for (const message of surveyTextProblems(text)) ctx.addIssue({ code: 'custom', message });
});
const ScaleTexts = z.strictObject({ csat: SurveyText, nps: SurveyText });
export const SurveyTemplateSchema = z.strictObject({
  question: ScaleTexts.meta({ description: 'The question, per scale (CSAT 1–5, NPS 0–10)' }),
  reminder: ScaleTexts.meta({ description: 'The one reminder, per scale' }),
  reply_hint: SurveyText.meta({ description: 'Appended where the channel has no buttons (SMS, e-mail, web chat), e.g. "Reply with a number from {{min}} to {{max}}."' }),
  thanks: SurveyText,
  thanks_low: SurveyText.meta({ description: 'Thank-you after a low score (the ticket was reopened)' }),
}).meta({ id: 'SurveyTemplate' });

const BaseLanguage = z.string().regex(/^[a-z]{2,3}$/, 'expected a base language code like en, ru or pl');

export const SurveyTemplatesOut = z.object({
  templates: z.record(z.string(), SurveyTemplateSchema),
  variables: z.array(z.enum(SURVEY_TEMPLATE_VARIABLES)),
  source: z.enum(['built-in', 'stored']),
  version: z.number().int().meta({ description: '0 while the built-in texts are in force' }),
  updated_at: isoTime.nullable(),
  updated_by: z.string().nullable(),
}).meta({ id: 'SurveyTemplates' });

export const PutSurveyTemplatesBody = z.strictObject({
  templates: z.record(BaseLanguage, SurveyTemplateSchema).superRefine((t, ctx) => {
    for (const lang of REQUIRED_SURVEY_LANGUAGES) if (!(lang in t)) ctx.addIssue({ code: 'custom', path: [lang], message: `give the ${lang} texts (${REQUIRED_SURVEY_LANGUAGES.join(', ')} are required)` });
  }),
  version: z.number().int().nonnegative().optional().meta({ description: 'Version read (0: the built-in texts); a PUT with a stale version is a 409' }),
}).meta({ id: 'PutSurveyTemplates' });

export function surveyRoutes(deps: SurveyRouteDeps): RouteDef[] {
  const { db } = deps;
  return [
    route({
      method: 'GET', path: '/survey/templates', summary: 'Survey texts per language (question, reminder, reply hint, thank-yous) and their variables', role: 'agent',
      responses: { 200: SurveyTemplatesOut },
      handle: async () => {
        const stored = await getSurveyTemplates(db);
        return {
          status: 200,
          body: {
            templates: stored?.templates ?? DEFAULT_SURVEY_TEMPLATES, variables: [...SURVEY_TEMPLATE_VARIABLES],
            source: stored ? 'stored' : 'built-in', version: stored?.version ?? 0,
            updated_at: stored ? new Date(stored.updated_at).toISOString() : null, updated_by: stored?.updated_by ?? null,
          },
        };
      },
    }),
    route({
      method: 'PUT', path: '/survey/templates', summary: 'Replace the survey texts (admin); en, ru and pl are required, unknown variables are refused', role: 'admin',
      body: PutSurveyTemplatesBody, responses: { 200: SurveyTemplatesOut, 409: ErrorBody },
      handle: async ({ body, caller }) => {
        const stored = await getSurveyTemplates(db);
        const current = stored?.version ?? 0;
        if (body.version !== undefined && body.version !== current) throw new HttpError(409, 'conflict', `the survey texts changed (version ${current}, you sent ${body.version}); reload and apply your change again`);
        const now = deps.clock.now();
        if (!(await putSurveyTemplates(db, { templates: body.templates, expectedVersion: current, by: caller.sub, now }))) {
          throw new HttpError(409, 'conflict', 'the survey texts changed while saving; reload and apply your change again');
        }
        return {
          status: 200,
          body: { templates: body.templates, variables: [...SURVEY_TEMPLATE_VARIABLES], source: 'stored', version: current + 1, updated_at: new Date(now).toISOString(), updated_by: caller.sub },
        };
      },
    }),
  ];
}
