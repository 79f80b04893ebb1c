// Shared fixtures and helpers of the contract tests.
//
// - `deployFixture`: TrustRegistry (admin) + LicenseRegistry linked to it, region 110000 with an
//   authority, an issuer with a signing key valid from now, open-ended; plus a second region
//   (310000) with its own authority, issuer and key, used for "another issuer" / "another region".
//   Issuer ids are unified social credit codes of the right region (`usccId`).
// - `accept(issuerId, key)`: the key's EIP-712 acceptance that `addKey` / `rotateKey` require,
//   signed synchronously with the Hardhat accounts' private keys (so it fits in the `(o) => ...`
//   senders of `inOneBlock`); "0x" for an address with no known private key.
// - A JS Merkle tree identical to `LicenseRegistry._merkleRoot` (sorted-pair keccak over the leaves
//   `keccak256(digest)`, an odd last node carried up unchanged) with proofs in OpenZeppelin
//   `MerkleProof` format, and a JS `processProof` that mirrors OpenZeppelin's.
// - Test-only contracts under ../mocks (a wrapper around OpenZeppelin's MerkleProof, a call
//   forwarder acting as a contract key, a window on the BLS12381 library), compiled here with the
//   pinned, local solc-js (no download), because Hardhat only compiles ./contracts; a mock imports
//   the project's sources as "contracts/...".
// - BLS12-381 keys and signatures (@noble/curves): ./bls.js; joint bundles and their fixture: ./joint.js.
// - `inOneBlock` mines several transactions in one block (automine off, then `evm_mine`), and
//   `outcomeOf` replays a mined transaction's revert data (debug_traceTransaction) so that
//   `revertedWithCustomError(...).withArgs(...)` can check a transaction that reverted inside such a
//   block.

const fs = require("fs");
const path = require("path");
const { ethers, network } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");

const OPEN_END = 2n ** 64n - 1n;
const REGION = 110000;
const REGION_NAME = "北京市";
const OTHER_REGION = 310000;
const OTHER_REGION_NAME = "上海市";

/** An issuer id: the credit code in ASCII, left-aligned, zero-padded to 32 bytes. */
function usccId(code) {
  return ethers.encodeBytes32String(code);
}

const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** A credit code of a government body ("11") in `division`, with its GB 32100 check character. */
function makeUscc(division, org = "MA0000000") {
  const body = `11${String(division).padStart(6, "0")}${org}`;
  if (body.length !== 17) throw new Error("the organisation part must be 9 characters");
  const total = [...body].reduce((sum, c, i) => sum + USCC_ALPHABET.indexOf(c) * USCC_WEIGHTS[i], 0);
  return body + USCC_ALPHABET[(31 - (total % 31)) % 31];
}

// valid GB 32100 codes (check characters included): Beijing has division 110000, Shanghai 310000
const ISSUER_USCC = "11110000MB0195560T";
const OTHER_ISSUER_USCC = "11310000000012345Y";
const ISSUER_ID = usccId(ISSUER_USCC);
const ISSUER_NAME = "北京市市场监督管理局";
const PROFILE_HASH = ethers.id("profile v1");
const PROFILE_URI = "https://example.gov.cn/issuers/110000-amr.json";

const OTHER_ISSUER_ID = usccId(OTHER_ISSUER_USCC);
const OTHER_ISSUER_NAME = "上海市市场监督管理局";
const OTHER_PROFILE_HASH = ethers.id("other profile v1");
const OTHER_PROFILE_URI = "https://example.gov.cn/issuers/310000-amr.json";

const LICENSE_TYPE = ethers.id("license-type:business-license");

/** License status enum of ILicenseRegistry. */
const Status = { Active: 0n, Suspended: 1n, Revoked: 2n, Superseded: 3n };

