import { describe, expect, it } from 'vitest';
import { anthropicErrorBody } from '../../../src/server/protocols/anthropic/errors.js';
import { wireError, withMessage } from '../../../src/shared/errors.js';

// Jarvis's registry codes in Anthropic's error vocabulary (docs/anthropic.md "Errors"): the type
// the SDK and Claude Code act on, the status kept as the registry's.

describe('Anthropic error types', () => {
  it('maps statuses and the "busy now" codes', () => {
    const type = (err: ReturnType<typeof withMessage>) => anthropicErrorBody(err).error.type;
    expect(type(wireError('invalid_api_key'))).toBe('authentication_error');
    expect(type(wireError('admin_required', { key: 'k' }))).toBe('permission_error');
    expect(type(wireError('model_not_found', { model: 'm' }))).toBe('not_found_error');
    expect(type(wireError('too_many_streams', { max: 1 }))).toBe('rate_limit_error');
    expect(type(wireError('body_too_large'))).toBe('invalid_request_error');
    expect(type(withMessage('timeout', 'slow'))).toBe('timeout_error');
    expect(type(withMessage('upstream_error', 'broke'))).toBe('api_error');
    for (const busy of [withMessage('engine_busy', 'full'), wireError('server_busy', { max: 1 }), wireError('shutting_down')]) {
      expect(anthropicErrorBody(busy)).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
      expect(busy.status).toBe(503);
    }
  });
});
