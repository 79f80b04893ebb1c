// Cross-implementation agreement on tests/vectors/licenses.json (written by scripts/make_vectors.py):
// Python, ethers and Solidity compute the same license digest (EIP-712 struct hash), the same EIP-712
// hash, recover the same signer from the 64-byte compact signature, and agree on the batch Merkle
// root and proofs (the contract recomputes the root when anchoring and checks proofs with
// OpenZeppelin's MerkleProof).
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const data = require("../vectors/licenses.json");
const { KEY_ACCEPTANCE_TYPES, acceptanceDomain } = require("./helpers");

const TYPES = {
  License: [
    { name: "formatVersion", type: "uint16" },
    { name: "licenseType", type: "bytes32" },
    { name: "licenseId", type: "string" },
    { name: "issuerId", type: "bytes32" },
    { name: "validFrom", type: "uint32" },
    { name: "validTo", type: "uint32" },
    { name: "fieldCommitments", type: "bytes32[]" },
  ],
};
const DOMAIN = {
  name: "E-License Registry",
  version: "1",
  chainId: data.chainId,
  verifyingContract: data.licenseRegistry,
};
const OPEN_END = 2n ** 64n - 1n;

function value(vector) {
  return { ...vector.header, fieldCommitments: vector.sortedCommitments };
}

function splitCompact(signature) {
  const sig = ethers.Signature.from(signature);
  return { r: sig.r, vs: sig.yParityAndS };
}

async function deployAtVectorAddresses() {
  const [funder] = await ethers.getSigners();
  const deployer = new ethers.Wallet(data.deployerKey, ethers.provider);
  const signer = new ethers.Wallet(data.signerKey, ethers.provider);
  await funder.sendTransaction({ to: deployer.address, value: ethers.parseEther("10") });
  await funder.sendTransaction({ to: signer.address, value: ethers.parseEther("10") });
  const trust = await ethers.deployContract("TrustRegistry", [deployer.address], deployer);
  const registry = await ethers.deployContract("LicenseRegistry", [await trust.getAddress()], deployer);
  return { deployer, signer, trust, registry };
}

describe("cross-implementation vectors (Python, ethers, Solidity)", function () {
  it("has the vectors the Python suite checks", function () {
    expect(data.vectors.length).to.be.greaterThanOrEqual(4);
  });

  it("ethers computes the same domain separator", function () {
    expect(ethers.TypedDataEncoder.hashDomain(DOMAIN)).to.equal(data.domainSeparator);
  });

  for (const vector of data.vectors) {
    describe(vector.label, function () {
      it("ethers: same digest, EIP-712 hash and signer", function () {
        expect(ethers.TypedDataEncoder.hashStruct("License", TYPES, value(vector))).to.equal(vector.digest);
        expect(ethers.TypedDataEncoder.hash(DOMAIN, TYPES, value(vector))).to.equal(vector.eip712Hash);
        expect(ethers.recoverAddress(vector.eip712Hash, vector.signature)).to.equal(vector.signer);
      });

      it("Solidity: same digest and signer (ecrecover under the contract's domain)", async function () {
        const { registry } = await loadFixture(deployAtVectorAddresses);
        expect(await registry.getAddress()).to.equal(data.licenseRegistry);
        expect(await registry.licenseDigest(vector.header, vector.sortedCommitments)).to.equal(vector.digest);
        const { r, vs } = splitCompact(vector.signature);
        expect(await registry.licenseSigner(vector.digest, r, vs)).to.equal(vector.signer);
      });
    });
  }

  it("Solidity refuses unsorted commitments", async function () {
    const { registry } = await loadFixture(deployAtVectorAddresses);
    const vector = data.vectors[0];
    const reversed = [...vector.sortedCommitments].reverse();
    await expect(registry.licenseDigest(vector.header, reversed))
      .to.be.revertedWithCustomError(registry, "LicenseRegistryCommitmentsNotAscending")
      .withArgs(1);
  });

  it("the contract anchors the Python batch under the Python root and accepts its proofs", async function () {
    const { deployer, signer, trust, registry } = await loadFixture(deployAtVectorAddresses);
    const issuerId = data.vectors[0].header.issuerId;
    await trust.connect(deployer).addRegion(110000, "北京市");
    await trust.connect(deployer).addRegionAuthority(110000, deployer.address);
    await trust.connect(deployer).registerIssuer(issuerId, 110000, "北京市市场监督管理局", ethers.ZeroHash, "");
    const now = BigInt((await ethers.provider.getBlock("latest")).timestamp);
    const domain = { ...acceptanceDomain, verifyingContract: await trust.getAddress() };
    const acceptance = await signer.signTypedData(domain, KEY_ACCEPTANCE_TYPES, { issuerId, key: signer.address });
    await trust.connect(deployer).addKey(issuerId, signer.address, now, OPEN_END, acceptance);

    await expect(registry.connect(signer).anchor(data.batch.root, data.batch.digests))
      .to.emit(registry, "BatchAnchored")
      .withArgs(data.batch.root, issuerId, signer.address, data.batch.digests);
    const anchoredAt = (await registry.getAnchor(issuerId, data.batch.root)).timestamp;

    for (const vector of data.vectors) {
      const proof = data.batch.proofs[vector.digest];
      expect(await registry.isInBatch(data.batch.root, proof, vector.digest)).to.equal(true);
      const { r, vs } = splitCompact(vector.signature);
      // checked as a license of the issuer its header names
      expect(vector.header.issuerId).to.equal(issuerId);
      const check = await registry.checkLicense(vector.header.issuerId, vector.digest, r, vs, data.batch.root, proof);
      expect(check.anchored).to.equal(true);
      expect(check.signer).to.equal(vector.signer);
      expect(check.issuerId).to.equal(issuerId);
      expect(check.keyValidAtAnchor).to.equal(true);
      expect(check.anchoredAt).to.equal(anchoredAt);
      expect(check.status).to.equal(0n);
      // ... and as a license of no issuer, or of another issuer, it is not anchored
      for (const other of [ethers.ZeroHash, ethers.id("another issuer")]) {
        expect(await registry.checkLicense(other, vector.digest, r, vs, data.batch.root, proof)).to.deep.equal([
          false,
          vector.signer,
          ethers.ZeroHash,
          false,
          0n,
          0n,
        ]);
      }
    }
    // a proof of one license does not prove another
    const [a, b] = data.vectors;
    expect(await registry.isInBatch(data.batch.root, data.batch.proofs[a.digest], b.digest)).to.equal(false);

    // revoked: checkLicense reports it
    await registry.connect(signer).revoke(issuerId, [a.digest], 3);
    const { r, vs } = splitCompact(a.signature);
    const check = await registry.checkLicense(
      a.header.issuerId,
      a.digest,
      r,
      vs,
      data.batch.root,
      data.batch.proofs[a.digest],
    );
    expect(check.anchored).to.equal(true);
    expect(check.status).to.equal(2n);
    const status = await registry.getStatus(issuerId, a.digest);
    expect(status.setBy).to.equal(signer.address);
    expect(status.reason).to.equal(3n);
  });
});
