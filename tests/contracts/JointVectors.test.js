// The shared joint-issuance vectors (tests/vectors/joint.json, written with py-ecc, the reference)
// checked on chain: hash to G2, co-signing key ids and compressed forms, proofs of possession at
// registration (the rogue key's refused), aggregates, bundle digests under the vectors' deployment
// address, and each bundle anchored with its co-signature. JOINT_VECTORS overrides the file's path.

const fs = require("fs");
const path = require("path");
const { ethers, network } = require("hardhat");
const { expect } = require("chai");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");

const { OPEN_END, accept, acceptanceDomain, deployMock } = require("./helpers");
const { bls, G1, SIG_DST, POP_DST, g2FromEip2537 } = require("./helpers/bls");

const VECTORS_PATH = process.env.JOINT_VECTORS || path.join(__dirname, "..", "vectors", "joint.json");
const MISSING = fs.existsSync(VECTORS_PATH) ? null : `the joint-issuance vectors are missing: ${VECTORS_PATH}`;
// a missing file fails (below), it is never skipped; the empty shape only lets this module load
const vectors = MISSING ? { keys: [], aggregates: [], hashToG2: [], bundles: [] } : JSON.parse(fs.readFileSync(VECTORS_PATH, "utf8"));

const utf8 = (s) => ethers.toUtf8Bytes(s);

/** The region (province) of a department: the first two digits of its division, then 0000. */
function regionOf(uscc) {
  return Number(uscc.slice(2, 4) + "0000");
}

/** The contract's JointBundle of a vector bundle. */
function bundleOf(b) {
  return {
    applicationId: b.applicationId,
    applicant: b.applicant.commitment,
    digests: b.members.map((m) => m.digest),
    licenseTypes: b.members.map((m) => m.licenseType),
    issuerIds: b.members.map((m) => m.issuerId),
    departments: b.departments,
  };
}

/**
 * A trust registry with the vectors' departments registered (an authority per region), a
 * LicenseRegistry running at the vectors' address (its code copied there), and the BLS mock.
 */
async function vectorsFixture() {
  const [admin, authority, ...signers] = await ethers.getSigners();
  const { chainId } = await ethers.provider.getNetwork();
  // deployed by the last account, so neither lands at the vectors' address (account 0's first)
  const deployer = signers[signers.length - 1];
  const trust = await ethers.deployContract("TrustRegistry", [admin.address], deployer);
  const deployed = await ethers.deployContract("LicenseRegistry", [await trust.getAddress()], deployer);
  expect([await trust.getAddress(), await deployed.getAddress()]).not.to.include(vectors.licenseRegistry);
  // account 0's first deployment would land at the vectors' address (0x5FbDB...): use that nonce up
  if ((await ethers.provider.getTransactionCount(admin.address)) === 0) {
    await (await admin.sendTransaction({ to: admin.address, value: 0 })).wait();
  }
  await network.provider.send("hardhat_setCode", [vectors.licenseRegistry, await ethers.provider.getCode(deployed)]);
  const registry = await ethers.getContractAt("LicenseRegistry", vectors.licenseRegistry);
  const mock = await deployMock("BLS12381Mock");
  const regions = new Set();
  const departments = vectors.keys.filter((k) => k.uscc);
  const signerOf = new Map();
  for (const [i, k] of departments.entries()) {
    const region = regionOf(k.uscc);
    if (!regions.has(region)) {
      regions.add(region);
      await trust.connect(admin).addRegion(region, `region ${region}`);
      await trust.connect(admin).addRegionAuthority(region, authority.address);
    }
    await trust.connect(authority).registerIssuer(k.issuerId, region, k.label, ethers.ZeroHash, "");
    const signer = signers[i];
    const now = BigInt(await time.latest());
    const domain = { ...acceptanceDomain, verifyingContract: await trust.getAddress() };
    await trust.connect(authority).addKey(k.issuerId, signer.address, now, OPEN_END, accept(k.issuerId, signer.address, { domain }));
    signerOf.set(k.issuerId, signer);
  }
  return { trust, registry, mock, authority, signerOf, chainId, departments };
}

