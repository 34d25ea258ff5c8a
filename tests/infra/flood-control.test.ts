/**
 * Flood control on the public webhook API (issue 17 finding 4): the anonymous routes (the web-chat
 * widget's session, polling and posts, the survey links) have throttles of their own on the
 * stage, each below the stage default that the platforms' webhooks share, so a flood on them is
 * answered 429 there and never takes the platforms' share; the process function's queue mapping
 * has a concurrency ceiling; ingest may touch only the rate counters of the table; reserving
 * concurrency for ingest is possible but off by default.
 */
import { describe, expect, it } from 'vitest';
import { PUBLIC_ROUTE_THROTTLES } from '../../lib/ingest.js';
import { PROCESS_MAX_CONCURRENCY } from '../../lib/processing.js';
import { functionId, policyStatements, synthConfluo } from './helpers.js';

const { template } = synthConfluo();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[] }>;
const webhookApiId = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::ApiGatewayV2::Api' && id.startsWith('IngestWebhookApi'))![0];
const [stageId, stage] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::ApiGatewayV2::Stage' && r.Properties.ApiId.Ref === webhookApiId)!;
const routesOfApi = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.ApiId.Ref === webhookApiId);

describe('webhook API throttles', () => {
  const settings = stage.Properties.RouteSettings as Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;
  const stageDefault = stage.Properties.DefaultRouteSettings as { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };

  it('gives each anonymous route its own limit, below the default the platforms\' webhooks share', () => {
    const expected: Record<string, { rateLimit: number; burstLimit: number }> = {
      'POST /webhooks/webchat': PUBLIC_ROUTE_THROTTLES.webchatWebhook, 'OPTIONS /webhooks/webchat': PUBLIC_ROUTE_THROTTLES.webchatWebhook,
      'POST /webchat/session': PUBLIC_ROUTE_THROTTLES.webchatSession, 'OPTIONS /webchat/session': PUBLIC_ROUTE_THROTTLES.webchatSession,
      'GET /webchat/messages': PUBLIC_ROUTE_THROTTLES.webchatMessages, 'OPTIONS /webchat/messages': PUBLIC_ROUTE_THROTTLES.webchatMessages,
      'POST /webchat/uploads': PUBLIC_ROUTE_THROTTLES.webchatMessages, 'OPTIONS /webchat/uploads': PUBLIC_ROUTE_THROTTLES.webchatMessages,
      'GET /survey/{token}': PUBLIC_ROUTE_THROTTLES.surveyLinks, 'POST /survey/{token}': PUBLIC_ROUTE_THROTTLES.surveyLinks,
      'GET /help/search': PUBLIC_ROUTE_THROTTLES.helpRead, 'OPTIONS /help/search': PUBLIC_ROUTE_THROTTLES.helpRead, 'GET /help/articles/{id}': PUBLIC_ROUTE_THROTTLES.helpRead,
      'POST /help/feedback': PUBLIC_ROUTE_THROTTLES.helpFeedback, 'OPTIONS /help/feedback': PUBLIC_ROUTE_THROTTLES.helpFeedback,
    };
    expect(Object.keys(settings).sort()).toEqual(Object.keys(expected).sort());
    for (const [key, t] of Object.entries(expected)) {
      expect(settings[key], key).toEqual({ ThrottlingRateLimit: t.rateLimit, ThrottlingBurstLimit: t.burstLimit });
      expect(t.rateLimit, key).toBeLessThan(stageDefault.ThrottlingRateLimit);
    }
  });

  it('keeps the platforms\' webhooks on the stage default: no route setting of theirs', () => {
    expect(stageDefault).toEqual({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 });
    for (const key of ['POST /webhooks/{channel}', 'GET /webhooks/{channel}']) expect(settings[key]).toBeUndefined();
  });

  it('gives every throttled route key a route on the same API, and creates the stage after them', () => {
    const byKey = new Map(routesOfApi.map(([id, r]) => [r.Properties.RouteKey as string, id]));
    for (const key of Object.keys(settings)) {
      expect(byKey.has(key), key).toBe(true);
      expect(stage.DependsOn ?? [], `${stageId} depends on ${key}`).toContain(byKey.get(key));
    }
  });
});

describe('process and ingest under a flood', () => {
  it('caps the process function\'s queue mapping at a maximum concurrency', () => {
    const processId = functionId(template, 'ProcessingProcessFunction');
    const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties.FunctionName.Ref === processId);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties.ScalingConfig).toEqual({ MaximumConcurrency: PROCESS_MAX_CONCURRENCY });
  });

  it('lets ingest update the rate counters only (UpdateItem on RATE# keys), nothing else in the table', () => {
    const statements = policyStatements(template, functionId(template, 'IngestIngestFunction'))
      .filter((s) => ([] as string[]).concat(s.Action as string[]).some((a) => a.startsWith('dynamodb:')));
    expect(statements).toEqual([expect.objectContaining({
      Action: 'dynamodb:UpdateItem', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RATE#*'] } },
    })]);
    expect(JSON.stringify(statements)).not.toContain('/index/');
  });

  it('reserves ingest concurrency only when asked', () => {
    const ingestId = functionId(template, 'IngestIngestFunction');
    expect(resources[ingestId]!.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const t = synthConfluo({ ingestReservedConcurrency: 25 }).template;
    expect(t.toJSON().Resources[functionId(t, 'IngestIngestFunction')].Properties.ReservedConcurrentExecutions).toBe(25);
  });
});
