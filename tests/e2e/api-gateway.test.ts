/**
 * The local runtime answers as the deployed API Gateway does, because it serves the synthesised
 * route table: a browser's CORS preflight to the Agent API is answered from the API's CORS
 * configuration without a token, a request without a token is refused by the gateway before any
 * function runs, paths the template does not route are 404, and a ticket's routes (with an id)
 * work as the inbox calls them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';
import { sample } from '../helpers/pipeline.js';

describe('the Agent API behind the local API Gateway', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  let ticketId: string;
  beforeAll(async () => {
    rt = await testRuntime();
    token = await rt.api.token('ann', 'agent');
    const s = sample('telegram', '01-text');
    expect((await rt.api.webhook('telegram', { headers: s.request.headers, body: s.request.body })).status).toBe(200);
    await rt.settle();
    ticketId = (await rt.api.get('/api/v1/tickets', token)).body.items[0].id;
  });
  afterAll(async () => { await rt?.stop(); });

  it('answers the inbox\'s preflight itself from the CORS configuration: 204, no token needed', async () => {
    // Locally the inbox's origin (the CloudFront one in AWS) is the runtime's own.
    const res = await fetch(`${rt.url}/api/v1/tickets/${ticketId}`, {
      method: 'OPTIONS',
      headers: { origin: rt.url, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(rt.url);
    expect(res.headers.get('access-control-allow-methods')?.split(',').map((m) => m.trim())).toEqual(expect.arrayContaining(['GET', 'POST', 'PATCH']));
    expect(res.headers.get('access-control-allow-headers')?.split(',').map((h) => h.trim().toLowerCase())).toEqual(expect.arrayContaining(['authorization', 'content-type']));
  });

  it('adds the allowed origin to the answers of the inbox\'s calls', async () => {
    const res = await fetch(`${rt.url}/api/v1/tickets/${ticketId}`, { headers: { origin: rt.url, authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(rt.url);
    expect(((await res.json()) as { id: string }).id).toBe(ticketId);
  });

  it('serves every route with an id (detail, timeline, notes, PATCH) as the deployed API does', async () => {
    expect((await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).status).toBe(200);
    expect((await rt.api.post(`/api/v1/tickets/${ticketId}/notes`, { text: 'checked the parcel scan' }, token)).status).toBe(201);
    const patch = await fetch(`${rt.url}/api/v1/tickets/${ticketId}`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ priority: 'high' }) });
    expect(patch.status).toBe(200);
  });

  it('refuses a call without a token at the gateway, as API Gateway\'s JWT authorizer answers it', async () => {
    const res = await fetch(`${rt.url}/api/v1/tickets/${ticketId}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthorized' });
  });

  it('answers 404 for a path the template does not route, before any function', async () => {
    const res = await fetch(`${rt.url}/api/v1/nothing-here`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'Not Found' });
  });

  it('keeps the OpenAPI document public', async () => {
    const res = await fetch(`${rt.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { openapi: string }).openapi).toBe('3.1.0');
  });
});
