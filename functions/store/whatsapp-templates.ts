/**
 * The WhatsApp template registry (`GET/PUT /api/v1/whatsapp/templates`): one item holding the
 * list, written conditional on the version read (two supervisors saving at once: the second gets
 * a 409, never a silent overwrite).
 *
 * | item                    | pk                          | sk       | attributes                         |
 * |-------------------------|-----------------------------|----------|------------------------------------|
 * | WhatsApp templates      | SETTINGS#whatsapp-templates | SETTINGS | items [template], version, updated_at/by |
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { WhatsAppTemplate } from '../domain/whatsapp-template.js';
import { putVersioned, type Db } from './db.js';

export const whatsappTemplateKey = () => ({ pk: 'SETTINGS#whatsapp-templates', sk: 'SETTINGS' });

export interface StoredWhatsAppTemplates { readonly items: WhatsAppTemplate[]; readonly version: number; readonly updated_at?: number; readonly updated_by?: string }

/** 1 round trip. Version 0 = none registered. */
export async function getWhatsAppTemplates(db: Db): Promise<StoredWhatsAppTemplates> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: whatsappTemplateKey(), ConsistentRead: true }));
  if (!res.Item) return { items: [], version: 0 };
  const { pk: _p, sk: _s, ...rest } = res.Item;
  return rest as StoredWhatsAppTemplates;
}

/** Replace the registry, conditional on the version read. False on a lost race. */
export async function putWhatsAppTemplates(db: Db, args: { items: WhatsAppTemplate[]; expectedVersion: number; by: string; now: number }): Promise<boolean> {
  return putVersioned(db, { ...whatsappTemplateKey(), items: args.items, updated_at: args.now, updated_by: args.by }, args.expectedVersion);
}
