/** CloudWatch metrics (EMF via Powertools) for the webhook edge and the process function. */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { IngestMetrics, ProcessMetrics, VoiceMetrics } from './ports.js';

export function powertoolsIngestMetrics(): IngestMetrics {
  const metrics = new Metrics({ namespace: 'Confluo', serviceName: 'ingest' });
  const count = (name: string, dims: Record<string, string>) => {
    const m = metrics.singleMetric();
    for (const [k, v] of Object.entries(dims)) m.addDimension(k, v);
    m.addMetric(name, MetricUnit.Count, 1);
  };
  return {
    rejected: (channel, reason) => count('WebhookRejected', { channel, reason: reason.split(':')[0] ?? reason }),
    // Meta documents payloads of up to 3 MB: an oversized batch is refused and retried, so alarm on it.
    tooLarge: (channel) => count('WebhookTooLarge', { channel }),
    accepted: (channel) => count('WebhookAccepted', { channel }),
  };
}

/**
 * `InboundIgnored` {channel, reason} for every authenticated event the process function drops, and
 * `InboundMalformed` {channel, reason} as well when the adapter called it malformed (alarmed:
 * lib/observability.ts) — a platform changed its format, or something sends signed nonsense.
 */
export function powertoolsProcessMetrics(): ProcessMetrics {
  const metrics = new Metrics({ namespace: 'Confluo', serviceName: 'process' });
  const count = (name: string, dims: Record<string, string>) => {
    const m = metrics.singleMetric();
    for (const [k, v] of Object.entries(dims)) m.addDimension(k, v);
    m.addMetric(name, MetricUnit.Count, 1);
  };
  return {
    ignored: (channel, reason, malformed) => {
      count('InboundIgnored', { channel, reason });
      if (malformed) count('InboundMalformed', { channel, reason });
    },
  };
}

/** Counters of the phone channel (ports.ts `VoiceMetrics`); `VoiceLookupFailed` is alarmed (lib/voice.ts). */
export function powertoolsVoiceMetrics(): VoiceMetrics {
  const metrics = new Metrics({ namespace: 'Confluo', serviceName: 'voice' });
  const count = (name: string, dims: Record<string, string>) => {
    const m = metrics.singleMetric();
    for (const [k, v] of Object.entries(dims)) m.addDimension(k, v);
    m.addMetric(name, MetricUnit.Count, 1);
  };
  return {
    lookupFailed: () => count('VoiceLookupFailed', {}),
    callUnfiled: (reason) => count('VoiceCallUnfiled', { reason }),
  };
}
