/** Bundles the dashboard into dist/ui; with `ifStale`, only when a source is newer than the bundle. */
export function buildUi(options?: { ifStale?: boolean }): Promise<void>;
