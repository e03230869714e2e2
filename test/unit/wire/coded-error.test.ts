// The one error shape: a stable code, the subclass's name, and the cause passed on.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CryptoError } from '../../../src/crypto/errors.ts';
import { CodedError } from '../../../src/wire/coded-error.ts';
import { WireError } from '../../../src/wire/errors.ts';

it('a layer error carries its code, its own name and the cause', () => {
  const cause = new Error('underneath');
  const e = new WireError('BAD_FIELD', 'a bad field', { cause });
  assert.ok(e instanceof WireError && e instanceof CodedError && e instanceof Error);
  assert.equal(e.code, 'BAD_FIELD');
  assert.equal(e.name, 'WireError');
  assert.equal(e.message, 'a bad field');
  assert.equal(e.cause, cause);
  assert.match(String(new CryptoError('BAD_KEY', 'short key')), /^CryptoError: short key$/);
});
