export * from './quality/index.js';
export * from './convex/index.js';
