// Cross-implementation agreement on tests/vectors/licenses.json (written by scripts/make_vectors.py):
// Python, ethers and Solidity compute the same license digest (EIP-712 struct hash), the same EIP-712
// hash, recover the same signer from the 64-byte compact signature, and agree on the batch Merkle
// root and proofs (the contract recomputes the root when anchoring and checks proofs with
// OpenZeppelin's MerkleProof); and on the invalid vectors (a flipped byte, the high-s twin, another
// EIP-712 domain, another signer), none of them attributes the signature to the issuer.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-network-helpers");
const data = require("../vectors/licenses.json");
const { KEY_ACCEPTANCE_TYPES, acceptanceDomain, deployMock } = require("./helpers");

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
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const INVALID = data.invalidVectors;

function value(vector) {
  return { ...vector.header, fieldCommitments: vector.sortedCommitments };
}

function splitCompact(signature) {
  const sig = ethers.Signature.from(signature);
  return { r: sig.r, vs: sig.yParityAndS };
}

/** `(r, vs)` of a 64-byte signature as they are, without ethers' normalisation. */
function splitRaw(signature) {
  return { r: ethers.dataSlice(signature, 0, 32), vs: ethers.dataSlice(signature, 32, 64) };
}

/** The valid vector an invalid one is a signature of. */
function baseOf(vector) {
  return data.vectors.find((v) => v.label === vector.of);
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

/** Register the vectors' issuer (region 110000, the deployer its authority) with the signer as its key. */
async function registerVectorIssuer({ deployer, signer, trust }) {
  const issuerId = data.vectors[0].header.issuerId;
  await trust.connect(deployer).addRegion(110000, "北京市");
  await trust.connect(deployer).addRegionAuthority(110000, deployer.address);
  await trust.connect(deployer).registerIssuer(issuerId, 110000, "北京市市场监督管理局", ethers.ZeroHash, "");
  const now = BigInt((await ethers.provider.getBlock("latest")).timestamp);
  const domain = { ...acceptanceDomain, verifyingContract: await trust.getAddress() };
  const acceptance = await signer.signTypedData(domain, KEY_ACCEPTANCE_TYPES, { issuerId, key: signer.address });
  await trust.connect(deployer).addKey(issuerId, signer.address, now, OPEN_END, acceptance);
  return issuerId;
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
    const issuerId = await registerVectorIssuer({ deployer, signer, trust });

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

describe("invalid vectors: no implementation attributes the signature to the issuer", function () {
  it("has the kinds the Python suite checks", function () {
    const labels = INVALID.map((v) => v.label);
    for (const kind of ["flipped byte", "high s", "another verifying contract", "another name", "another chain id"]) {
      expect(labels.some((l) => l.includes(kind)), kind).to.equal(true);
    }
    expect(labels.some((l) => l.startsWith("wrong issuer"))).to.equal(true);
    expect(new Set(INVALID.map((v) => v.expect))).to.deep.equal(new Set(["signer_mismatch", "unrecoverable"]));
  });

  for (const vector of INVALID) {
    describe(vector.label, function () {
      it("ethers: the recorded outcome under the registry's domain", function () {
        const base = baseOf(vector);
        expect([vector.digest, vector.eip712Hash, vector.signer]).to.deep.equal([base.digest, base.eip712Hash, base.signer]);
        expect(ethers.TypedDataEncoder.hash(DOMAIN, TYPES, value(base))).to.equal(vector.eip712Hash);
        if (vector.expect === "unrecoverable") {
          expect(vector.recovered).to.equal(null);
          // no curve point has x = r
          expect(() => ethers.recoverAddress(vector.eip712Hash, vector.signature)).to.throw(/square root/);
          expect(() => ethers.verifyTypedData(DOMAIN, TYPES, value(base), vector.signature)).to.throw(/square root/);
        } else {
          expect(vector.expect).to.equal("signer_mismatch");
          expect(vector.recovered).to.not.equal(vector.signer);
          expect(ethers.recoverAddress(vector.eip712Hash, vector.signature)).to.equal(vector.recovered);
          expect(ethers.verifyTypedData(DOMAIN, TYPES, value(base), vector.signature)).to.equal(vector.recovered);
        }
        if (vector.signedDomain) {
          // the issuer did sign it, under the domain it names
          expect(ethers.TypedDataEncoder.hashDomain(vector.signedDomain)).to.equal(vector.signedDomainSeparator);
          expect(vector.signedDomainSeparator).to.not.equal(data.domainSeparator);
          expect(ethers.verifyTypedData(vector.signedDomain, TYPES, value(base), vector.signature)).to.equal(vector.signer);
        }
      });

      it("Solidity: the recorded outcome of licenseSigner (OpenZeppelin's ECDSA)", async function () {
        const { registry } = await loadFixture(deployAtVectorAddresses);
        const { r, vs } = splitRaw(vector.signature);
        if (vector.expect === "unrecoverable") {
          await expect(registry.licenseSigner(vector.digest, r, vs)).to.be.revertedWithCustomError(
            registry,
            "ECDSAInvalidSignature",
          );
        } else {
          expect(await registry.licenseSigner(vector.digest, r, vs)).to.equal(vector.recovered);
        }
      });
    });
  }

  it("Solidity: a LicenseRegistry at the other verifying contract recovers the issuer from the signature made for it", async function () {
    const { deployer, trust, registry } = await loadFixture(deployAtVectorAddresses);
    const other = await ethers.deployContract("LicenseRegistry", [await trust.getAddress()], deployer);
    expect(await other.getAddress()).to.equal(data.otherLicenseRegistry);
    const vector = INVALID.find((v) => v.signedDomain && v.signedDomain.verifyingContract === data.otherLicenseRegistry);
    const base = baseOf(vector);
    const forOther = splitRaw(vector.signature);
    const forRegistry = splitRaw(base.signature);
    expect(await other.licenseSigner(vector.digest, forOther.r, forOther.vs)).to.equal(vector.signer);
    expect(await registry.licenseSigner(vector.digest, forOther.r, forOther.vs)).to.equal(vector.recovered);
    expect(await other.licenseSigner(base.digest, forRegistry.r, forRegistry.vs)).to.not.equal(base.signer);
  });

  it("the high-s twin: the ecrecover precompile returns the issuer, OpenZeppelin's ECDSA and ethers refuse it", async function () {
    const vector = INVALID.find((v) => v.signature65 !== undefined);
    const base = baseOf(vector);
    const probe = await deployMock("SignatureRecovery");
    const valid = ethers.Signature.from(base.signature);
    const twin = ethers.getBytes(vector.signature65);
    const [r, s, v] = [ethers.dataSlice(twin, 0, 32), ethers.dataSlice(twin, 32, 64), twin[64]];
    expect(r).to.equal(valid.r);
    expect(BigInt(s)).to.equal(SECP256K1_N - BigInt(valid.s));
    expect(BigInt(s) > SECP256K1_N / 2n).to.equal(true);
    expect(v).to.equal(valid.v === 27 ? 28 : 27);

    // the precompile accepts both s values of a signature ...
    expect(await probe.ecrecoverRaw(vector.eip712Hash, valid.v, valid.r, valid.s)).to.equal(base.signer);
    expect(await probe.ecrecoverRaw(vector.eip712Hash, v, r, s)).to.equal(vector.ecrecover65);
    expect(vector.ecrecover65).to.equal(base.signer);
    // ... OpenZeppelin's ECDSA (as the registry uses it) only the low one, and ethers too
    expect(await probe.recover(vector.eip712Hash, valid.serialized)).to.equal(base.signer);
    expect(vector.openzeppelin65).to.deep.equal({ error: "ECDSAInvalidSignatureS", s });
    await expect(probe.recover(vector.eip712Hash, vector.signature65))
      .to.be.revertedWithCustomError(probe, vector.openzeppelin65.error)
      .withArgs(vector.openzeppelin65.s);
    expect(() => ethers.recoverAddress(vector.eip712Hash, vector.signature65)).to.throw(/non-canonical s/);
    // as 64 compact bytes, the top bit of n - s is read as the y parity: another address
    expect(ethers.dataSlice(vector.signature65, 0, 64)).to.equal(vector.signature);
    const compact = splitRaw(vector.signature);
    expect(await probe.recoverCompact(vector.eip712Hash, compact.r, compact.vs)).to.equal(vector.recovered);
  });

  it("checkLicense of an anchored license with an invalid signature: never the anchoring key", async function () {
    const ctx = await loadFixture(deployAtVectorAddresses);
    const issuerId = await registerVectorIssuer(ctx);
    await ctx.registry.connect(ctx.signer).anchor(data.batch.root, data.batch.digests);
    for (const vector of INVALID) {
      const proof = data.batch.proofs[vector.digest];
      const { r, vs } = splitRaw(vector.signature);
      const call = ctx.registry.checkLicense(issuerId, vector.digest, r, vs, data.batch.root, proof);
      if (vector.expect === "unrecoverable") {
        await expect(call).to.be.revertedWithCustomError(ctx.registry, "ECDSAInvalidSignature");
      } else {
        const check = await call;
        expect(check.anchored).to.equal(true);
        expect(check.signer).to.equal(vector.recovered);
        expect(check.issuerId).to.equal(issuerId);
        expect(check.keyValidAtAnchor).to.equal(false);
      }
    }
  });
});
