/**
 * The maximum message size of Confluo's queues, set explicitly on every queue and DLQ: the
 * default has changed (256 KiB until SQS raised the limit to 1 MiB in 2025) and sources still
 * disagree on it, so the template must not depend on it.
 *
 * Why 1 MiB, the SQS maximum (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html):
 * an inbound envelope (functions/channels/envelope.ts) holds the webhook body base64-encoded,
 * 4 bytes per 3, plus a few hundred bytes of JSON (channel, request id, the headers a channel
 * keeps — at most a 200-character Twilio idempotency token — and the web-chat visitor claims).
 * The largest body is an e-mail notification, 524,288 bytes (email `maxBodyBytes`):
 * 4 × ⌈524,288 / 3⌉ = 699,052 bytes of base64, about 700 KB with the JSON — over the old 256 KiB
 * cap, well under 1 MiB. SQS counts message attributes too (the process function's own
 * dead-lettering adds `reason`, ≤ 300 characters, and `receive_count`), so each DLQ takes the
 * same size as its source. Outbound jobs are references (ticket id, entry key, message id), far
 * smaller; their queues use the same size because a lower cap would only add a way to fail (SQS
 * bills by the 64 KiB chunks actually sent, not by the cap). A batch of ten 700 KB records is
 * more than Lambda's 6 MB invocation payload; the event source mapping then hands the function
 * fewer records per batch (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html#lambda-CreateEventSourceMapping-request-BatchSize).
 * tests/infra/queue-size.test.ts checks a maximal envelope of every channel against the template.
 */
export const QUEUE_MAX_MESSAGE_BYTES = 1_048_576;
