/**
 * Agent API: canned answers and classification rules (issue 6, DESIGN.md §3).
 *
 * `GET /templates` (agent; `q` searches names and bodies, `language` narrows), `PUT /templates/{id}`
 * (supervisor) — a template with an unknown variable or broken braces is a 400 when saved.
 * `GET /rules` (agent), `PUT /rules` (supervisor) — the ordered rule list; a bad regular
 * expression is a 400. Both writes are conditional on the version read (409 on a lost race).
 */
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { RuleListSchema, RuleSchema } from '../../domain/rules.js';
import { TemplateError, TEMPLATE_VARIABLES, templateVariables } from '../../domain/template.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { getRules, getTemplate, listTemplates, putRules, putTemplate, type TemplateRecord } from '../../store/templates.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody } from './schemas.js';

export interface TemplateRouteDeps { readonly db: Db; readonly clock: Clock }

const isoTime = z.string().meta({ format: 'date-time' });
const Language = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'expected a language tag like en or pt-BR');
const Version = z.number().int().nonnegative().meta({ description: 'Version read (0: new); a PUT with a stale version is a 409' });

export const TemplateOut = z.object({
  id: z.string(), name: z.string(), bodies: z.record(z.string(), z.string()), variables: z.array(z.enum(TEMPLATE_VARIABLES)),
  version: z.number().int(), updated_at: isoTime, updated_by: z.string(),
}).meta({ id: 'Template' });
export const TemplateList = z.object({ items: z.array(TemplateOut), variables: z.array(z.enum(TEMPLATE_VARIABLES)) }).meta({ id: 'TemplateList' });
export const TemplateIdParam = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected 1-64 letters, digits, _ . -') });
export const PutTemplateBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  /** Text per language, e.g. `{"en": "Hello {{customer.first_name}}", "pl": "Dzień dobry …"}`. */
  bodies: z.record(Language, z.string().min(1).max(4096)).refine((b) => Object.keys(b).length > 0, 'give at least one language'),
  version: Version.optional(),
}).meta({ id: 'PutTemplate' });
export const TemplateQuery = z.strictObject({
  q: z.string().trim().min(1).max(100).optional(),
  language: Language.optional(),
});

export const RuleOut = RuleSchema.meta({ id: 'ClassificationRule' });
export const RuleList = z.object({ items: z.array(RuleOut), version: z.number().int() }).meta({ id: 'ClassificationRuleList' });
export const PutRulesBody = z.strictObject({ items: RuleListSchema, version: Version.optional() }).meta({ id: 'PutClassificationRules' });

export function templateView(t: TemplateRecord) {
  const variables = [...new Set(Object.values(t.bodies).flatMap((b) => templateVariables(b)))];
  return { id: t.id, name: t.name, bodies: t.bodies, variables, version: t.version, updated_at: new Date(t.updated_at).toISOString(), updated_by: t.updated_by };
}

export function templateRoutes(deps: TemplateRouteDeps): RouteDef[] {
  const { db } = deps;
  return [
    route({
      method: 'GET', path: '/templates', summary: 'Canned answers (search `q` in names and bodies, narrow by `language`)', role: 'agent',
      query: TemplateQuery, responses: { 200: TemplateList },
      handle: async ({ query }) => {
        const needle = query.q?.toLocaleLowerCase();
        const items = (await listTemplates(db))
          .filter((t) => !query.language || Object.keys(t.bodies).some((l) => l === query.language || l.split('-')[0] === query.language!.split('-')[0]))
          .filter((t) => !needle || [t.id, t.name, ...Object.values(t.bodies)].some((s) => s.toLocaleLowerCase().includes(needle)));
        return { status: 200, body: { items: items.map(templateView), variables: [...TEMPLATE_VARIABLES] } };
      },
    }),
    route({
      method: 'PUT', path: '/templates/{id}', summary: 'Create or replace a canned answer (supervisor); unknown variables are refused', role: 'supervisor',
      params: TemplateIdParam, body: PutTemplateBody, responses: { 200: TemplateOut, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        for (const [lang, text] of Object.entries(body.bodies)) {
          try { templateVariables(text); } catch (e) {
            if (e instanceof TemplateError) throw new HttpError(400, 'invalid', `bodies.${lang}: ${e.message}`);
            throw e;
          }
        }
        const stored = await getTemplate(db, params.id);
        const current = stored?.version ?? 0;
        if (body.version !== undefined && body.version !== current) throw new HttpError(409, 'conflict', `template ${params.id} changed (version ${current}, you sent ${body.version}); reload and apply your change again`);
        const record = { id: params.id, name: body.name, bodies: body.bodies, updated_at: deps.clock.now(), updated_by: caller.sub };
        if (!(await putTemplate(db, record, current))) throw new HttpError(409, 'conflict', `template ${params.id} changed while saving; reload and apply your change again`);
        return { status: 200, body: templateView({ ...record, version: current + 1 }) };
      },
    }),
    route({
      method: 'GET', path: '/rules', summary: 'Classification rules in match order (keyword/regex per language → category, priority, team of new tickets)', role: 'agent',
      responses: { 200: RuleList },
      handle: async () => {
        const r = await getRules(db);
        return { status: 200, body: { items: r.items, version: r.version } };
      },
    }),
    route({
      method: 'PUT', path: '/rules', summary: 'Replace the classification rules (supervisor); they apply to tickets opened from now on', role: 'supervisor',
      body: PutRulesBody, responses: { 200: RuleList, 409: ErrorBody },
      handle: async ({ body, caller }) => {
        const stored = await getRules(db);
        if (body.version !== undefined && body.version !== stored.version) throw new HttpError(409, 'conflict', `the rules changed (version ${stored.version}, you sent ${body.version}); reload and apply your change again`);
        if (!(await putRules(db, { items: body.items, expectedVersion: stored.version, by: caller.sub, now: deps.clock.now() }))) {
          throw new HttpError(409, 'conflict', 'the rules changed while saving; reload and apply your change again');
        }
        return { status: 200, body: { items: body.items, version: stored.version + 1 } };
      },
    }),
  ];
}
