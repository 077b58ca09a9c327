// `npm start`: the runnable example. The multi-service demo mesh will take this place.
await import('./balance/main.ts');
