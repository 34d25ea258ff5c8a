/**
 * The agent's presence selector in the top bar (issue 15, README "Automatic assignment"):
 * `available` receives tickets of teams with automatic assignment, `away` and `offline` do not.
 * Reads the agent's own row of `GET /agents` (presence, load, capacity) and sets it through
 * `PUT /agents/me/presence`. Strings come from the inbox's catalogue (web/inbox/messages.ts).
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { errorText, type Api } from './api.js';
import type { InboxKey } from './messages.js';

const html = htm.bind(h);

export const PRESENCES = ['available', 'away', 'offline'] as const;
export type Presence = (typeof PRESENCES)[number];
const LABELS: Record<Presence, InboxKey> = { available: 'presence.available', away: 'presence.away', offline: 'presence.offline' };

interface AgentRow { id: string; presence: Presence; load: number; capacity: number }

export function PresenceSelect({ api, agent, t }: { api: Api; agent: string; t: (key: InboxKey) => string }) {
  const [me, setMe] = useState<AgentRow | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    api.get<{ items: AgentRow[] }>('/agents')
      .then((r) => { if (live) setMe(r.items.find((a) => a.id === agent) ?? { id: agent, presence: 'offline', load: 0, capacity: 0 }); })
      .catch((e) => { if (live) setError(errorText(e)); });
    return () => { live = false; };
  }, [api, agent]);
  const change = async (e: Event) => {
    const presence = (e.target as HTMLSelectElement).value as Presence;
    setBusy(true);
    try {
      setMe(await api.call<AgentRow>('PUT', '/agents/me/presence', { presence }));
      setError(null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="presence">
    <label for="presence-select">${t('presence.label')}</label>
    <select id="presence-select" value=${me?.presence ?? 'offline'} disabled=${busy || !me} onChange=${change}>
      ${PRESENCES.map((p) => html`<option value=${p}>${t(LABELS[p])}</option>`)}
    </select>
    ${me && me.capacity > 0 ? html`<span class="load" title=${t('presence.load')}>${me.load}/${me.capacity}</span>` : ''}
    ${error ? html`<span role="alert" class="error">${error}</span>` : ''}
  </span>`;
}
