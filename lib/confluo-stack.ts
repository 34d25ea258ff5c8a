/**
 * ConfluoStack: composition only. Each capability is one construct (DESIGN §5) handed what it
 * depends on; the construct ids below are a contract (renaming one replaces its resources — for
 * 'Store' that means losing the table).
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AgentApi, type AgentSignInProps } from './agent-api.js';
import { assertSecretsPath, ConfluoFunction } from './confluo-function.js';
import { Export } from './export.js';
import { Ingest, PUBLIC_ROUTE_THROTTLES } from './ingest.js';
import { Media } from './media.js';
import { InboundMedia, type MediaLimitsProps } from './inbound-media.js';
import { Observability } from './observability.js';
import { Outbound } from './outbound.js';
import { Processing } from './processing.js';
import { AssignmentWorkflow } from './assignment.js';
import { SlaWorkflow } from './sla-workflow.js';
import { SurveyWorkflow, type SurveySettingsProps } from './survey-workflow.js';
import type { SlaSettingsInput } from '../functions/domain/sla/policy.js';
import { INBOUND_MAIL_PREFIX } from '../functions/domain/media.js';
import { Store } from './store.js';
import { SurveyLink } from './survey-link.js';
import { Voice } from './voice.js';
import { WebInbox, type WebInboxProps } from './web-inbox.js';
import { WebchatApi } from './webchat-api.js';
import { HelpApi } from './help-api.js';
import { OrdersWebhook } from './orders-webhook.js';
import { OrdersPull } from './orders-pull.js';

export interface ConfluoStackProps extends StackProps {
  /**
   * Where SLA escalations and bad-survey-score alerts are e-mailed (`ESCALATION_EMAIL`), through SES.
   *
   * @default - escalations are recorded on the ticket timeline only
   */
  readonly escalationEmail?: string;

  /**
   * SLA calendars and policies in force until supervisors store their own through
   * `PUT /api/v1/sla/calendars` and `/sla/policies`; validated at synthesis.
   *
   * @default - calendar `24x7` in UTC; normal 1 h / 4 h / 24 h, urgent 15 min / 1 h / 4 h (DESIGN §2)
   */
  readonly slaDefaults?: SlaSettingsInput;

  /**
   * An e-mail address subscribed to the operational alarm topic.
   *
   * @default - no subscription; subscribe to the alarm topic yourself
   */
  readonly alarmEmail?: string;

  /**
   * Bucket of the SES receipt rule's S3 action (mail over 150 KB): the process function may read
   * objects under `inboundMailPrefix` there.
   *
   * @default - none; S3-action notifications cannot be read and are dead-lettered
   */
  readonly inboundMailBucketName?: string;

  /**
   * Object key prefix of that S3 action.
   *
   * @default '' (the whole bucket)
   */
  readonly inboundMailPrefix?: string;

  /**
   * From address of e-mail replies (`EMAIL_FROM`); must be a verified SES identity.
   *
   * @default - the e-mail channel cannot send replies
   */
  readonly emailFrom?: string;

  /**
   * SSM Parameter Store path under which channel secrets are stored, one SecureString parameter
   * per setting named like the setting (e.g. `/confluo/prod/TELEGRAM_BOT_TOKEN`). Must start and
   * end with '/'.
   *
   * @default - `/confluo/<stackName>/`
   */
  readonly secretsPath?: string;

  /**
   * What happens to the stateful resources (table, agents' user pool, alarm topic key) when the
   * stack is deleted. Log groups are always retained.
   *
   * @default RemovalPolicy.RETAIN - the data stays in the account
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Retention in the table (DynamoDB TTL; `CONFLUO_MESSAGE_TTL_DAYS`, `CONFLUO_FEED_TTL_DAYS` of
   * every function): messages are deleted `messageDays` after they were written (≥ 7), change-feed
   * events `feedDays` after they happened (≥ 2; they hold ids only). Validated when the functions
   * start. What else keeps data (backups, exports, queues): README "Retention".
   *
   * @default - kept until the customer is erased (messages) / kept (feed events)
   */
  readonly retention?: { readonly messageDays?: number; readonly feedDays?: number };

  /**
   * Reserved concurrent executions of the ingest function: the platforms' webhooks keep this
   * much capacity whatever else in the account spikes. The account must keep 10 executions
   * unreserved (new accounts often have 10 in all), hence off by default.
   *
   * @default - none reserved
   */
  readonly ingestReservedConcurrency?: number;

  /**
   * Channels the operator intends to use. Informational for now: a channel is actually enabled
   * by storing its secrets under `secretsPath` (a channel without them answers 404).
   *
   * @default - every channel whose secrets are present
   */
  readonly enabledChannels?: readonly string[];

  /**
   * Put message text and survey comments into the analytics export (`CONFLUO_EXPORT_MESSAGE_TEXT`).
   * Personal data: leave off unless your privacy notice covers it.
   *
   * @default false - the export holds metadata and pseudonymous ids only
   */
  readonly exportMessageText?: boolean;

  /**
   * Close the loop: survey scale (`csat`, `nps` or `off`), delay, reminder, expiry, low-score
   * thresholds; validated at synthesis.
   *
   * @default - CSAT 1–5, 1 h after resolution, one reminder after 24 h, expires after 72 h; CSAT ≤ 2 / NPS ≤ 6 is low
   */
  readonly survey?: SurveySettingsProps;

  /**
   * Public base URL of the webhook API as customers see it (`CONFLUO_PUBLIC_URL`), e.g. a custom
   * domain; survey e-mails link to `<url>/survey/{token}`. Score links are signed with the
   * `CONFLUO_SURVEY_LINK_SECRET` parameter under `secretsPath`; without it e-mails ask for a typed
   * number.
   *
   * @default - the webhook API's own URL
   */
  readonly publicUrl?: string;

  /**
   * Host the web inbox and the web-chat widget (S3 + CloudFront); `source` uploads the built
   * pages (`npm run build:web` → `dist/web`). `false`: no hosting.
   *
   * @default - bucket and distribution, nothing uploaded
   */
  readonly webInbox?: WebInboxProps | false;

  /**
   * Days attachment bytes (customers' files, agents' and visitors' uploads) are kept in the media
   * bucket before S3 lifecycle deletes them; the message keeps the attachment's metadata.
   *
   * @default 365
   */
  readonly mediaRetentionDays?: number;

  /**
   * Origins besides the hosted inbox allowed to upload to the media bucket with a presigned POST
   * (sites that embed the web-chat widget).
   *
   * @default - the hosted inbox only (and http://localhost:3000 with `signIn.localhostCallback`)
   */
  readonly mediaUploadOrigins?: readonly string[];

  /**
   * Size limits of inbound attachments: per attachment (all channels, or per channel) and per
   * message; an attachment over them is marked `too_large` on the timeline, never downloaded whole.
   *
   * @default - 25 MB per attachment (Telegram: 20 MB, its bots' limit), 50 MB per message
   */
  readonly mediaLimits?: MediaLimitsProps;

  /**
   * Lifetime of the signed attachment URLs the Agent API answers, in seconds (1–3600).
   *
   * @default 300
   */
  readonly mediaUrlSeconds?: number;

  /**
   * An existing Amazon Connect instance (`arn:aws:connect:<region>:<account>:instance/<id>`): the
   * phone channel (lib/voice.ts) — the caller lookup its flows invoke and its contact events on
   * tickets. README "Phone (Amazon Connect)".
   *
   * @default - no phone channel: nothing of it is created
   */
  readonly connectInstanceArn?: string;

  /**
   * A Shopify shop (`<name>.myshopify.com`) whose orders are pulled from the Admin API on a
   * schedule (lib/orders-pull.ts; its token or app credentials go in SSM: README "Orders").
   *
   * @default - no pull: nothing of it is created (the shop may still push orders to the webhook)
   */
  readonly shopifyShop?: string;

  /**
   * Minutes between two pulls (1–1440). Only with `shopifyShop`.
   *
   * @default 5
   */
  readonly shopifyPullMinutes?: number;

  /**
   * The Connect instance records calls: call entries name their recording (`CONFLUO_VOICE_RECORDINGS`).
   * Only with `connectInstanceArn`.
   *
   * @default false
   */
  readonly connectRecordings?: boolean;

  /**
   * How agents sign in to the hosted inbox: the Cognito hosted UI (authorization code + PKCE)
   * returns them to the inbox URL. Only with `webInbox` (without it the app client keeps SRP only).
   *
   * @default - the Cognito prefix domain `confluo-<stack UUID>`; only the inbox URL as callback
   */
  readonly signIn?: Omit<AgentSignInProps, 'callbackUrls'> & {
    /** Also accept `http://localhost:3000/` as callback (and CORS origin): an inbox run locally against this pool. @default false */
    readonly localhostCallback?: boolean;
  };
}