async function deployFixture() {
  const [admin, authority, otherAuthority, key, otherKey, spareKey, newKey, stranger, ...rest] =
    await ethers.getSigners();

  const trust = await ethers.deployContract("TrustRegistry", [admin.address]);
  acceptanceDomain.verifyingContract = await trust.getAddress();
  const registry = await ethers.deployContract("LicenseRegistry", [await trust.getAddress()]);

  const FEDERATION_ADMIN_ROLE = await trust.FEDERATION_ADMIN_ROLE();
  const DEFAULT_ADMIN_ROLE = await trust.DEFAULT_ADMIN_ROLE();

  await trust.connect(admin).addRegion(REGION, REGION_NAME);
  await trust.connect(admin).addRegionAuthority(REGION, authority.address);
  await trust.connect(authority).registerIssuer(ISSUER_ID, REGION, ISSUER_NAME, PROFILE_HASH, PROFILE_URI);
  const keyValidFrom = BigInt(await time.latest());
  await trust.connect(authority).addKey(ISSUER_ID, key.address, keyValidFrom, OPEN_END, accept(ISSUER_ID, key.address));

  await trust.connect(admin).addRegion(OTHER_REGION, OTHER_REGION_NAME);
  await trust.connect(admin).addRegionAuthority(OTHER_REGION, otherAuthority.address);
  await trust
    .connect(otherAuthority)
    .registerIssuer(OTHER_ISSUER_ID, OTHER_REGION, OTHER_ISSUER_NAME, OTHER_PROFILE_HASH, OTHER_PROFILE_URI);
  const otherKeyValidFrom = BigInt(await time.latest());
  await trust
    .connect(otherAuthority)
    .addKey(OTHER_ISSUER_ID, otherKey.address, otherKeyValidFrom, OPEN_END, accept(OTHER_ISSUER_ID, otherKey.address));

  return {
    trust,
    registry,
    admin,
    authority,
    otherAuthority,
    key,
    otherKey,
    spareKey,
    newKey,
    stranger,
    accounts: rest,
    keyValidFrom,
    otherKeyValidFrom,
    FEDERATION_ADMIN_ROLE,
    DEFAULT_ADMIN_ROLE,
  };
}

/**
 * `loadFixture(fixture)`, with the next block one second after the fixture's last block. Hardhat
 * restores a snapshot with its clock offset, so the next block would otherwise come as late after
 * the fixture's last block as the wall-clock time the run has taken since the fixture was built:
 * on a slow machine, tests that schedule blocks relative to `time.latest()` would find the chain
 * already past them.
 */
async function loadFixtureNow(fixture) {
  const ctx = await loadFixture(fixture);
  await time.setNextBlockTimestamp(BigInt(await time.latest()) + 1n);
  return ctx;
}

// ------------------------------------------------------------------------------------------------
// Key acceptances (EIP-712 `KeyAcceptance(bytes32 issuerId,address key)` of the trust registry)
// ------------------------------------------------------------------------------------------------

/** The trust registry's EIP-712 domain; `verifyingContract` is the fixture's trust registry. */
const acceptanceDomain = { name: "E-License Trust Registry", version: "1", chainId: 31337, verifyingContract: undefined };
const KEY_ACCEPTANCE_TYPES = {
  KeyAcceptance: [
    { name: "issuerId", type: "bytes32" },
    { name: "key", type: "address" },
  ],
};

/** Private signing keys of the Hardhat network's accounts, by lower-case address. */
const signingKeys = (() => {
  const config = network.config.accounts;
  const mnemonic = (config && config.mnemonic) || "test test test test test test test test test test test junk";
  const count = (config && config.count) || 20;
  const root = ethers.HDNodeWallet.fromPhrase(mnemonic, undefined, "m/44'/60'/0'/0");
  const keys = new Map();
  for (let i = 0; i < count; ++i) {
    const wallet = root.deriveChild(i);
    keys.set(wallet.address.toLowerCase(), wallet.signingKey);
  }
  return keys;
})();

/** The ethers SigningKey of a Hardhat account (or a remembered wallet), undefined when unknown. */
function signingKeyOf(address) {
  return signingKeys.get(String(address).toLowerCase());
}

/** Let `accept` sign for `wallet` too (an ethers Wallet made by a test). */
function rememberKey(wallet) {
  signingKeys.set(wallet.address.toLowerCase(), wallet.signingKey);
  return wallet;
}

