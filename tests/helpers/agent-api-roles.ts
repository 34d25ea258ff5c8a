/**
 * Who may call what on the Agent API (DESIGN.md §3, issue 6), written out by hand and never read
 * from the route table, so a role lowered on a route fails the tests that use it
 * (tests/handlers/agent-api-roles.test.ts over HTTP, tests/handlers/agent-api/router.test.ts
 * directly). `null`: public.
 */
import type { Role } from '../../functions/handlers/agent-api/router.js';

export const EXPECTED_ROLES: Readonly<Record<string, Role | null>> = {
  'GET /tickets': 'agent',
  'GET /tickets/{id}': 'agent',
  'GET /tickets/{id}/timeline': 'agent',
  'POST /tickets/{id}/replies': 'agent',
  'POST /tickets/{id}/attachments': 'agent',
  'GET /customers': 'agent',
  'GET /customers/{id}': 'agent',
  'PATCH /tickets/{id}': 'agent',
  'POST /tickets/{id}/notes': 'agent',
  'GET /tickets/counts': 'agent',
  'GET /events': 'agent',
  'GET /templates': 'agent',
  'PUT /templates/{id}': 'supervisor',
  'GET /rules': 'agent',
  'PUT /rules': 'supervisor',
  'GET /survey/templates': 'agent',
  'PUT /survey/templates': 'admin',
  'POST /customers/{id}/merge': 'supervisor',
  'POST /customers/{id}/unmerge': 'supervisor',
  'DELETE /customers/{id}': 'admin',
  'GET /customers/{id}/erasure': 'admin',
  'GET /tickets/{id}/messages/{message_id}/attachments/{n}': 'agent',
  'POST /tickets/{id}/merge': 'agent',
  'POST /tickets/{id}/split': 'agent',
  'GET /sla/calendars': 'agent',
  'PUT /sla/calendars': 'supervisor',
  'GET /sla/policies': 'agent',
  'PUT /sla/policies': 'supervisor',
  'GET /kpis': 'supervisor',
  'PUT /customers/{id}/tier': 'supervisor',
  'GET /organisations/{id}': 'agent',
  'PUT /organisations/{id}': 'supervisor',
  'DELETE /organisations/{id}': 'supervisor',
  'DELETE /webchat/sessions/{sid}': 'supervisor',
  'POST /tickets/{id}/messages/{message_id}/retry': 'agent',
  'GET /whatsapp/templates': 'agent',
  'PUT /whatsapp/templates': 'supervisor',
  'GET /agents': 'agent',
  'PUT /agents/me/presence': 'agent',
  'PUT /agents/{id}': 'supervisor',
  'GET /teams': 'agent',
  'PUT /teams/{code}': 'supervisor',
  'GET /openapi.json': null,
};
