// The user's own wallet (EIP-1193, injected as window.ethereum) signs the
// withdrawal: requestWithdrawal(account) queues it on L1, a batch consumes it
// and moves the balance to `claimable`, and claim(address) pays it out.
// Calldata is encoded here (two fixed signatures); receipts are awaited
// through the wallet's own provider.

const REQUEST_WITHDRAWAL = "9ee679e8"; // requestWithdrawal(uint256)
const CLAIM = "1e83409a"; // claim(address)
const word = (x) => BigInt(x).toString(16).padStart(64, "0");

export function hasWallet() {
  return typeof window.ethereum?.request === "function";
}

/** The wallet's selected account, after asking it to connect; checks it is on the rollup's chain. */
export async function connectWallet(chainId) {
  if (!hasWallet()) throw new Error("no browser wallet found (EIP-1193 window.ethereum): install one to withdraw from this page, or use `poa withdraw`");
  const [account] = await window.ethereum.request({ method: "eth_requestAccounts" });
  const walletChain = BigInt(await window.ethereum.request({ method: "eth_chainId" }));
  if (walletChain !== BigInt(chainId)) throw new Error(`the wallet is on chain ${walletChain}; the rollup is on chain ${chainId}: switch networks in the wallet`);
  return account.toLowerCase();
}

async function send(from, to, data) {
  const hash = await window.ethereum.request({ method: "eth_sendTransaction", params: [{ from, to, data }] });
  for (;;) {
    const receipt = await window.ethereum.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (receipt) {
      if (receipt.status !== "0x1") throw new Error(`transaction ${hash} reverted`);
      return hash;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const requestWithdrawal = (from, rollup, accountIndex) => send(from, rollup, `0x${REQUEST_WITHDRAWAL}${word(accountIndex)}`);
export const claim = (from, rollup) => send(from, rollup, `0x${CLAIM}${word(from)}`);
