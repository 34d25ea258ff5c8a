/**
 * Agent API: web-chat sessions (issue 17, finding 8). `DELETE /webchat/sessions/{sid}`
 * (supervisor) ends a widget session — a conversation id (`c_…`, the ticket's `conversation_id`
 * on the webchat channel, or the `sid` a site token named): its tokens are no longer renewed and
 * can no longer read the conversation (functions/handlers/webchat-api.ts). For a widget token
 * taken from a visitor's browser, or a chat that must stop.
 */
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import type { Db } from '../../store/db.js';
import { revokeWebchatSession } from '../../store/webchat.js';
import { REFRESH_GRACE_S, SESSION_TTL_S } from '../../channels/webchat/index.js';
import { route, type RouteDef } from './router.js';

export interface WebchatRouteDeps { readonly db: Db; readonly clock: Clock }

// As the web-chat channel accepts a `sid` claim (functions/channels/webchat/index.ts).
const SidParam = z.strictObject({ sid: z.string().min(1).max(128).regex(/^[^\s\p{Cc}]+$/u) });
const Revoked = z.strictObject({ sid: z.string(), revoked_at: z.string() }).meta({ id: 'WebchatSessionRevoked' });

export function webchatRoutes(deps: WebchatRouteDeps): RouteDef[] {
  return [
    route({
      method: 'DELETE', path: '/webchat/sessions/{sid}', summary: 'End a web-chat session: its widget tokens are no longer renewed and can no longer read the conversation (supervisor)', role: 'supervisor',
      params: SidParam, responses: { 200: Revoked },
      handle: async ({ params, caller }) => {
        const now = deps.clock.now();
        // Kept until no token of the session could be renewed: issued ≤ now, valid SESSION_TTL_S, renewable REFRESH_GRACE_S after.
        await revokeWebchatSession(deps.db, { sid: params.sid, by: caller.sub, now, until: now + (SESSION_TTL_S + REFRESH_GRACE_S) * 1000 });
        return { status: 200, body: { sid: params.sid, revoked_at: new Date(now).toISOString() } };
      },
    }),
  ];
}
