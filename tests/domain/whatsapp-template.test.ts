/** WhatsApp template registry entries (functions/domain/whatsapp-template.ts): checked when saved, filled per ticket, picked per use and language. */
import { describe, expect, it } from 'vitest';
import { fillWhatsAppTemplate, templateFor, WhatsAppTemplateListSchema, WhatsAppTemplateSchema, type WhatsAppTemplate } from '../../functions/domain/whatsapp-template.js';

const update: WhatsAppTemplate = { name: 'ticket_update', language: 'en_US', category: 'UTILITY', body: 'Hi {{1}}, there is news on {{2}}.', parameters: ['customer.first_name', 'ticket.number'] };

describe('WhatsApp templates', () => {
  it('takes an entry whose {{n}} match its parameters, and refuses gaps, extra or missing values and foreign placeholders', () => {
    expect(WhatsAppTemplateSchema.safeParse(update).success).toBe(true);
    expect(WhatsAppTemplateSchema.safeParse({ ...update, parameters: ['ticket.number'] }).error?.issues[0]?.message).toMatch(/2 parameter/);
    expect(WhatsAppTemplateSchema.safeParse({ ...update, body: 'Hi {{2}}' , parameters: ['ticket.number', 'agent.name'] }).error?.issues[0]?.message).toMatch(/not \{\{1\}\}/);
    expect(WhatsAppTemplateSchema.safeParse({ ...update, body: 'Hi {{customer.name}}', parameters: [] }).success).toBe(false);
    expect(WhatsAppTemplateSchema.safeParse({ ...update, name: 'Ticket Update' }).success).toBe(false);
    expect(WhatsAppTemplateListSchema.safeParse([update, update]).error?.issues[0]?.message).toMatch(/twice/);
  });

  it('fills the parameters in order, or names the values the ticket lacks', () => {
    expect(fillWhatsAppTemplate(update, { 'customer.first_name': 'Ana', 'ticket.number': 'C-000042' })).toEqual({ ok: true, value: { name: 'ticket_update', language: 'en_US', parameters: ['Ana', 'C-000042'], text: 'Hi Ana, there is news on C-000042.' } });
    expect(fillWhatsAppTemplate(update, { 'customer.first_name': ' ', 'ticket.number': 'C-1' })).toEqual({ ok: false, missing: ['customer.first_name'] });
  });

  it('picks the survey template closest to the customer\'s language', () => {
    const survey = (language: string): WhatsAppTemplate => ({ ...update, name: 'survey', language, use_for: ['survey'] });
    const list = [update, survey('en_US'), survey('pt_BR'), survey('de')];
    expect(templateFor(list, 'survey', 'pt-BR')?.language).toBe('pt_BR');
    expect(templateFor(list, 'survey', 'pt')?.language).toBe('pt_BR');
    expect(templateFor(list, 'survey', 'pl')?.language).toBe('en_US');
    expect(templateFor(list, 'reminder', 'en')).toBeUndefined();
  });
});
