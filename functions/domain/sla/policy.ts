/**
 * SLA targets of a new ticket. Defaults of DESIGN.md §2 on the `24x7` UTC calendar
 * (normal: 1 h first response, 4 h next response, 24 h resolution; urgent: 15 min / 1 h / 4 h).
 * Business-hours calendars and escalations build on this (sla/ workflow).
 */
import type { Priority } from '../ticket.js';

export interface Targets { readonly firstResponseMs: number; readonly nextResponseMs: number; readonly resolutionMs: number }

const MIN = 60_000;
const HOUR = 60 * MIN;

export const DEFAULT_TARGETS: Readonly<Record<Priority, Targets>> = {
  low: { firstResponseMs: 4 * HOUR, nextResponseMs: 8 * HOUR, resolutionMs: 48 * HOUR },
  normal: { firstResponseMs: 1 * HOUR, nextResponseMs: 4 * HOUR, resolutionMs: 24 * HOUR },
  high: { firstResponseMs: 30 * MIN, nextResponseMs: 2 * HOUR, resolutionMs: 8 * HOUR },
  urgent: { firstResponseMs: 15 * MIN, nextResponseMs: 1 * HOUR, resolutionMs: 4 * HOUR },
};

export function initialSla(priority: Priority, createdMs: number, targets: Targets = DEFAULT_TARGETS[priority]) {
  return {
    policy: `default-${priority}`,
    first_response_due: createdMs + targets.firstResponseMs,
    next_response_due: null,
    resolution_due: createdMs + targets.resolutionMs,
    breached: [] as string[],
    escalation_level: 0,
  };
}