/** The EIP-712 digest an acceptance signs (as `TrustRegistry.keyAcceptanceDigest`). */
function acceptanceDigest(issuerId, key, domain = acceptanceDomain) {
  return ethers.TypedDataEncoder.hash(domain, KEY_ACCEPTANCE_TYPES, { issuerId, key });
}

/**
 * `key`'s acceptance of becoming a key of `issuerId` (65-byte signature, hex), signed by `by`
 * (default: the key itself; a contract key's owner for ERC-1271) under `domain` (default: the
 * fixture's trust registry). "0x" when the signer's private key is unknown (the zero address, a
 * contract): such a call reverts unless it fails earlier for another reason.
 */
function accept(issuerId, key, { by = key, domain = acceptanceDomain } = {}) {
  const signingKey = signingKeys.get(String(by).toLowerCase());
  if (signingKey === undefined) return "0x";
  return signingKey.sign(acceptanceDigest(issuerId, key, domain)).serialized;
}

// ------------------------------------------------------------------------------------------------
// Merkle tree (same shape as LicenseRegistry._merkleRoot)
// ------------------------------------------------------------------------------------------------

/** Leaf of a digest: keccak256 of its 32 bytes. */
function leafOf(digest) {
  return ethers.keccak256(digest);
}

/** Sorted-pair keccak, as OpenZeppelin's `Hashes.commutativeKeccak256`. */
function hashPair(a, b) {
  return BigInt(a) < BigInt(b) ? ethers.keccak256(ethers.concat([a, b])) : ethers.keccak256(ethers.concat([b, a]));
}

function assertAscending(digests) {
  if (digests.length === 0) throw new Error("empty batch");
  let previous = 0n;
  digests.forEach((d, i) => {
    const v = BigInt(d);
    if (v <= previous) throw new Error(`digests not strictly ascending at index ${i}`);
    previous = v;
  });
}

/** All levels of the tree, leaves first, root last (`levels[levels.length - 1][0]`). */
function merkleLevels(digests) {
  assertAscending(digests);
  const levels = [digests.map(leafOf)];
  while (levels[levels.length - 1].length > 1) {
    const level = levels[levels.length - 1];
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashPair(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    levels.push(next);
  }
  return levels;
}

function merkleRoot(digests) {
  const levels = merkleLevels(digests);
  return levels[levels.length - 1][0];
}

/** Proof of `digests[index]`: the sibling at each level, none where the node is carried up. */
function merkleProof(digests, index, levels = merkleLevels(digests)) {
  if (index < 0 || index >= digests.length) throw new Error("index out of range");
  const proof = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; ++l) {
    const sibling = i ^ 1;
    if (sibling < levels[l].length) proof.push(levels[l][sibling]);
    i >>= 1;
  }
  return proof;
}

/** OpenZeppelin `MerkleProof.processProof`, in JS. */
function processProof(proof, leaf) {
  return proof.reduce((computed, node) => hashPair(computed, node), leaf);
}

function verifyProof(proof, root, leaf) {
  return processProof(proof, leaf) === root;
}

// ------------------------------------------------------------------------------------------------
// Digests
// ------------------------------------------------------------------------------------------------

