/** Agent API λ (`/api/v1`, JWT-authorised by API Gateway; roles checked per route). */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaHandler } from '../runtime/aws.js';
import { jsonResponse } from '../runtime/http.js';
import { API_PREFIX, buildRouter, openApiDocument, route, type RouteDef } from './agent-api/router.js';
import { agentRoutes, type AgentApiDeps } from './agent-api/routes.js';
import { parseSlaSettingsJson } from '../domain/sla/policy.js';
import { z } from 'zod';

export const API_INFO = { title: 'Confluo Agent API', version: '1.0.0' };

export function makeAgentApi(deps: AgentApiDeps) {
  const routes: RouteDef[] = agentRoutes(deps);
  const openapi = openApiDocument(routes, API_INFO);
  const all = [...routes, route({
    method: 'GET', path: '/openapi.json', summary: 'This document', role: null, responses: { 200: z.object({ openapi: z.string() }).loose() },
    handle: async () => ({ status: 200, body: openapi }),
  })];
  const router = buildRouter(all);
  return Object.assign(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    if (!event.rawPath.startsWith(API_PREFIX)) return jsonResponse(404, { error: { code: 'not_found', message: 'no such route' } });
    return router(event);
  }, { openapi, routes: all });
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeAgentApi({
    db: platform.db(config), clock: platform.clock, slaDefaults: parseSlaSettingsJson(config.CONFLUO_SLA_DEFAULTS), ticketPrefix: config.CONFLUO_TICKET_PREFIX,
    humanAgentTag: config.META_HUMAN_AGENT_TAG === 'on', defaultCapacity: Number(config.CONFLUO_AGENT_DEFAULT_CAPACITY),
    ...(config.CONFLUO_MEDIA_BUCKET ? { media: platform.media(config), mediaUrlSeconds: Number(config.CONFLUO_MEDIA_URL_SECONDS) } : {}),
  });
});
