/**
 * The settings every channel's `samples/` are signed against (channels.md §10): the public test
 * secrets plus the non-secret values (group id, webhook URL, SNS topic, test PKI). `npm start --
 * --sample-secrets` runs with them so every sample can be replayed locally; tests use them too.
 * Never for a deployment: bin/local.ts warns whenever a public test secret is in force.
 */
import { TEST_SECRETS } from '../functions/runtime/config.js';

export const SAMPLE_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  ...TEST_SECRETS,
  VK_GROUP_ID: '100200300',
  TWILIO_WEBHOOK_URL: 'https://hooks.acme.example/webhooks/twilio',
  EMAIL_SNS_TOPIC_ARN: 'arn:aws:sns:eu-central-1:111122223333:acme-support-mail',
  SNS_CERT_DIR: 'functions/channels/email/samples/pki',
  SNS_TRUST_ROOT_PEM: 'functions/channels/email/samples/pki/test-ca.pem',
  EMAIL_FROM: 'Acme Support <support@acme.example>',
  // Outbound senders the samples' replies go out from (the tokens are TEST_SECRETS).
  WHATSAPP_PHONE_NUMBER_ID: '120300400500600',
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
});