/** `count` distinct non-zero pseudo-random digests in strictly ascending order. */
function makeDigests(count, seed = "batch") {
  const digests = [];
  for (let i = 0; i < count; ++i) digests.push(ethers.id(`${seed}:${i}`));
  return digests.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

/** A fresh batch: its ascending digests and their root. */
function makeBatch(count, seed = "batch") {
  const digests = makeDigests(count, seed);
  return { digests, root: merkleRoot(digests) };
}

// ------------------------------------------------------------------------------------------------
// On-chain OpenZeppelin MerkleProof (test-only contract compiled with the local solc-js)
// ------------------------------------------------------------------------------------------------

const mockArtifacts = {};

/** Compile tests/contracts/mocks/<name>.sol with the local solc-js (same settings as Hardhat's). */
function compileMock(name) {
  if (mockArtifacts[name]) return mockArtifacts[name];
  const solc = require("solc");
  const file = path.join(__dirname, "..", "mocks", `${name}.sol`);
  const input = {
    language: "Solidity",
    sources: { [`${name}.sol`]: { content: fs.readFileSync(file, "utf8") } },
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const findImports = (importPath) => {
    try {
      // the project's own sources ("contracts/..."), then packages (OpenZeppelin)
      if (importPath.startsWith("contracts/")) {
        return { contents: fs.readFileSync(path.join(__dirname, "..", "..", "..", importPath), "utf8") };
      }
      return { contents: fs.readFileSync(require.resolve(importPath), "utf8") };
    } catch (e) {
      return { error: String(e) };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const contract = output.contracts[`${name}.sol`][name];
  mockArtifacts[name] = { abi: contract.abi, bytecode: "0x" + contract.evm.bytecode.object };
  return mockArtifacts[name];
}

async function deployMock(name) {
  const { abi, bytecode } = compileMock(name);
  const [deployer] = await ethers.getSigners();
  const contract = await new ethers.ContractFactory(abi, bytecode, deployer).deploy();
  await contract.waitForDeployment();
  return contract;
}

/** OpenZeppelin MerkleProof on chain: `verify(proof, root, leaf)`, `processProof(proof, leaf)`. */
function deployMerkleProofVerifier() {
  return deployMock("MerkleProofVerifier");
}

/** A contract account that forwards calls (`forward(target, data)`), bubbling reverts up. */
function deployForwarder() {
  return deployMock("Forwarder");
}

// ------------------------------------------------------------------------------------------------
// Keys that are not valid now
// ------------------------------------------------------------------------------------------------

/** The ways a key of the issuer can be not valid now (see `makeInvalidKey`). */
const INVALID_KEY_KINDS = ["an expired key", "a retired key", "a key not valid yet", "a compromised key"];

/**
 * Make `ctx.spareKey` a key of ISSUER_ID that is not valid now (nor in the next block), in the way
 * named by `kind` (one of INVALID_KEY_KINDS), and return it.
 */
async function makeInvalidKey(ctx, kind) {
  const { trust, authority, spareKey } = ctx;
  const now = BigInt(await time.latest());
  switch (kind) {
    case "an expired key":
      await trust.connect(authority).addKey(ISSUER_ID, spareKey.address, now, now + 10n, accept(ISSUER_ID, spareKey.address));
      await time.increase(20);
      break;
    case "a retired key":
      await trust.connect(authority).addKey(ISSUER_ID, spareKey.address, now, OPEN_END, accept(ISSUER_ID, spareKey.address));
      await trust.connect(authority).retireKey(ISSUER_ID, spareKey.address);
      // a retired key stays valid through the second of its retirement: let that second pass
      await time.increase(1);
      break;
    case "a key not valid yet":
      await trust.connect(authority).addKey(ISSUER_ID, spareKey.address, now + 1000n, OPEN_END, accept(ISSUER_ID, spareKey.address));
      break;
    case "a compromised key":
      await trust.connect(authority).addKey(ISSUER_ID, spareKey.address, now, OPEN_END, accept(ISSUER_ID, spareKey.address));
      await time.increase(10);
      await trust.connect(authority).declareKeyCompromised(ISSUER_ID, spareKey.address, now + 1n);
      break;
    default:
      throw new Error(`unknown kind ${kind}`);
  }
  return spareKey;
}

// ------------------------------------------------------------------------------------------------
// Misc
// ------------------------------------------------------------------------------------------------

/** Timestamp of the block that mined `tx`. */
async function txTimestamp(tx) {
  const receipt = await tx.wait();
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  return BigInt(block.timestamp);
}

/**
 * The events `contract` emitted in transaction `tx` (a response, or a promise of one), in log order,
 * each as `[name, ...args]`: for asserting the exact sequence of events, which `.to.emit` cannot.
 */
async function eventsOf(contract, tx) {
  const receipt = await (await tx).wait();
  const address = (await contract.getAddress()).toLowerCase();
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === address)
    .map((log) => {
      const event = contract.interface.parseLog(log);
      return [event.name, ...event.args.toArray(true)];
    });
}

/** Fix the next block's timestamp at `latest + delta` and return it. */
async function nextTimestamp(delta = 1n) {
  const ts = BigInt(await time.latest()) + BigInt(delta);
  await time.setNextBlockTimestamp(ts);
  return ts;
}

// ------------------------------------------------------------------------------------------------
// Several transactions in one block
// ------------------------------------------------------------------------------------------------

/** Gas limit given to each transaction of `inOneBlock` (so none is estimated, nor refused by estimation). */
const ONE_BLOCK_GAS_LIMIT = 1_000_000n;

/**
 * Send the transactions of `sends` (functions `(overrides) => contract.connect(..).fn(..., overrides)`)
 * with automine off, then mine them all in ONE block (at `timestamp` if given), in that order.
 * Transactions that revert are mined too (status 0): see `outcomeOf`. Returns the responses, the
 * receipts, and the block's number and timestamp.
 */
async function inOneBlock(sends, timestamp) {
  const responses = [];
  await network.provider.send("evm_setAutomine", [false]);
  try {
    for (const send of sends) responses.push(await send({ gasLimit: ONE_BLOCK_GAS_LIMIT }));
    if (timestamp !== undefined) await time.setNextBlockTimestamp(timestamp);
    await network.provider.send("evm_mine", []);
  } finally {
    await network.provider.send("evm_setAutomine", [true]);
  }
  const receipts = await Promise.all(responses.map((r) => ethers.provider.getTransactionReceipt(r.hash)));
  const blockNumber = receipts[0].blockNumber;
  receipts.forEach((receipt, i) => {
    if (receipt.blockNumber !== blockNumber || receipt.index !== i) {
      throw new Error(`transaction ${i} was mined at ${receipt.blockNumber}:${receipt.index}, not ${blockNumber}:${i}`);
    }
  });
  const block = await ethers.provider.getBlock(blockNumber);
  if (block.transactions.length !== sends.length) throw new Error("the block holds other transactions");
  return { responses, receipts, blockNumber, timestamp: BigInt(block.timestamp) };
}

/**
 * The outcome of the mined transaction `response`: resolves to it when it succeeded, rejects with
 * its revert data (replayed with debug_traceTransaction) when it reverted, as a transaction sent
 * alone would; for `expect(outcomeOf(tx)).to.be.revertedWithCustomError(...).withArgs(...)`.
 */
async function outcomeOf(response) {
  const trace = await network.provider.send("debug_traceTransaction", [
    response.hash,
    { disableStorage: true, disableMemory: true, disableStack: true },
  ]);
  if (!trace.failed) return response;
  const returnValue = trace.returnValue.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`;
  const error = new Error(`transaction ${response.hash} reverted`);
  error.data = returnValue;
  throw error;
}

module.exports = {
  OPEN_END,
  REGION,
  REGION_NAME,
  OTHER_REGION,
  OTHER_REGION_NAME,
  ISSUER_USCC,
  OTHER_ISSUER_USCC,
  usccId,
  makeUscc,
  accept,
  rememberKey,
  signingKeyOf,
  acceptanceDigest,
  acceptanceDomain,
  KEY_ACCEPTANCE_TYPES,
  ISSUER_ID,
  ISSUER_NAME,
  PROFILE_HASH,
  PROFILE_URI,
  OTHER_ISSUER_ID,
  OTHER_ISSUER_NAME,
  OTHER_PROFILE_HASH,
  OTHER_PROFILE_URI,
  LICENSE_TYPE,
  Status,
  deployFixture,
  loadFixtureNow,
  INVALID_KEY_KINDS,
  makeInvalidKey,
  leafOf,
  hashPair,
  merkleLevels,
  merkleRoot,
  merkleProof,
  processProof,
  verifyProof,
  makeDigests,
  makeBatch,
  compileMock,
  deployMock,
  deployMerkleProofVerifier,
  deployForwarder,
  txTimestamp,
  eventsOf,
  nextTimestamp,
  inOneBlock,
  outcomeOf,
};
