import type { JarvisErrorCode } from '../shared/errors.js';
import { StoreError } from '../store/types.js';
import { HttpError } from './errors.js';

/** The code a StoreError is sent as (its status is the registry's, src/shared/errors.ts); internal ones stay 500s. */
const CODE: Record<Exclude<StoreError['code'], 'internal'>, JarvisErrorCode> = {
  not_found: 'not_found',
  conflict: 'conflict',
  invalid: 'invalid_request',
  unavailable: 'store_unavailable',
};

/** Runs a store call; its StoreError becomes the HTTP error the client sees, with the store's words. */
export async function storeCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof StoreError && err.code !== 'internal') throw new HttpError(CODE[err.code], err.message);
    throw err;
  }
}
