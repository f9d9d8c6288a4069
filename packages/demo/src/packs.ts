/** One entry of `<assetBase>packs/index.json` (written by scripts/make-base-pack.mjs at set-up). */
export interface PackEntry {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Pack directory, relative to the index. */
  readonly path: string;
  /** Preview image, relative to the index. */
  readonly preview: string;
}

/** The packs the server lists; an empty list when there is no index (the base generator still runs). */
export async function listPacks(indexUrl: string): Promise<PackEntry[]> {
  try {
    const response = await fetch(indexUrl, { cache: 'no-cache' });
    if (!response.ok) return [];
    const index = (await response.json()) as { packs?: PackEntry[] };
    return Array.isArray(index.packs) ? index.packs : [];
  } catch {
    return [];
  }
}
