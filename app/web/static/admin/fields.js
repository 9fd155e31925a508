// How the admin forms show and read each kind of field. Pure: text in, JSON values out;
// a value that cannot be read throws FieldError naming the field.

export const CHANNELS = ['voice', 'email', 'chat'];

export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/** "support:2, mandarin:3" <-> [{skill: 'support', level: 2}, ...] */
export function skillsText(skills) {
  return (skills || []).map((s) => `${s.skill}:${s.level}`).join(', ');
}

function readPairs(field, text, shape) {
  const pairs = text.split(/[,，\s]+/).filter(Boolean).map((part) => {
    const [name, number] = part.split(/[:：=]/);
    const value = Number(number);
    if (!name || !Number.isInteger(value)) throw new FieldError(field.key, `${part}: ${shape}`);
    return [name.trim(), value];
  });
  return pairs;
}

/** "voice:1, chat:3" <-> {voice: 1, chat: 3} */
export function capacityText(capacity) {
  return Object.entries(capacity || {}).map(([channel, n]) => `${channel}:${n}`).join(', ');
}

/** The text a field's input starts with, for a row (null: a new row). */
export function initialText(field, row) {
  const value = row ? row[field.key] : field.default;
  if (value === undefined || value === null) return field.type === 'channels' ? [] : '';
  if (field.type === 'skills') return skillsText(value);
  if (field.type === 'capacity') return capacityText(value);
  if (field.type === 'channels' || field.type === 'boolean') return value;
  return String(value);
}

/** The JSON value of a field's input; undefined leaves the field out of the request. */
export function readField(field, input, creating) {
  if (field.type === 'boolean' || field.type === 'channels') return input;
  const text = String(input).trim();
  if (text === '') {
    if (field.type === 'password' || creating) return undefined;
    return field.type === 'skills' ? [] : field.type === 'capacity' ? {} : null;
  }
  if (field.type === 'number') {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new FieldError(field.key, `${text}: not a number`);
    return value;
  }
  if (field.type === 'skills') {
    return readPairs(field, text, 'skill:level').map(([skill, level]) => ({ skill, level }));
  }
  if (field.type === 'capacity') {
    return Object.fromEntries(readPairs(field, text, 'channel:count'));
  }
  return text;
}

/** A column's value as shown in the table. */
export function cellText(column, row) {
  const value = row[column.key];
  if (column.type === 'skills') return skillsText(value);
  if (column.type === 'capacity') return capacityText(value);
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'boolean') return value ? '✓' : '–';
  return value === null || value === undefined ? '' : String(value);
}
