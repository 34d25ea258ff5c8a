/**
 * Agent API: customer tiers and organisations (issue 15, seed 002; functions/domain/tier.ts).
 *
 * - `PUT /customers/{id}/tier` sets the customer's own tier (and, when sent, contract); the
 *   customer's active tickets take the new effective tier at once (the SLA re-matches its policy).
 * - `GET/PUT/DELETE /organisations/{id}`: an organisation's name, e-mail domains, tier and
 *   contract. Its customers are those with a verified e-mail in one of its domains; they get its
 *   tier/contract on the tickets they open from then on (membership is resolved, not stored:
 *   functions/store/organisations.ts).
 *
 * Reading is for every role; changing is for supervisors (a tier changes service levels).
 */
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { ContractCode, OrganisationInput, TierCode, type Organisation } from '../../domain/tier.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { applyTierToOpenTickets, deleteOrganisation, getOrganisation, putOrganisation, resolveCustomerTier, setCustomerTier } from '../../store/organisations.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody, IdParam } from './schemas.js';

export interface TierRoutesDeps {
  readonly db: Db;
  readonly clock: Clock;
}

const Source = z.enum(['customer', 'organisation']).nullable();

export const CustomerTierBody = z.strictObject({
  tier: TierCode.nullable().meta({ description: 'The customer\'s own tier (lowercase code, e.g. vip); null clears it (the organisation\'s applies, if any)' }),
  contract: ContractCode.nullable().optional().meta({ description: 'The customer\'s own contract (SLA policies match it); null clears it; absent leaves it as it is' }),
}).meta({ id: 'CustomerTierRequest' });

export const CustomerTier = z.object({
  customer_id: z.string(),
  tier: z.string().nullable().meta({ description: 'The customer\'s own tier' }),
  contract: z.string().nullable().meta({ description: 'The customer\'s own contract' }),
  organisation_id: z.string().nullable().meta({ description: 'The organisation of one of the customer\'s verified e-mail domains' }),
  effective: z.object({ tier: z.string().nullable(), contract: z.string().nullable(), tier_source: Source, contract_source: Source })
    .meta({ description: 'What the customer\'s tickets carry: the customer\'s own value wins over the organisation\'s, field by field' }),
  tickets_updated: z.number().int().meta({ description: 'Active tickets whose tier or contract changed' }),
}).meta({ id: 'CustomerTier' });

const OrgIdParam = z.strictObject({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'organisation id must be 1-64 lowercase letters, digits, _ or -') });

export const OrganisationBody = OrganisationInput.extend({
  version: z.number().int().nonnegative().optional().meta({ description: 'The version read (0: new); a PUT with another version than stored is a 409' }),
}).meta({ id: 'OrganisationRequest' });

export const OrganisationOut = z.object({
  id: z.string(), name: z.string(), domains: z.array(z.string()), tier: z.string().nullable(), contract: z.string().nullable(),
  version: z.number().int(), updated_at: z.string().meta({ format: 'date-time' }), updated_by: z.string(),
}).meta({ id: 'Organisation' });

const orgView = (o: Organisation) => ({
  id: o.id, name: o.name, domains: o.domains, tier: o.tier ?? null, contract: o.contract ?? null,
  version: o.version, updated_at: new Date(o.updated_at).toISOString(), updated_by: o.updated_by,
});

export function tierRoutes(deps: TierRoutesDeps): RouteDef[] {
  const { db } = deps;
  const ulid = monotonicFactory();
  return [
    route({
      method: 'PUT', path: '/customers/{id}/tier', summary: 'Set the customer\'s own tier and contract (supervisor); the customer\'s active tickets follow', role: 'supervisor',
      params: IdParam, body: CustomerTierBody, responses: { 200: CustomerTier, 404: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const rootId = await setCustomerTier(db, params.id, { tier: body.tier, ...(body.contract !== undefined ? { contract: body.contract } : {}) });
        if (!rootId) throw new HttpError(404, 'not_found', 'no such customer');
        const resolved = await resolveCustomerTier(db, rootId);
        if (!resolved) throw new HttpError(404, 'not_found', 'no such customer');
        const now = deps.clock.now();
        const updated = await applyTierToOpenTickets(db, rootId, resolved.effective, { actor: caller.sub, now, newId: () => ulid(now) });
        const c = resolved.customer;
        return { status: 200, body: {
          customer_id: c.id, tier: c.tier ?? null, contract: c.contract ?? null, organisation_id: resolved.organisation?.id ?? null,
          effective: resolved.effective, tickets_updated: updated,
        } };
      },
    }),
    route({
      method: 'GET', path: '/organisations/{id}', summary: 'An organisation: name, e-mail domains, tier and contract', role: 'agent',
      params: OrgIdParam, responses: { 200: OrganisationOut, 404: ErrorBody },
      handle: async ({ params }) => {
        const o = await getOrganisation(db, params.id);
        if (!o) throw new HttpError(404, 'not_found', 'no such organisation');
        return { status: 200, body: orgView(o) };
      },
    }),
    route({
      method: 'PUT', path: '/organisations/{id}', summary: 'Create or replace an organisation (supervisor); customers with a verified e-mail in its domains get its tier/contract on their next tickets', role: 'supervisor',
      params: OrgIdParam, body: OrganisationBody, responses: { 200: OrganisationOut, 201: OrganisationOut, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const { version, ...input } = body;
        const res = await putOrganisation(db, { id: params.id, input, ...(version !== undefined ? { expectedVersion: version } : {}), by: caller.sub, now: deps.clock.now() });
        if (res.status === 'version_mismatch') throw new HttpError(409, 'conflict', `the organisation changed (version ${res.current}, you sent ${version}); reload and apply your change again`);
        if (res.status === 'domain_taken') throw new HttpError(409, 'conflict', `domain already belongs to another organisation: ${res.domains.join(', ')}`);
        if (res.status === 'conflict') throw new HttpError(409, 'conflict', 'the organisation or one of its domains changed while saving; reload and try again');
        return { status: res.created ? 201 : 200, body: orgView(res.organisation) };
      },
    }),
    route({
      method: 'DELETE', path: '/organisations/{id}', summary: 'Delete an organisation and free its domains (supervisor); tickets already open keep their tier', role: 'supervisor',
      params: OrgIdParam, responses: { 200: z.object({ id: z.string(), deleted: z.literal(true) }).meta({ id: 'OrganisationDeleted' }), 404: ErrorBody },
      handle: async ({ params }) => {
        if (!(await deleteOrganisation(db, params.id))) throw new HttpError(404, 'not_found', 'no such organisation');
        return { status: 200, body: { id: params.id, deleted: true } };
      },
    }),
  ];
}
