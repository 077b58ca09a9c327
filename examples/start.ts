// `npm start`: the shop demo, a small mesh of Weft services (see examples/shop/main.ts).
await import('./shop/main.ts');
