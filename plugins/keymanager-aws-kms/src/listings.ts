/**
 * KMS's Marker-paged listings as async iterables: every alias (ListAliases,
 * 100 a page, the service's maximum) and every key (ListKeys, 1000 a page),
 * as SPIRE pages them. A failed page ends the listing with its error.
 */
import { type AliasListEntry, type KMSClient, type KeyListEntry, ListAliasesCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { callSignal } from "./aws-clients.js";

export function listAliases(kms: KMSClient, signal?: AbortSignal): AsyncGenerator<AliasListEntry> {
  return paged(async (Marker) => {
    const page = await kms.send(new ListAliasesCommand({ Limit: 100, ...(Marker ? { Marker } : {}) }), { abortSignal: callSignal(signal) });
    return { items: page.Aliases, truncated: page.Truncated, next: page.NextMarker };
  }, signal);
}

export function listKeys(kms: KMSClient, signal?: AbortSignal): AsyncGenerator<KeyListEntry> {
  return paged(async (Marker) => {
    const page = await kms.send(new ListKeysCommand({ Limit: 1000, ...(Marker ? { Marker } : {}) }), { abortSignal: callSignal(signal) });
    return { items: page.Keys, truncated: page.Truncated, next: page.NextMarker };
  }, signal);
}

async function* paged<T>(
  fetch: (marker: string | undefined) => Promise<{ items: T[] | undefined; truncated: boolean | undefined; next: string | undefined }>,
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  let marker: string | undefined;
  do {
    const page = await fetch(marker);
    yield* page.items ?? [];
    marker = page.truncated ? page.next : undefined;
  } while (marker && !signal?.aborted);
}
