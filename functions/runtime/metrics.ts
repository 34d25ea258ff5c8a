/** CloudWatch metrics (EMF via Powertools) for the webhook edge and the process function. */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { IngestMetrics, ProcessMetrics, VoiceMetrics } from './ports.js';

/** One count of `name` with its own dimensions, flushed at once (a single metric: dimensions differ per call). */
function counter(serviceName: string): (name: string, dims: Record<string, string>) => void {
  const metrics = new Metrics({ namespace: 'Confluo', serviceName });
  return (name, dims) => {
    const m = metrics.singleMetric();
    for (const [k, v] of Object.entries(dims)) m.addDimension(k, v);
    m.addMetric(name, MetricUnit.Count, 1);
  };
}

export function powertoolsIngestMetrics(): IngestMetrics {
  const count = counter('ingest');
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
  const count = counter('process');
  return {
    ignored: (channel, reason, malformed) => {
      count('InboundIgnored', { channel, reason });
      if (malformed) count('InboundMalformed', { channel, reason });
    },
  };
}

/** Counters of the phone channel (ports.ts `VoiceMetrics`); `VoiceLookupFailed` is alarmed (lib/voice.ts). */
export function powertoolsVoiceMetrics(): VoiceMetrics {
  const count = counter('voice');
  return {
    lookupFailed: () => count('VoiceLookupFailed', {}),
    callUnfiled: (reason) => count('VoiceCallUnfiled', { reason }),
  };
}
