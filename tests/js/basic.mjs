// The basic flow from a real JavaScript client (ethers v6): chain id, a
// native transfer, an ERC-20 deploy + transfer + balanceOf, logs by topic,
// several transactions in flight with nonces managed by ethers.
// Usage: SAHARA_RPC=http://127.0.0.1:8545 SAHARA_KEY=0x... node tests/js/basic.mjs
import fs from "node:fs";
import path from "node:path";
import { ethers } from "ethers";

const rpc = process.env.SAHARA_RPC;
const key = process.env.SAHARA_KEY;
const wantChainId = BigInt(process.env.SAHARA_CHAIN_ID || "4817293");
if (!rpc || !key) {
  console.error("set SAHARA_RPC and SAHARA_KEY");
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const artifact = JSON.parse(fs.readFileSync(path.join(root, "contracts/build/SaharaToken.json"), "utf8"));

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log("ok  ", name);
  } catch (e) {
    failed++;
    console.log("FAIL", name, "-", e && e.message ? e.message : e);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// ethers shares identical calls made within 250 ms (cacheTimeout). On a chain
// that includes a transaction within that time, the next transaction's
// eth_getTransactionCount("pending") would get the answer from before the
// first one, and a nonce already used: turn the cache off, as any client of a
// fast chain should.
const provider = new ethers.JsonRpcProvider(rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
const wallet = new ethers.Wallet(key, provider);

await check("chain id", async () => {
  const net = await provider.getNetwork();
  assert(net.chainId === wantChainId, `chainId ${net.chainId}, want ${wantChainId}`);
});

await check("native transfer", async () => {
  const to = ethers.Wallet.createRandom().address;
  const tx = await wallet.sendTransaction({ to, value: ethers.parseEther("1.5") });
  const r = await tx.wait();
  assert(r.status === 1, "receipt status " + r.status);
  const bal = await provider.getBalance(to);
  assert(bal === ethers.parseEther("1.5"), "recipient balance " + bal);
});

let token;
await check("ERC-20 deploy", async () => {
  const f = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet);
  token = await f.deploy("JS Token", "JST", ethers.parseEther("1000"));
  await token.waitForDeployment();
  assert((await token.symbol()) === "JST", "symbol");
  assert((await token.balanceOf(wallet.address)) === ethers.parseEther("1000"), "owner balance");
});

await check("ERC-20 transfer, balanceOf and logs by topic", async () => {
  const to = ethers.Wallet.createRandom().address;
  const gas = await token.transfer.estimateGas(to, 7n);
  assert(gas > 21000n && gas < 100000n, "estimateGas " + gas);
  const r = await (await token.transfer(to, 7n)).wait();
  assert((await token.balanceOf(to)) === 7n, "recipient token balance");
  const logs = await token.queryFilter(token.filters.Transfer(null, to), r.blockNumber, r.blockNumber);
  assert(logs.length === 1 && logs[0].args.value === 7n, "Transfer log by topic: " + logs.length);
});

await check("several transactions in flight", async () => {
  const to = ethers.Wallet.createRandom().address;
  const count = async (tag) => BigInt(await provider.send("eth_getTransactionCount", [wallet.address, tag]));
  const start = await count("pending");
  // ethers caches identical provider calls for ~250 ms, so back-to-back
  // wallet.sendTransaction calls would reuse a nonce on any node (and its
  // NonceManager seeds itself from that cache too); count from the node's
  // uncached pending nonce instead.
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push(await wallet.sendTransaction({ to, value: 1n, nonce: Number(start) + i }));
  const nonces = sent.map((t) => BigInt(t.nonce));
  assert(new Set(nonces).size === 5 && nonces[0] === start, "nonces " + nonces);
  // The node's own pending count (uncached) covers all five at once.
  assert((await count("pending")) === start + 5n, "pending nonce while in flight");
  await Promise.all(sent.map((t) => t.wait()));
  assert((await provider.getBalance(to)) === 5n, "recipient got all five");
  assert((await count("latest")) === start + 5n, "nonce after mining");
});

await check("revert reason on call", async () => {
  const stranger = ethers.Wallet.createRandom().connect(provider);
  try {
    await token.connect(stranger).transfer.staticCall(wallet.address, 1n);
    throw new Error("call did not revert");
  } catch (e) {
    assert(/InsufficientBalance|revert/i.test(String(e.shortMessage || e.message)), "error " + e.message);
  }
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
