/**
 * What a Shopify setting must look like (functions/runtime/config.ts validates with these at
 * every cold start, so they live apart from the connector: functions/domain/shopify.ts).
 */

/** A shop's permanent domain: `<name>.myshopify.com` (never a custom domain: the Admin API lives here). */
export const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]{0,59}\.myshopify\.com$/;
/** Admin API versions are quarterly `YYYY-MM` (01, 04, 07, 10), each supported ≥ 12 months (https://shopify.dev/docs/api/usage/versioning). */
export const API_VERSION = /^20\d\d-(01|04|07|10)$/;
