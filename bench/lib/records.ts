export interface UpstreamRecord {
  prompt: string;
  receivedAt: number;
  clientGoneAt?: number;
  closedAt?: number;
  completed: boolean;
  tokensSent: number;
}

/** The upstream's record of one request, once it has closed (epoch ms). */
export async function closedRecord(control: string, prompt: string, timeoutMs = 10_000): Promise<UpstreamRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${control}/records?prompt=${encodeURIComponent(prompt)}`);
    const [record] = (await res.json()) as UpstreamRecord[];
    if (record?.closedAt !== undefined) return record;
    if (Date.now() > deadline) throw new Error(`upstream request ${prompt} not closed within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
