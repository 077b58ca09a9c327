// `npm start`: the shop demo, a small mesh of Weft services (see examples/shop/main.ts).
// The config service serves the dashboard from its bundle: built first when missing or stale.
const { buildUi } = await import('../packages/control-plane/ui/build.mjs');
await buildUi({ ifStale: true });
await import('./shop/main.ts');
