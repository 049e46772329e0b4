import type { Database, Snapshot } from '../../shared/model.js';
import type { EstateReader, HistoryStore } from '../../shared/report/ports.js';

/** A report bucket in memory: what was put, with its content type. */
export const memoryHistory = (
  initial: Record<string, string> = {},
): HistoryStore & { objects: Map<string, { body: string; contentType: string }> } => {
  const objects = new Map(
    Object.entries(initial).map(([k, body]) => [k, { body, contentType: 'application/json' }]),
  );
  return {
    objects,
    location: 's3://memory',
    list: async (prefix) =>
      [...objects.keys()]
        .filter((k) => k.startsWith(prefix))
        .sort()
        .map((key) => ({ key })),
    get: async (key) => objects.get(key)?.body,
    put: async (key, body, contentType) => void objects.set(key, { body, contentType }),
    href: (key) => `https://console.example/${key}`,
  };
};

/** An EstateReader over fixed data. */
export const fixedEstate = (region: string, databases: Database[], snapshots: Snapshot[]): EstateReader => ({
  region,
  databases: async () => databases,
  snapshots: async () => snapshots,
});
