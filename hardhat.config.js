// Hardhat configuration for the e-license registry contracts.
//
// The compiler is the exactly pinned `solc` npm package (solc-js), so compiling
// never downloads anything: the subtask that would fetch a compiler build is
// overridden to return the local soljson.js when the versions match.
require("@nomicfoundation/hardhat-toolbox");

const path = require("path");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  const solc = require("solc");
  const installed = solc.version().replace(/\.Emscripten\.clang$/, "");
  if (args.solcVersion === SOLC_VERSION && installed.startsWith(SOLC_VERSION + "+")) {
    return {
      version: SOLC_VERSION,
      longVersion: installed,
      compilerPath: path.join(path.dirname(require.resolve("solc")), "soljson.js"),
      isSolcJs: true,
    };
  }
  return runSuper(args);
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
    },
  },
  networks: {
    // Prague: the EIP-2537 BLS12-381 precompiles that joint anchors need, and the EVM the
    // in-process chain (py-evm PragueVM) and consortium chains run (Hardhat 2.29 would default to Osaka)
    hardhat: { hardfork: "prague" },
  },
  paths: {
    sources: "./contracts",
    tests: "./tests/contracts",
    cache: "./build/hardhat-cache",
    artifacts: "./build/artifacts",
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "1",
    offline: true,
    currency: "USD",
  },
  mocha: { timeout: 60000 },
};
