/** The part of the test helpers that runs outside vitest (in the queue crash test's child process). */
import { createWalletClient, http, publicActions, type Account } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';

export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export function testAccount(index: number): Account {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

/** A wallet client with public actions on anvil's chain id; viem's own transport retries are off so ours are tested. */
export function testClient(account: Account, url: string) {
  return createWalletClient({ account, chain: foundry, transport: http(url, { retryCount: 0 }) }).extend(publicActions);
}
