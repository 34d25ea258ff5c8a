/** The export holds attachment counts and types only: no key, hash, size or byte of a stored attachment (issue 14). */
import { describe, expect, it } from 'vitest';
import { messageRow, SCHEMAS } from '../../functions/domain/export-schema.js';

describe('messages export and stored attachments', () => {
  it('exports a message with stored attachments as counts and types only', () => {
    const row = messageRow({
      id: 'M1', ticket_id: 'T1', at: 1, channel: 'telegram', direction: 'in', text: 'photo',
      attachments: [
        { type: 'image', media: { status: 'stored', key: 'tickets/T1/messages/M1/0', size: 543, content_type: 'image/jpeg', sha256: 'a'.repeat(64) } },
        { type: 'document', media: { status: 'too_large', reason: 'larger than the 25 MB limit' } },
      ] as never,
    }, 'C1', { messageText: true, customerProfile: false, erased: false });
    expect(row).toMatchObject({ attachment_count: 2, attachment_types: ['image', 'document'] });
    const json = JSON.stringify(row);
    for (const leak of ['tickets/T1', 'image/jpeg', 'a'.repeat(64), 'too_large', '543']) expect(json).not.toContain(leak);
    expect(SCHEMAS.messages.columns.map((c) => c.name).filter((n) => n.includes('attach'))).toEqual(['attachment_count', 'attachment_types']);
  });
});
