import { describe, expect, it } from 'vitest';
import { allowedActions, functionId, synthConfluo } from './helpers.js';

const { template } = synthConfluo();
const fnId = functionId(template, 'WebchatApiWebchatApiFunction');

describe('WebchatApi', () => {
  it('routes the widget endpoints (and their preflights) on the webhook API to its function', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey as string).filter((k) => k.split(' ')[1]?.startsWith('/webchat/'));
    expect(routes.sort()).toEqual(['GET /webchat/messages', 'OPTIONS /webchat/messages', 'OPTIONS /webchat/session', 'OPTIONS /webchat/uploads', 'POST /webchat/session', 'POST /webchat/uploads']);
  });

  it('reads the table, updates delivery state and reads its web-chat settings from SSM, nothing else', () => {
    const actions = allowedActions(template, fnId);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'ssm:GetParameters']));
    expect(actions.filter((a) => ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:TransactWriteItems'].includes(a))).toEqual([]);
    expect(actions.filter((a) => a.startsWith('sqs:') || a.startsWith('ses:'))).toEqual([]);
    const env = template.toJSON().Resources[fnId].Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['CONFLUO_TABLE_NAME', 'CONFLUO_SECRETS_PATH']));
    expect(env.WEBCHAT_SECRET).toBeUndefined(); // never in the template
  });
});
