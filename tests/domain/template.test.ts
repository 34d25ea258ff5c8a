import { describe, expect, it } from 'vitest';
import { firstNameOf, parseTemplate, pickLanguage, renderTemplate, TemplateError, templateVariables } from '../../functions/domain/template.js';

describe('canned answer templates', () => {
  it('fills in customer, ticket and agent variables', () => {
    const r = renderTemplate('Hi {{customer.first_name}}, ticket {{ ticket.number }} is with {{agent.name}}.', { 'customer.first_name': 'Anna', 'ticket.number': 'C-000042', 'agent.name': 'Bob' });
    expect(r).toEqual({ ok: true, text: 'Hi Anna, ticket C-000042 is with Bob.' });
  });

  it('refuses an unknown variable when parsed, naming it and the known ones', () => {
    expect(() => templateVariables('Hello {{customer.last_name}}')).toThrow(TemplateError);
    expect(() => templateVariables('Hello {{customer.last_name}}')).toThrow(/unknown template variable \{\{customer.last_name\}\}.*\{\{customer.first_name\}\}/);
  });

  it('refuses broken braces', () => {
    expect(() => parseTemplate('Hello {{customer.first_name')).toThrow(/unbalanced/);
    expect(() => parseTemplate('Hello }} there')).toThrow(/unbalanced/);
  });

  it('uses a fallback for a missing value, and reports a missing value without one instead of a blank', () => {
    expect(renderTemplate('Hi {{customer.first_name | there}}!', {})).toEqual({ ok: true, text: 'Hi there!' });
    expect(renderTemplate('Hi {{customer.first_name}}!', { 'customer.first_name': null })).toEqual({ ok: false, missing: ['customer.first_name'] });
  });

  it('lists the variables a text uses', () => {
    expect(templateVariables('{{ticket.number}} {{agent.name}} {{ticket.number}}')).toEqual(['ticket.number', 'agent.name']);
  });

  it('picks the exact language, then the base language, then English, then the first', () => {
    expect(pickLanguage(['en', 'pl', 'pt'], 'pl')).toBe('pl');
    expect(pickLanguage(['en', 'pt'], 'pt-BR')).toBe('pt');
    expect(pickLanguage(['en', 'pt-BR'], 'pt')).toBe('pt-BR');
    expect(pickLanguage(['de', 'en'], 'ru')).toBe('en');
    expect(pickLanguage(['ru', 'de'], undefined)).toBe('de');
  });

  it('takes the first word of a display name as the first name', () => {
    expect(firstNameOf('  Anna Kowalska ')).toBe('Anna');
    expect(firstNameOf('')).toBeNull();
    expect(firstNameOf(undefined)).toBeNull();
  });
});
