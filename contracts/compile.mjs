// Compiles contracts/src/*.sol with the pinned npm solc and writes
// contracts/build/<Contract>.json ({abi, bytecode, deployedBytecode}).
// Run through `make generate`; the output is committed and CI checks it is
// up to date.
import fs from "node:fs";
import path from "node:path";
import solc from "solc";

const root = path.dirname(new URL(import.meta.url).pathname);
const srcDir = path.join(root, "src");
const outDir = path.join(root, "build");
const sources = {};
for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort()) {
  sources[f] = { content: fs.readFileSync(path.join(srcDir, f), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
for (const e of out.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);
fs.mkdirSync(outDir, { recursive: true });
for (const file of Object.keys(out.contracts).sort()) {
  for (const name of Object.keys(out.contracts[file]).sort()) {
    const c = out.contracts[file][name];
    const artifact = {
      contractName: name,
      sourceName: file,
      compiler: "solc " + solc.version(),
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
    };
    fs.writeFileSync(path.join(outDir, name + ".json"), JSON.stringify(artifact, null, 2) + "\n");
    console.log("wrote", path.join("contracts/build", name + ".json"));
  }
}
