import { describe, expect, it } from 'vitest';
import { cbField, defineCallback } from '../../src/bot/callbacks/index.js';

const cb = defineCallback('att', { l: cbField.objectId(), i: cbField.int(0, 99), on: cbField.bool() });
const ID = '65f0c0ffee0123456789abcd';

describe('callback data', () => {
  it('round-trips typed values', () => {
    const data = cb.pack({ l: ID, i: 7, on: true });
    expect(data).toBe(`att:${ID}:7:1`);
    expect(cb.unpack(data)).toEqual({ l: ID, i: 7, on: true });
    expect(cb.filter.test(data)).toBe(true);
  });

  it('refuses forged or malformed data', () => {
    expect(cb.unpack(`att:${ID}:100:1`)).toBeUndefined();
    expect(cb.unpack('att:not-an-id:1:1')).toBeUndefined();
    expect(cb.unpack(`xyz:${ID}:1:1`)).toBeUndefined();
    expect(cb.unpack(`att:${ID}:1`)).toBeUndefined();
    expect(cb.unpack(undefined)).toBeUndefined();
  });

  it('never packs more than 64 bytes', () => {
    const wide = defineCallback('w', { a: cbField.objectId(), b: cbField.objectId(), c: cbField.objectId() });
    expect(() => wide.pack({ a: ID, b: ID, c: ID })).toThrow(/64/);
  });
});
