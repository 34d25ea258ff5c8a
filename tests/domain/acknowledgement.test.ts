import { describe, it, expect } from 'vitest';
import { acknowledgementText, humanDuration } from '../../functions/domain/acknowledgement.js';

describe('acknowledgement text', () => {
  it('names the ticket number and the expected response time in the customer language', () => {
    expect(acknowledgementText({ language: 'ru', ticketNumber: 'C-000042', responseMs: 3_600_000 }).text)
      .toBe('Спасибо за обращение. Номер вашего запроса C-000042; мы ответим в течение 1 часа.');
  });

  it('falls back to English for a language without a template and uses the base language of a tag', () => {
    expect(acknowledgementText({ language: 'ja', ticketNumber: 'C-1', responseMs: 900_000 })).toMatchObject({ language: 'en', text: expect.stringContaining('within 15 minutes') });
    expect(acknowledgementText({ language: 'pl-PL', ticketNumber: 'C-1', responseMs: 4 * 3_600_000 }).language).toBe('pl');
  });

  it('uses the genitive Russian and Polish need after "within"', () => {
    expect(humanDuration(3_600_000, 'ru')).toBe('1 часа');
    expect(humanDuration(2 * 3_600_000, 'ru')).toBe('2 часов');
    expect(humanDuration(22 * 60_000, 'ru')).toBe('22 минут');
    expect(humanDuration(3 * 60_000, 'pl')).toBe('3 minut');
    expect(humanDuration(90 * 60_000, 'en')).toBe('90 minutes');
  });

  it('picks the genitive form by the plural rules of the language, not by "n = 1" (21 часа, not 21 часов)', () => {
    const hours = [1, 2, 5, 21, 22, 25, 111];
    expect(hours.map((n) => humanDuration(n * 3_600_000, 'ru'))).toEqual(['1 часа', '2 часов', '5 часов', '21 часа', '22 часов', '25 часов', '111 часов']);
    expect(hours.map((n) => humanDuration(n * 3_600_000, 'pl'))).toEqual(['1 godziny', '2 godzin', '5 godzin', '21 godzin', '22 godzin', '25 godzin', '111 godzin']);
    expect(humanDuration(21 * 60_000, 'ru')).toBe('21 минуты');
    expect(humanDuration(31 * 60_000, 'pl')).toBe('31 minut');
    expect(acknowledgementText({ language: 'ru', ticketNumber: 'C-7', responseMs: 21 * 3_600_000 }).text).toContain('в течение 21 часа.');
  });

  it('accepts custom templates', () => {
    expect(acknowledgementText({ ticketNumber: 'T-7', responseMs: 60_000, templates: { en: 'Got it: {{ticket.number}} ({{response_time}})' } }).text).toBe('Got it: T-7 (1 minute)');
  });
});