const INBOUND_MAIL_KEYS = `${INBOUND_MAIL_PREFIX}*`;
const AGENT_UPLOAD_KEYS = 'uploads/agents/*';

/** The whole Confluo backend in one stack. */
export class ConfluoStack extends Stack {
  public readonly store: Store;
  public readonly ingest: Ingest;
  public readonly processing: Processing;
  public readonly slaWorkflow: SlaWorkflow;
  public readonly surveyWorkflow: SurveyWorkflow;
  /** Automatic assignment's offline return (issue 15). */
  public readonly assignmentWorkflow: AssignmentWorkflow;
  public readonly outbound: Outbound;
  public readonly agentApi: AgentApi;
  public readonly observability: Observability;
  public readonly export: Export;
  /** The attachment bucket (issue 14). */
  public readonly media: Media;
  /** Inbound attachments fetched into the media bucket (media queue → media function). */
  public readonly inboundMedia: InboundMedia;
  /** The web-chat widget's session and messages routes on the webhook API. */
  public readonly webchatApi: WebchatApi;
  public readonly helpApi: HelpApi;
  public readonly ordersWebhook: OrdersWebhook;
  /** The survey e-mail score links (`GET|POST /survey/{token}`) on the webhook API. */
  public readonly surveyLink: SurveyLink;
  /** Static hosting of the web inbox and widget (absent with `webInbox: false`). */
  public readonly webInbox?: WebInbox;
  /** The SSM path the functions read channel secrets from. */
  public readonly secretsPath: string;
  /** The phone channel (absent without `connectInstanceArn`). */
  public readonly voice?: Voice;
  /** The Shopify orders pull (absent without `shopifyShop`). */
  public readonly ordersPull?: OrdersPull;