describe("joint-issuance vectors (tests/vectors/joint.json)", function () {
  it("are present (scripts/make_vectors.py writes them)", function () {
    expect(MISSING).to.equal(null);
  });

  beforeEach(async function () {
    Object.assign(this, await loadFixture(vectorsFixture));
  });

  it("are for this chain, the ciphersuite of docs/joint.md, and the registry's EIP-712 domain and types", async function () {
    expect(BigInt(vectors.chainId)).to.equal(this.chainId);
    expect(vectors.ciphersuite).to.equal(SIG_DST);
    expect(vectors.popDst).to.equal(POP_DST);
    const domain = { name: "E-License Registry", version: "1", chainId: this.chainId, verifyingContract: vectors.licenseRegistry };
    expect(ethers.TypedDataEncoder.hashDomain(domain)).to.equal(vectors.domainSeparator);
    const [, name, version, chainId, verifyingContract] = await this.registry.eip712Domain();
    expect([name, version, chainId, verifyingContract]).to.deep.equal(["E-License Registry", "1", this.chainId, vectors.licenseRegistry]);
    expect(await this.registry.JOINT_MEMBER_TYPEHASH()).to.equal(vectors.jointMemberTypehash);
    expect(await this.registry.JOINT_BUNDLE_TYPEHASH()).to.equal(vectors.jointBundleTypehash);
  });

  describe("hash to G2", function () {
    for (const [i, h] of vectors.hashToG2.entries()) {
      it(`vector ${i}: ${h.dst.slice(0, 8)}, ${ethers.dataLength(h.message)}-byte message`, async function () {
        expect(await this.mock.hashToG2(h.message, utf8(h.dst))).to.equal(h.point);
        expect(ethers.hexlify(g2FromEip2537(h.point).toRawBytes(true))).to.equal(h.compressed);
      });
    }
  });

  describe("co-signing keys and proofs of possession", function () {
    for (const k of vectors.keys) {
      it(`${k.label}: key id, compressed form, proof ${k.proofOfPossessionValid ? "accepted" : "refused"} at registration`, async function () {
        expect(await this.trust.coSigningKeyId(k.publicKeyEip2537)).to.equal(k.keyId);
        expect(await this.mock.compressG1(k.publicKeyEip2537)).to.equal(k.publicKey);
        expect(ethers.hexlify(g2FromEip2537(k.proofOfPossessionEip2537).toRawBytes(true))).to.equal(k.proofOfPossession);
        expect(await this.mock.verify(k.publicKeyEip2537, k.publicKey, utf8(POP_DST), k.proofOfPossessionEip2537)).to.equal(
          k.proofOfPossessionValid,
        );
        // the rogue key is offered for its victim's department, by that department's authority
        const issuerId = k.issuerId || vectors.keys[k.victim].issuerId;
        const now = BigInt(await time.latest());
        const add = this.trust
          .connect(this.authority)
          .addCoSigningKey(issuerId, k.publicKeyEip2537, k.proofOfPossessionEip2537, now, OPEN_END);
        if (k.proofOfPossessionValid) {
          await expect(add).to.emit(this.trust, "CoSigningKeyAdded").withArgs(issuerId, k.keyId, k.publicKeyEip2537, now, OPEN_END);
        } else {
          await expect(add).to.be.revertedWithCustomError(this.trust, "TrustRegistryInvalidProofOfPossession").withArgs(k.keyId);
        }
      });
    }
  });

  describe("aggregates", function () {
    for (const a of vectors.aggregates) {
      it(`${a.label}: FastAggregateVerify is ${a.fastAggregateVerify}`, async function () {
        let sum = `0x${"00".repeat(128)}`;
        for (const i of a.keys) {
          const [valid, next] = await this.mock.g1Add(sum, vectors.keys[i].publicKeyEip2537);
          expect(valid).to.be.true;
          sum = next;
        }
        const expectedSum = a.keys.reduce((s, i) => s.add(G1.fromHex(vectors.keys[i].publicKey.slice(2))), G1.ZERO);
        expect(ethers.hexlify(G1.fromAffine(expectedSum.toAffine()).toRawBytes(true))).to.equal(await this.mock.compressG1(sum));
        expect(await this.mock.verify(sum, a.message, utf8(SIG_DST), a.aggregateEip2537)).to.equal(a.fastAggregateVerify);
        expect(ethers.hexlify(g2FromEip2537(a.aggregateEip2537).toRawBytes(true))).to.equal(a.aggregate);
        // `valid` adds the proofs of possession: what the registry accepts
        expect(a.valid).to.equal(a.fastAggregateVerify && a.keys.every((i) => vectors.keys[i].proofOfPossessionValid));
      });
    }
  });

  describe("bundles", function () {
    for (const b of vectors.bundles) {
      it(`${b.label}: the digest, and the bundle anchored with its co-signature`, async function () {
        const bundle = bundleOf(b);
        expect(await this.registry.jointBundleDigest(bundle)).to.equal(b.bundleDigest);
        for (const m of b.members) {
          expect(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(
            ["bytes32", "bytes32", "bytes32", "bytes32"],
            [vectors.jointMemberTypehash, m.digest, m.licenseType, m.issuerId],
          ))).to.equal(m.memberHash);
        }
        // register the co-signing keys and permit the types, then anchor
        const now = BigInt(await time.latest());
        const keys = b.coSignature.keys.map((i) => vectors.keys[i]);
        for (const k of keys) {
          await this.trust.connect(this.authority).addCoSigningKey(k.issuerId, k.publicKeyEip2537, k.proofOfPossessionEip2537, now, OPEN_END);
        }
        for (const m of b.members) await this.trust.connect(this.authority).permitLicenseType(m.issuerId, m.licenseType, now, OPEN_END);
        expect(ethers.concat(keys.map((k) => k.publicKeyEip2537))).to.equal(b.coSignature.publicKeys);
        expect(keys.map((k) => k.issuerId)).to.deep.equal(b.departments);
        const sender = this.signerOf.get(b.departments[0]);
        await expect(this.registry.connect(sender).anchorJoint(bundle, b.coSignature.publicKeys, b.coSignature.aggregateEip2537))
          .to.emit(this.registry, "JointAnchored")
          .withArgs(
            b.bundleDigest,
            b.applicationId,
            sender.address,
            b.applicant.commitment,
            bundle.digests,
            bundle.licenseTypes,
            bundle.issuerIds,
            bundle.departments,
            keys.map((k) => k.keyId),
          );
        expect(ethers.keccak256(utf8(b.applicationIdText))).to.equal(b.applicationId);
      });
    }
  });
});
