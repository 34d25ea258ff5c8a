/**
 * Least privilege across the stack (issue 17 finding 3): no function may read an SSM parameter it
 * does not read — no wildcard under the secrets path, no GetParametersByPath, exactly the names
 * its `CONFLUO_SECRET_NAMES` lists (lib/ssm-settings.ts) — and the public functions (ingest, the
 * widget API, the survey links: reachable without credentials) have no table action beyond what
 * their code uses.
 */
import { describe, expect, it } from 'vitest';
import { SURVEY_LINK_TABLE_ACTIONS } from '../../lib/survey-link.js';
import { SSM_SETTINGS } from '../../lib/ssm-settings.js';
import { WEBCHAT_API_TABLE_ACCESS } from '../../lib/webchat-api.js';
import { allowedActions, functionId, lambdaEnvironments, policyStatements, SECRET_SETTING_NAMES, synthConfluo } from './helpers.js';

const { template } = synthConfluo();
const custom = synthConfluo({ secretsPath: '/acme/support/', emailFrom: 'support@example.com' });
const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:TransactWriteItems', 'dynamodb:ConditionCheckItem'];

/** `arn:${Partition}:ssm:${Region}:${AccountId}:parameter/<name>` as the template writes it → `<name>`. */
function parameterNames(resource: unknown): string[] {
  const list = Array.isArray(resource) ? resource : [resource];
  return list.map((r) => {
    const parts = (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const text = parts.map((p) => (typeof p === 'string' ? p : '')).join('');
    return text.replace(/^.*:parameter\//, '');
  });
}

function ssmStatements(t: typeof template, id: string) {
  return policyStatements(t, id).filter((s) => ([] as string[]).concat(s.Action as string[]).some((a) => a.startsWith('ssm:')));
}

describe('SSM parameters per function', () => {
  for (const [label, t, path] of [['default path', template, 'confluo/Confluo'], ['custom path', custom.template, 'acme/support']] as const) {
    it(`lets each function read exactly the parameters it names, none by wildcard or path (${label})`, () => {
      for (const [id, env] of Object.entries(lambdaEnvironments(t))) {
        const statements = ssmStatements(t, id);
        const names = typeof env.CONFLUO_SECRET_NAMES === 'string' ? env.CONFLUO_SECRET_NAMES.split(',') : [];
        if (names.length === 0) {
          expect(statements, id).toEqual([]);
          continue;
        }
        expect(allowedActions(t, id).filter((a) => a.startsWith('ssm:')).sort(), id).toEqual(['ssm:GetParameter', 'ssm:GetParameters']);
        const granted = statements.flatMap((s) => parameterNames(s.Resource));
        expect(granted.filter((g) => g.includes('*')), id).toEqual([]);
        expect(granted.sort(), id).toEqual(names.map((n) => `${path}/${n}`).sort());
      }
    });
  }

  it('names the lists of lib/ssm-settings.ts, and keeps every token where it is used', () => {
    const env = lambdaEnvironments(template);
    const names = (prefix: string) => String(env[functionId(template, prefix)]!.CONFLUO_SECRET_NAMES).split(',');
    expect(names('IngestIngestFunction')).toEqual([...SSM_SETTINGS.ingest]);
    expect(names('OutboundSendFunction')).toEqual([...SSM_SETTINGS.send]);
    expect(names('WebchatApiWebchatApiFunction')).toEqual(['CONFLUO_WEBCHAT_SESSION_RATE', 'WEBCHAT_ALLOWED_ORIGINS', 'WEBCHAT_SECRET']);
    expect(names('SurveyLinkSurveyLinkFunction')).toEqual(['CONFLUO_SURVEY_LINK_SECRET']);
    // Functions that read one non-secret channel setting read that one only (process: and the knowledge base's deflection settings).
    expect(names('ProcessingProcessFunction')).toEqual(['CONFLUO_KB_CONFIDENCE', 'CONFLUO_KB_DEFLECTION', 'CONFLUO_KB_DEFLECTION_SKIP_TIERS', 'EMAIL_FORM_SENDERS']);
    expect(names('AgentApiAgentApiFunction')).toEqual(['META_HUMAN_AGENT_TAG']);
    expect(names('SlaWorkflowEvaluateFunction')).toEqual(['EMAIL_SES_REGION', 'EMAIL_SNS_TOPIC_ARN']);
    expect(lambdaEnvironments(template)[functionId(template, 'ProcessingDispatchFunction')]!.CONFLUO_SECRET_NAMES).toBeUndefined();
    const secretsOf = (prefix: string) => names(prefix).filter((n) => SECRET_SETTING_NAMES.includes(n));
    // The public functions read no outbound token (Telegram bot, WhatsApp, Messenger, VK, Twilio's REST use).
    for (const prefix of ['IngestIngestFunction', 'WebchatApiWebchatApiFunction', 'SurveyLinkSurveyLinkFunction']) {
      expect(secretsOf(prefix), prefix).not.toEqual(expect.arrayContaining(['TELEGRAM_BOT_TOKEN']));
      for (const token of ['TELEGRAM_BOT_TOKEN', 'WHATSAPP_ACCESS_TOKEN', 'META_PAGE_ACCESS_TOKEN', 'INSTAGRAM_ACCESS_TOKEN', 'VK_ACCESS_TOKEN']) expect(secretsOf(prefix), prefix).not.toContain(token);
    }
    for (const prefix of ['WebchatApiWebchatApiFunction', 'SurveyLinkSurveyLinkFunction']) {
      for (const key of ['TELEGRAM_SECRET_TOKEN', 'META_APP_SECRET', 'TWILIO_AUTH_TOKEN', 'VIBER_AUTH_TOKEN', 'VK_SECRET']) expect(secretsOf(prefix), prefix).not.toContain(key);
    }
    // The sender reads no inbound signing key it does not also need to send with (Viber and Twilio use one token both ways).
    for (const key of ['TELEGRAM_SECRET_TOKEN', 'META_APP_SECRET', 'META_VERIFY_TOKEN', 'VK_SECRET', 'VK_CONFIRMATION', 'WEBCHAT_SECRET', 'CONFLUO_SURVEY_LINK_SECRET']) {
      expect(secretsOf('OutboundSendFunction')).not.toContain(key);
    }
  });
});

describe('table access of the public functions', () => {
  it('ingest never touches the table except its rate-limit items', () => {
    const actions = allowedActions(template, functionId(template, 'IngestIngestFunction')).filter((a) => a.startsWith('dynamodb:'));
    expect(actions.filter((a) => WRITES.includes(a) && a !== 'dynamodb:UpdateItem')).toEqual([]);
    expect(actions.filter((a) => !WRITES.includes(a))).toEqual([]);
  });

  it('the widget API reads the identity, tickets (gsi3 only) and timelines and updates delivery state — no put, delete, transaction or other index', () => {
    const id = functionId(template, 'WebchatApiWebchatApiFunction');
    const table = policyStatements(template, id).filter((s) => ([] as string[]).concat(s.Action as string[]).some((a) => a.startsWith('dynamodb:')));
    const byResource = new Map<string, string[]>();
    for (const s of table) {
      for (const r of ([] as unknown[]).concat(s.Resource)) {
        const key = JSON.stringify(r).replace(/"Fn::GetAtt":\["StoreTable[0-9A-F]+","Arn"\]/, 'TABLE');
        byResource.set(key, [...(byResource.get(key) ?? []), ...([] as string[]).concat(s.Action as string[])]);
      }
    }
    const entries = [...byResource.entries()].map(([k, v]) => [k.includes('/index/') ? k.replace(/^.*\/index\/([^"]+)".*$/, 'index:$1') : 'table', v.sort()]);
    expect(Object.fromEntries(entries)).toEqual({ table: [...WEBCHAT_API_TABLE_ACCESS.table].sort(), 'index:gsi3': [...WEBCHAT_API_TABLE_ACCESS.indexes.gsi3] });
    expect(JSON.stringify(table)).not.toContain('/index/*');
  });

  it('the survey links write only the survey answer transaction', () => {
    const actions = allowedActions(template, functionId(template, 'SurveyLinkSurveyLinkFunction')).filter((a) => a.startsWith('dynamodb:'));
    expect(actions.sort()).toEqual([...SURVEY_LINK_TABLE_ACTIONS].sort());
  });
});
