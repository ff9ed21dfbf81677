/**
 * `provenant/chain` — the optional EVM adapter (viem). Kept out of the core entry point so that apps that never touch a
 * chain never load viem.
 */
export {};
