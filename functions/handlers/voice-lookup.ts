/**
 * Voice lookup λ (issue 16): what an Amazon Connect contact flow's "Invoke AWS Lambda function"
 * block asks about the caller. In: the flow's event (`Details.ContactData.CustomerEndpoint.Address`,
 * E.164). Out: flat string attributes (functions/domain/voice.ts `LOOKUP_ATTRIBUTES`) the flow
 * routes on (`$.External.tier`, `$.External.sla_breached`) and shows the agent.
 *
 * Connect waits at most 8 s for the answer and takes an error as the block's Error branch, which
 * a flow rarely handles well — so this function never throws into the flow: an unknown number, an
 * anonymous caller or a table it cannot read all answer the same attributes with
 * `customer_id: ""` (a failure is logged and counted, without the number). Two DynamoDB round
 * trips (functions/store/voice.ts `findCaller`); the contact's context is written beside them for
 * the contact events, which do not name the caller
 * (https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html).
 */
import { platformPhoneToE164 } from '../channels/phone.js';
import type { Clock } from '../domain/clock.js';
import { ConnectLookupEvent, flowFlag, lookupAttributes, type LookupAttributes } from '../domain/voice.js';
import { lambdaHandler } from '../runtime/aws-edge.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { VoiceMetrics } from '../runtime/ports.js';
import type { Db } from '../store/db.js';
import { findCaller, getCallContext, putCallContext } from '../store/voice.js';

export interface VoiceLookupDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
  readonly metrics?: VoiceMetrics;
}

/**
 * Flow parameters (the block's "Send parameters" key/value pairs): `caller_verified = "true"`
 * after the flow verified the caller (PIN, one-time code), `after_hours = "true"` on the flow's
 * closed branch (a call that wants a call-back though it was never queued).
 */
export const FLOW_PARAMETERS = ['caller_verified', 'after_hours'] as const;

export function makeVoiceLookup(deps: VoiceLookupDeps) {
  const log = deps.logger ?? defaultLogger;
  return async (event: unknown): Promise<LookupAttributes> => {
    const parsed = ConnectLookupEvent.safeParse(event);
    if (!parsed.success) {
      log.warn('voice lookup: not a contact flow event', { stage: 'parse' });
      return lookupAttributes(undefined);
    }
    const contact = parsed.data.Details.ContactData;
    const params = parsed.data.Details.Parameters ?? {};
    // Anonymous and withheld numbers arrive as text ("anonymous") or not at all.
    const phone = contact.CustomerEndpoint?.Type === undefined || contact.CustomerEndpoint.Type === 'TELEPHONE_NUMBER'
      ? platformPhoneToE164(contact.CustomerEndpoint?.Address ?? '') : undefined;
    if (!phone) {
      log.info('voice lookup: no caller number', { contact_id: contact.ContactId });
      return lookupAttributes(undefined);
    }
    const now = deps.clock.now();
    try {
      const [caller, earlier] = await Promise.all([findCaller(deps.db, phone), getCallContext(deps.db, contact.ContactId)]);
      // Flags a flow set once stay set when it invokes the lookup again later in the call.
      await putCallContext(deps.db, {
        contact_id: contact.ContactId, phone, customer_id: caller?.customer.id ?? null, at: now,
        caller_verified: flowFlag(params.caller_verified) || earlier?.caller_verified === true,
        after_hours: flowFlag(params.after_hours) || earlier?.after_hours === true,
      });
      if (!caller) return lookupAttributes(undefined);
      const language = caller.customer.language ?? caller.identities.find((i) => i.language)?.language;
      const latest = [...caller.identities].filter((i) => i.last_inbound_at !== undefined).sort((a, b) => (b.last_inbound_at ?? 0) - (a.last_inbound_at ?? 0))[0];
      const t = caller.openTicket;
      log.info('voice lookup answered', { contact_id: contact.ContactId, customer_id: caller.customer.id, open_ticket: t?.id ?? null });
      return lookupAttributes({
        customerId: caller.customer.id, name: caller.customer.display_name, tier: caller.customer.tier, language, verified: caller.verified,
        openTicket: t ? { number: t.number, priority: t.priority, channel: t.channel, breached: t.sla?.breached ?? [] } : undefined,
        lastChannel: t?.channel ?? latest?.channel,
      });
    } catch (e) {
      log.error('voice lookup failed: answering no customer', { contact_id: contact.ContactId, stage: 'lookup', ...errorFacts(e) });
      deps.metrics?.lookupFailed();
      return lookupAttributes(undefined);
    }
  };
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeVoiceLookup({ db: platform.db(config), clock: platform.clock, ...(platform.voiceMetrics ? { metrics: platform.voiceMetrics } : {}) });
});
