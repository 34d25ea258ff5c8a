/**
 * Agent API: SLA configuration (DESIGN.md §3 `GET/PUT /sla/calendars`, `GET/PUT /sla/policies`).
 * Reading is for every role; replacing is for supervisors. A PUT replaces the whole list, is
 * validated with the same zod schemas the workflow uses (a bad calendar is a 400 that names the
 * value and the fix), is checked against the other list (a policy may only name a defined
 * calendar), and is conditional on the version read (two supervisors saving at once → 409).
 *
 * New settings apply to every ticket from its next SLA event or wake-up on.
 */
import { z } from 'zod';
import { CalendarSchema, CALENDAR_24X7 } from '../../domain/sla/calendar.js';
import { DEFAULT_SLA_SETTINGS, PolicySchema, SlaPolicyError, parseSlaSettings, type SlaSettings } from '../../domain/sla/policy.js';
import { HttpError } from '../../runtime/http.js';
import type { Clock } from '../../domain/clock.js';
import type { Db } from '../../store/db.js';
import { effectiveSlaSettings, getStoredSlaSettings, putSlaSettingsPart } from '../../store/sla.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody } from './schemas.js';

export interface SlaRoutesDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** Settings in force while nothing is stored (deployment defaults). */
  readonly slaDefaults?: SlaSettings;
}

const Source = z.enum(['stored', 'defaults']).meta({ description: "'defaults' until a supervisor stores a list" });
const Version = z.number().int().nonnegative().meta({ description: 'Version of the stored SLA settings (0: nothing stored); send it back with a PUT' });

const SlaCalendar = CalendarSchema.meta({ id: 'SlaCalendar' });
const SlaPolicy = PolicySchema.meta({ id: 'SlaPolicy' });

export const SlaCalendarList = z.object({ items: z.array(SlaCalendar), builtin: z.array(SlaCalendar), source: Source, version: Version }).meta({ id: 'SlaCalendarList' });
export const SlaPolicyList = z.object({ items: z.array(SlaPolicy), source: Source, version: Version }).meta({ id: 'SlaPolicyList' });

export const PutSlaCalendars = z.strictObject({
  items: z.array(SlaCalendar).max(100),
  version: Version.optional(),
}).meta({ id: 'PutSlaCalendars' });
export const PutSlaPolicies = z.strictObject({
  items: z.array(SlaPolicy).min(1).max(200),
  version: Version.optional(),
}).meta({ id: 'PutSlaPolicies' });

export function slaRoutes(deps: SlaRoutesDeps): RouteDef[] {
  const { db } = deps;
  const defaults = deps.slaDefaults ?? DEFAULT_SLA_SETTINGS;

  async function replace(part: 'calendars' | 'policies', items: unknown[], version: number | undefined, by: string) {
    const stored = await getStoredSlaSettings(db);
    if (version !== undefined && version !== stored.version) {
      throw new HttpError(409, 'conflict', `the SLA settings changed (version ${stored.version}, you sent ${version}); reload and apply your change again`);
    }
    const current = effectiveSlaSettings(stored, defaults);
    let next: SlaSettings;
    try {
      next = parseSlaSettings({ ...current, [part]: items });
    } catch (e) {
      if (e instanceof SlaPolicyError) throw new HttpError(400, 'invalid', e.message);
      throw e;
    }
    if (part === 'calendars' && next.calendars.some((c) => c.id === CALENDAR_24X7.id)) {
      throw new HttpError(400, 'invalid', `sla calendar id '${CALENDAR_24X7.id}' is built in and cannot be redefined`);
    }
    const ok = await putSlaSettingsPart(db, { part, value: next[part], expectedVersion: stored.version, by, now: deps.clock.now() });
    if (!ok) throw new HttpError(409, 'conflict', 'the SLA settings changed while saving; reload and apply your change again');
    return { next, version: stored.version + 1 };
  }

  return [
    route({
      method: 'GET', path: '/sla/calendars', summary: 'Business calendars (time zone, weekly hours, holidays); `24x7` UTC is built in', role: 'agent',
      responses: { 200: SlaCalendarList },
      handle: async () => {
        const stored = await getStoredSlaSettings(db);
        const s = effectiveSlaSettings(stored, defaults);
        return { status: 200, body: { items: s.calendars, builtin: [CALENDAR_24X7], source: stored.calendars ? 'stored' : 'defaults', version: stored.version } };
      },
    }),
    route({
      method: 'PUT', path: '/sla/calendars', summary: 'Replace the business calendars (supervisor)', role: 'supervisor',
      body: PutSlaCalendars, responses: { 200: SlaCalendarList, 409: ErrorBody },
      handle: async ({ body, caller }) => {
        const { next, version } = await replace('calendars', body.items, body.version, caller.sub);
        return { status: 200, body: { items: next.calendars, builtin: [CALENDAR_24X7], source: 'stored', version } };
      },
    }),
    route({
      method: 'GET', path: '/sla/policies', summary: 'SLA/OLA policies in match order (first match wins): targets and escalation steps', role: 'agent',
      responses: { 200: SlaPolicyList },
      handle: async () => {
        const stored = await getStoredSlaSettings(db);
        const s = effectiveSlaSettings(stored, defaults);
        return { status: 200, body: { items: s.policies, source: stored.policies ? 'stored' : 'defaults', version: stored.version } };
      },
    }),
    route({
      method: 'PUT', path: '/sla/policies', summary: 'Replace the SLA/OLA policies (supervisor)', role: 'supervisor',
      body: PutSlaPolicies, responses: { 200: SlaPolicyList, 409: ErrorBody },
      handle: async ({ body, caller }) => {
        const { next, version } = await replace('policies', body.items, body.version, caller.sub);
        return { status: 200, body: { items: next.policies, source: 'stored', version } };
      },
    }),
  ];
}
