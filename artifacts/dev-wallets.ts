// The well-known development accounts of the local chain (Hardhat's mnemonic).
import { HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";

export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** The dev account that pays the fees of the serving node `npm start` runs (the demo deposits for it). */
export const SERVING_PROVIDER_ACCOUNT = 7;

/** Development account i of the Hardhat node (never use these keys anywhere else). */
export function devWallet(i: number, provider?: JsonRpcProvider): Wallet {
  const hd = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`);
  return new Wallet(hd.privateKey, provider);
}
