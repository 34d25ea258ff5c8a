/**
 * The shop's orders in the inbox (issue 19, README "Orders"): the customer card's recent orders
 * (`GET /customers/{id}` `orders`, newest first: number, status, total, when placed, what, the
 * tracking link) and, on a customer's message, the orders it mentions ("where is order 51050?" —
 * the timeline's `orders`, only the ticket's own customer's).
 *
 * Tracking links come from the shop's data: they become links only through `safeLinkUrl` (https,
 * never `javascript:`), and open in a new tab without a referrer. Strings come from the inbox's
 * catalogue (web/inbox/messages.ts); amounts and dates use the agent's locale.
 */
import { h } from 'preact';
import htm from 'htm';
import { safeLinkUrl } from './safe-url.js';
import type { CardOrder, OrderMention } from './api.js';
import type { InboxKey } from './messages.js';

const html = htm.bind(h);
type T = (key: InboxKey, params?: Record<string, string | number>) => string;

/** The card shows this many; the API sends the ten newest. */
const SHOWN = 5;

function money(amount: number, currency: string, locale: string): string {
  try { return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount); } catch { return `${amount} ${currency}`; }
}

function Tracking({ url, t }: { url: string | null; t: T }) {
  const href = safeLinkUrl(url, location.href);
  return href ? html`<a class="tracking" href=${href} target="_blank" rel="noopener noreferrer">${t('orders.track')} ↗</a>` : null;
}

const statusOf = (t: T, status: string) => html`<span class=${`order-status os-${status}`}>${t(`orders.status.${status}` as InboxKey)}</span>`;

/** The card's "Orders" section; nothing when the customer has none. */
export function CardOrders({ orders, t, locale }: { orders: readonly CardOrder[] | undefined; t: T; locale: string }) {
  if (!orders || orders.length === 0) return null;
  const date = (iso: string) => new Date(iso).toLocaleDateString(locale, { dateStyle: 'medium' });
  return html`<h3>${t('orders.title')}</h3>
    <ul class="orders" aria-label=${t('orders.title')}>${orders.slice(0, SHOWN).map((o) => {
      const items = o.items.map((i) => `${i.quantity} × ${i.name}`);
      return html`<li data-order=${o.number}>
        <div><strong>${t('orders.number', { number: o.number })}</strong> ${statusOf(t, o.status)} <span class="muted">${money(o.totals.total, o.totals.currency, locale)}</span></div>
        <div class="muted">${t('orders.placed', { date: date(o.placed_at) })}${o.shipped_at ? ` · ${t('orders.shipped', { date: date(o.shipped_at) })}` : ''}</div>
        ${items.length > 0 && html`<div class="order-items">${items.slice(0, 2).join(', ')}${items.length > 2 ? ` ${t('orders.more', { n: items.length - 2 })}` : ''}</div>`}
        <${Tracking} url=${o.tracking_url} t=${t} />
      </li>`;
    })}</ul>
    ${orders.length > SHOWN && html`<p class="muted">${t('orders.older', { n: orders.length - SHOWN })}</p>`}`;
}

/** Under a message: the orders it mentions, with their status and tracking. */
export function MentionedOrders({ orders, t }: { orders: readonly OrderMention[] | undefined; t: T }) {
  if (!orders || orders.length === 0) return null;
  return html`<ul class="mentioned-orders" aria-label=${t('orders.mentioned')}>${orders.map((o) => html`<li data-order=${o.number}>
    ${t('orders.number', { number: o.number })} ${statusOf(t, o.status)} <${Tracking} url=${o.tracking_url} t=${t} />
  </li>`)}</ul>`;
}
