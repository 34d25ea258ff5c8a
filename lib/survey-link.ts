/**
 * SurveyLink: the score links of survey e-mails (functions/handlers/survey-link.ts) on the public
 * webhook HTTP API — `GET /survey/{token}` (a confirmation page; records nothing, as mail
 * scanners prefetch links) and `POST /survey/{token}` (records the score or the comment). The
 * token is HMAC-signed with `CONFLUO_SURVEY_LINK_SECRET`, read from SSM like the channel secrets.
 *
 * Least privilege: the function reads a ticket and its customer and writes one transaction (the
 * ticket's survey fields, timeline and feed items) — GetItem, UpdateItem, PutItem and
 * ConditionCheckItem on the table itself, no index, no queue, no SES (the thank-you and the team
 * lead's alert go out through the survey workflow's follow-up, started by the dispatch function
 * on the `survey.answered` feed event).
 */
import { HttpMethod, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ConfluoFunction } from './confluo-function.js';
import { publicApiFunction } from './public-api-function.js';

export interface SurveyLinkProps {
  readonly store: { readonly table: ITable };
  /** The webhook HTTP API (Ingest) the routes are added to. */
  readonly api: HttpApi;
  /** SSM path of the secrets (`CONFLUO_SURVEY_LINK_SECRET`). */
  readonly secretsPath: string;
  /** The survey settings (`CONFLUO_SURVEY*`: comment window, low-score thresholds), as SurveyWorkflow.settingsEnvironment. */
  readonly settingsEnvironment?: Readonly<Record<string, string>>;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** The actions a score link's answer needs (store/survey.ts `commitSurveyLinkAnswer`, store/reads.ts). */
export const SURVEY_LINK_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'] as const;

export class SurveyLink extends Construct {
  public readonly function: ConfluoFunction;
  /** `GET|POST /survey/{token}` (throttled on the webhook API's stage by the stack). */
  public readonly routes: HttpRoute[];

  constructor(scope: Construct, id: string, props: SurveyLinkProps) {
    super(scope, id);
    const { fn, routes } = publicApiFunction(this, 'SurveyLink', {
      handlerName: 'survey-link',
      description: 'Confluo close the loop: survey e-mail score links (confirmation page, record the score or comment)',
      // On the table only: `table.grant()` would add its indexes (`/index/*`), which this function never queries.
      table: props.store.table, tableActions: SURVEY_LINK_TABLE_ACTIONS, secretsPath: props.secretsPath, api: props.api,
      ...(props.settingsEnvironment ? { environment: props.settingsEnvironment } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      publicBecause: 'Public by design: the customer follows a link from a survey e-mail and has no account. The path carries an HMAC-SHA256 token (CONFLUO_SURVEY_LINK_SECRET) naming one ticket, round and score, verified in the function; a GET only shows a confirmation page.',
    });
    this.function = fn;
    this.routes = routes('/survey/{token}', [HttpMethod.GET, HttpMethod.POST]);
  }
}
