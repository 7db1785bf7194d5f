import { StoreError } from '../store/types.js';
import { HttpError } from './errors.js';

const STATUS: Record<Exclude<StoreError['code'], 'internal'>, [number, string]> = {
  not_found: [404, 'not_found'],
  conflict: [409, 'conflict'],
  invalid: [400, 'invalid_request'],
  unavailable: [503, 'store_unavailable'],
};

/** Runs a store call; its StoreError becomes the HTTP error the client sees (internal ones stay 500s). */
export async function storeCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof StoreError && err.code !== 'internal') {
      const [status, code] = STATUS[err.code];
      throw new HttpError(status, code, err.message);
    }
    throw err;
  }
}
