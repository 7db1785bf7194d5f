// Whether the model a prompt goes to takes images, as its server lists it (GET /v1/models/{id}
// `capabilities`; docs/conversations.md "Attachments"): asked once per model, only once an
// image is attached. undefined: not known (the server lists nothing, or could not be asked).

import { useEffect, useState } from 'react';
import type { Api } from '../../../../../src/client/api.js';

const known = new Map<string, string[] | null>();

export function useModelCapabilities(api: Api | undefined, model: string | undefined, wanted: boolean): string[] | undefined {
  const [capabilities, setCapabilities] = useState<string[] | undefined>(() => (model ? (known.get(model) ?? undefined) : undefined));
  useEffect(() => {
    if (!api || !model || !wanted) return setCapabilities(undefined);
    if (known.has(model)) return setCapabilities(known.get(model) ?? undefined);
    const controller = new AbortController();
    void api
      .fetch(`${api.base}/v1/models/${encodeURI(model)}`, { signal: controller.signal })
      .then(async (response) => {
        const body = response.ok ? ((await response.json()) as { capabilities?: unknown }) : {};
        const list = Array.isArray(body.capabilities) ? body.capabilities.filter((c): c is string => typeof c === 'string') : null;
        known.set(model, list);
        if (!controller.signal.aborted) setCapabilities(list ?? undefined);
      })
      .catch(() => undefined);
    return () => controller.abort();
  }, [api, model, wanted]);
  return capabilities;
}

/** The composer's warning for images to a model without vision: the server's words (model_lacks_vision). */
export function visionWarning(model: string | undefined, capabilities: string[] | undefined): string | null {
  if (!model || !capabilities || capabilities.includes('vision')) return null;
  return `${model} does not take images (its model server lists: ${capabilities.join(', ') || 'nothing'}). Pick a model that has vision, or remove the image.`;
}
