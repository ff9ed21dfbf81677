// The vendored bundle only registers tfjs-core's gradients and chained tensor methods on import; it exports nothing.
// This declaration keeps the declaration bundler from inlining the 9,000-line JavaScript file into the published .d.ts.
export {};