  constructor(scope: Construct, id: string, props: ConfluoStackProps = {}) {
    super(scope, id, props);
    this.secretsPath = props.secretsPath ?? `/confluo/${this.stackName}/`;
    assertSecretsPath(this.secretsPath);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.store = new Store(this, 'Store', { removalPolicy });
    this.ingest = new Ingest(this, 'Ingest', {
      secretsPath: this.secretsPath, rateLimitTable: this.store.table,
      ...(props.ingestReservedConcurrency !== undefined ? { reservedConcurrency: props.ingestReservedConcurrency } : {}),
    });
    this.webchatApi = new WebchatApi(this, 'WebchatApi', { store: this.store, api: this.ingest.api, secretsPath: this.secretsPath });
    // The anonymous routes get their own throttles on the webhook API, apart from the platforms' webhooks.
    this.ingest.throttleRoutes(this.webchatApi.sessionRoutes, PUBLIC_ROUTE_THROTTLES.webchatSession);
    this.ingest.throttleRoutes(this.webchatApi.messagesRoutes, PUBLIC_ROUTE_THROTTLES.webchatMessages);
    this.ingest.throttleRoutes(this.webchatApi.uploadRoutes, PUBLIC_ROUTE_THROTTLES.webchatMessages);
    this.helpApi = new HelpApi(this, 'HelpApi', { store: this.store, api: this.ingest.api, secretsPath: this.secretsPath });
    this.ingest.throttleRoutes(this.helpApi.readRoutes, PUBLIC_ROUTE_THROTTLES.helpRead);
    this.ingest.throttleRoutes(this.helpApi.feedbackRoutes, PUBLIC_ROUTE_THROTTLES.helpFeedback);
    this.ordersWebhook = new OrdersWebhook(this, 'OrdersWebhook', { store: this.store, api: this.ingest.api, secretsPath: this.secretsPath });
    this.outbound = new Outbound(this, 'Outbound', {
      store: this.store,
      secretsPath: this.secretsPath,
      ...(props.emailFrom ? { emailFrom: props.emailFrom } : {}),
    });
    this.slaWorkflow = new SlaWorkflow(this, 'SlaWorkflow', {
      store: this.store,
      secretsPath: this.secretsPath,
      ...(props.escalationEmail ? { escalationEmail: props.escalationEmail } : {}),
      ...(props.emailFrom ? { emailFrom: props.emailFrom } : {}),
      ...(props.slaDefaults ? { defaults: props.slaDefaults } : {}),
    });
    this.surveyWorkflow = new SurveyWorkflow(this, 'SurveyWorkflow', {
      store: this.store,
      ...(props.escalationEmail ? { escalationEmail: props.escalationEmail } : {}),
      ...(props.emailFrom ? { emailFrom: props.emailFrom } : {}),
      ...(props.survey ? { settings: props.survey } : {}),
      secretsPath: this.secretsPath,
      publicUrl: props.publicUrl ?? this.ingest.url,
    });
    this.assignmentWorkflow = new AssignmentWorkflow(this, 'AssignmentWorkflow', { store: this.store });
    this.surveyLink = new SurveyLink(this, 'SurveyLink', {
      store: this.store, api: this.ingest.api, secretsPath: this.secretsPath, settingsEnvironment: this.surveyWorkflow.settingsEnvironment,
    });
    this.ingest.throttleRoutes(this.surveyLink.routes, PUBLIC_ROUTE_THROTTLES.surveyLinks);
    this.processing = new Processing(this, 'Processing', {
      store: this.store,
      secretsPath: this.secretsPath,
      inboundQueue: this.ingest.queue,
      inboundDlq: this.ingest.dlq,
      outboundQueue: this.outbound.queue,
      ...(props.escalationEmail ? { escalationEmail: props.escalationEmail } : {}),
      ...(props.inboundMailBucketName ? { inboundMailBucketName: props.inboundMailBucketName, inboundMailPrefix: props.inboundMailPrefix ?? '' } : {}),
      slaWorkflow: this.slaWorkflow,
      surveyWorkflow: this.surveyWorkflow,
    });
    // The dispatch function starts the offline-return timer when an agent goes offline.
    this.assignmentWorkflow.bindStarter(this.processing.dispatchFunction);
    // The hosted inbox calls the Agent API from its CloudFront origin and signs agents in through
    // the Cognito hosted UI, which sends them back to it. No cycle: the distribution comes first,
    // the app client names it as callback, and config.json (deployed last) names the client.
    const customSignIn = props.signIn?.customDomain ? [`https://${props.signIn.customDomain.domainName}`] : [];
    if (props.webInbox !== false) {
      this.webInbox = new WebInbox(this, 'WebInbox', {
        removalPolicy, ...(props.webInbox ?? {}), connectSources: [...customSignIn, ...(props.webInbox?.connectSources ?? [])],
      });
    }
    const { localhostCallback, ...signIn } = props.signIn ?? {};
    const local = localhostCallback ? 'http://localhost:3000' : undefined;
    this.agentApi = new AgentApi(this, 'AgentApi', {
      store: this.store,
      secretsPath: this.secretsPath,
      outboundQueue: this.outbound.queue,
      removalPolicy,
      ...(this.webInbox
        ? {
            allowedOrigins: [`https://${this.webInbox.distribution.distributionDomainName}`, ...(local ? [local] : [])],
            signIn: { ...signIn, callbackUrls: [this.webInbox.url, ...(local ? [`${local}/`] : [])] },
          }
        : {}),
    });
    if (this.webInbox && this.agentApi.signIn) {
      this.webInbox.addConfig({
        apiBase: `${this.agentApi.url}api/v1`,
        // The help centre page (help.html) searches through the public help API on the webhook API.
        helpApiBase: this.ingest.url,
        auth: { kind: 'cognito', domain: this.agentApi.signIn.host, clientId: this.agentApi.userPoolClient.userPoolClientId, redirectUri: this.webInbox.url },
      });
    }
    // Attachments: each function gets only the verb it uses (lib/media.ts).
    this.media = new Media(this, 'Media', {
      removalPolicy,
      ...(props.mediaRetentionDays !== undefined ? { retentionDays: props.mediaRetentionDays } : {}),
      corsOrigins: [
        ...(this.webInbox ? [`https://${this.webInbox.distribution.distributionDomainName}`] : []),
        ...(local ? [local] : []),
        ...(props.mediaUploadOrigins ?? []),
      ],
    });
    // The process function keeps an e-mail's raw MIME for the media function (its queue message is
    // the only other copy); the Agent API signs download URLs; dispatch runs GDPR erasure chunks.
    this.media.grantPut(this.processing.processFunction, INBOUND_MAIL_KEYS);
    this.media.grantRead(this.agentApi.function);
    // Agents' uploads: the Agent API signs their POST forms (only under the agents' prefix) and
    // reads them back to check; the send function reads every file it sends (URL or bytes).
    this.media.grantPut(this.agentApi.function, AGENT_UPLOAD_KEYS);
    this.media.grantRead(this.outbound.function);
    // Web-chat visitors' uploads: the widget API signs POST forms under the visitors' prefix and
    // signs GET links for the files of the conversation (the visitor's own and the agents').
    this.media.grantPut(this.webchatApi.function, 'uploads/webchat/*');
    this.media.grantRead(this.webchatApi.function);
    this.media.grantDelete(this.processing.dispatchFunction);
    this.inboundMedia = new InboundMedia(this, 'InboundMedia', {
      store: this.store, media: this.media, dispatch: this.processing.dispatchFunction, secretsPath: this.secretsPath,
      ...(props.mediaLimits ? { limits: props.mediaLimits } : {}),
    });
    if (props.mediaUrlSeconds !== undefined) this.agentApi.function.addEnvironment('CONFLUO_MEDIA_URL_SECONDS', String(props.mediaUrlSeconds));
    // GET /api/v1/sla/* shows the deployment's defaults until supervisors store their own.
    if (this.slaWorkflow.defaultsJson) this.agentApi.function.addEnvironment('CONFLUO_SLA_DEFAULTS', this.slaWorkflow.defaultsJson);
    this.export = new Export(this, 'Export', {
      store: this.store, removalPolicy,
      ...(props.exportMessageText ? { messageText: true } : {}),
      ...(this.slaWorkflow.defaultsJson ? { slaDefaultsJson: this.slaWorkflow.defaultsJson } : {}),
    });
    // Before Observability, which alarms on every function of the stack.
    if (props.connectInstanceArn) {
      this.voice = new Voice(this, 'Voice', { connectInstanceArn: props.connectInstanceArn, store: this.store, ...(props.connectRecordings ? { recordings: true } : {}) });
    }
    if (props.shopifyShop) {
      this.ordersPull = new OrdersPull(this, 'OrdersPull', {
        shop: props.shopifyShop, store: this.store, secretsPath: this.secretsPath,
        ...(props.shopifyPullMinutes !== undefined ? { pullMinutes: props.shopifyPullMinutes } : {}),
      });
    }
    this.observability = new Observability(this, 'Observability', {
      ...(this.voice ? { voice: this.voice } : {}),
      ingest: this.ingest,
      processing: this.processing,
      outbound: this.outbound,
      agentApi: this.agentApi,
      slaWorkflow: this.slaWorkflow,
      surveyWorkflow: this.surveyWorkflow,
      assignmentWorkflow: this.assignmentWorkflow,
      export: this.export,
      inboundMedia: this.inboundMedia,
      removalPolicy,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });

    // Retention settings reach every function that writes the table (they are only read there).
    if ((props.retention?.messageDays ?? 7) < 7 || (props.retention?.feedDays ?? 2) < 2 || ![props.retention?.messageDays ?? 7, props.retention?.feedDays ?? 2].every(Number.isInteger)) {
      throw new Error('retention: messageDays must be a whole number ≥ 7 and feedDays ≥ 2 (the export reads the feed since its last run)');
    }
    const retention: Record<string, string> = {
      ...(props.retention?.messageDays !== undefined ? { CONFLUO_MESSAGE_TTL_DAYS: String(props.retention.messageDays) } : {}),
      ...(props.retention?.feedDays !== undefined ? { CONFLUO_FEED_TTL_DAYS: String(props.retention.feedDays) } : {}),
    };
    for (const fn of this.node.findAll().filter((c): c is ConfluoFunction => c instanceof ConfluoFunction)) {
      for (const [k, v] of Object.entries(retention)) fn.addEnvironment(k, v);
    }

    new CfnOutput(this, 'WebhookBaseUrl', {
      value: `${this.ingest.url}webhooks/`,
      description: 'Append the channel name (e.g. telegram) and register the URL with the platform',
    });
    new CfnOutput(this, 'AgentApiUrl', {
      value: `${this.agentApi.url}api/v1/`,
      description: 'Agent API base URL (OpenAPI document at openapi.json)',
    });
    if (this.webInbox) new CfnOutput(this, 'WebInboxUrl', { value: this.webInbox.url, description: 'The web inbox (widget: webchat/widget.js)' });
    new CfnOutput(this, 'SecretsPath', {
      value: this.secretsPath,
      description: 'Store channel secrets as SecureString SSM parameters under this path',
    });
  }
}
